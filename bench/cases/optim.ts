/**
 * One optimiser step (src/optim/: SGD with momentum, AdamW) over a
 * ResNet-18-sized ParamSet; TF.js: the same update as tensor ops on
 * variables.
 */
import { ParamSet } from '../../src/nn/params.js';
import { AdamW, SGD } from '../../src/optim/index.js';
import { rand } from '../data.js';
import { prod } from './helpers.js';
import type { BenchCase } from './types.js';

/** ResNet-18 (CIFAR) parameter shapes, 11.17 M parameters. */
function resnet18Shapes(): number[][] {
  const s: number[][] = [[64, 3, 3, 3], [64], [64]];
  let cin = 64;
  for (const [cout, stride] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ] as const) {
    for (let blk = 0; blk < 2; blk++) {
      const ci = blk === 0 ? cin : cout;
      s.push([cout, ci, 3, 3], [cout], [cout], [cout, cout, 3, 3], [cout], [cout]);
      if (blk === 0 && (stride !== 1 || ci !== cout)) s.push([cout, ci, 1, 1], [cout], [cout]);
    }
    cin = cout;
  }
  s.push([10, 512], [10]);
  return s;
}

export function optimCase(kind: 'AdamW' | 'SGD'): BenchCase {
  return {
    kernel: kind === 'AdamW' ? 'adamw step' : 'sgd momentum step',
    name: 'ResNet-18 params (11.2 M)',
    bound: 'memory',
    prepare(c) {
      const shapes = resnet18Shapes();
      const specs = shapes.map((shape, i) => ({ name: `p${i}`, shape, init: rand(prod(shape), 200 + i, -0.1, 0.1) }));
      const n = shapes.reduce((a, s) => a + prod(s), 0);
      const set = new ParamSet(c.engine, specs, 'bench');
      const G = specs.map((s, i) => rand(s.init.length, 300 + i, -0.01, 0.01));
      set.grads.forEach((g, i) => g.write(G[i]!));
      const lr = 0.01;
      const wd = kind === 'AdamW' ? 0.05 : 5e-4;
      const opt = kind === 'AdamW' ? new AdamW([{ params: set, lr, weightDecay: wd }]) : new SGD([{ params: set, lr, momentum: 0.9, weightDecay: wd }]);
      return {
        // AdamW: read p, g, m, v; write p, m, v. SGD: read p, g, buf; write p, buf.
        bytes: 4 * n * (kind === 'AdamW' ? 7 : 5),
        flops: n * (kind === 'AdamW' ? 12 : 5),
        ours: {
          run: () => {
            opt.step();
            return set.params.slice(0, 1);
          },
          after: () => {},
        },
        tf: (tf) => {
          // The same update rule as TF.js tensor ops on variables (the first
          // call, the checked one, starts from the same state as ours did).
          const P = specs.map((s) => tf.variable(tf.tensor(s.init, s.shape)));
          const Gt = specs.map((s, i) => tf.tensor(G[i]!, s.shape));
          const M = specs.map((s) => tf.variable(tf.zeros(s.shape)));
          const V = specs.map((s) => tf.variable(tf.zeros(s.shape)));
          let t = 0;
          const b1 = 0.9;
          const b2 = 0.999;
          const run = () => {
            t++;
            for (let i = 0; i < P.length; i++) {
              if (kind === 'AdamW') {
                const m = tf.add(tf.mul(M[i]!, b1), tf.mul(Gt[i]!, 1 - b1));
                const v = tf.add(tf.mul(V[i]!, b2), tf.mul(tf.square(Gt[i]!), 1 - b2));
                const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - b2 ** t)), 1e-8);
                const p = tf.sub(tf.mul(P[i]!, 1 - lr * wd), tf.mul(tf.div(m, denom), lr / (1 - b1 ** t)));
                M[i]!.assign(m);
                V[i]!.assign(v);
                P[i]!.assign(p);
              } else {
                const d = tf.add(Gt[i]!, tf.mul(P[i]!, wd));
                const buf = t === 1 ? d : tf.add(tf.mul(M[i]!, 0.9), d);
                M[i]!.assign(buf);
                P[i]!.assign(tf.sub(P[i]!, tf.mul(buf, lr)));
              }
            }
            return tf.clone(P[0]!);
          };
          return { run, dispose: () => tf.dispose([...P, ...Gt, ...M, ...V]) };
        },
        dispose: () => {
          opt.dispose();
          set.dispose();
        },
      };
    },
  };
}
