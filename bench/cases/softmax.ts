/** Row-wise softmax over [R, C] (src/ops/softmax.ts), forward or backward (dx = y ⊙ (dy − Σ dy⊙y)). */
import { softmax } from '../../src/ops/softmax.js';
import { rand } from '../data.js';
import { bwd, disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function softmaxCase(R: number, C: number, mode: 'forward' | 'backward'): BenchCase {
  return {
    kernel: mode === 'forward' ? 'softmax' : 'softmax backward',
    name: `[${R}, ${C}]`,
    bound: 'memory',
    prepare(c) {
      const X = rand(R * C, 21, -4, 4);
      const DY = rand(R * C, 22);
      const x = up(c, X, [R, C]);
      const dy = up(c, DY, [R, C]);
      const sm = () => softmax(x);
      return {
        bytes: 4 * R * C * (mode === 'forward' ? 2 : 3),
        flops: R * C * (mode === 'forward' ? 5 : 4),
        ours: mode === 'forward' ? fwd(sm) : bwd([x], sm, dy),
        tf: (tf) => {
          const tx = tf.tensor2d(X, [R, C]);
          const tdy = tf.tensor2d(DY, [R, C]);
          const ty = tf.softmax(tx);
          const run =
            mode === 'forward'
              ? () => tf.softmax(tx)
              : () => {
                  const dyy = tf.mul(tdy, ty);
                  return tf.sub(dyy, tf.mul(tf.sum(dyy, -1, true), ty));
                };
          return { run, dispose: () => tf.dispose([tx, tdy, ty]) };
        },
        dispose: disposeAll(x, dy),
      };
    },
  };
}
