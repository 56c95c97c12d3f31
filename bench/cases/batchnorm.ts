/** BatchNorm2d in training mode over NCHW [N, C, H, W] (src/ops/batchnorm.ts); backward = dx. TF.js normalises NHWC. */
import { batchNorm2d } from '../../src/ops/batchnorm.js';
import { nchwToNhwc, nhwcToNchw, rand } from '../data.js';
import { bwd, disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function batchNormCase(N: number, C: number, H: number, W: number, mode: 'forward' | 'backward'): BenchCase {
  const eps = 1e-5;
  return {
    kernel: mode === 'forward' ? 'batch norm' : 'batch norm backward',
    name: `[${N}, ${C}, ${H}, ${W}] train`,
    bound: 'memory',
    prepare(c) {
      const X = rand(N * C * H * W, 41, -2, 3);
      const G = rand(C, 42, 0.5, 1.5);
      const Bt = rand(C, 43);
      const DY = rand(N * C * H * W, 44);
      const x = up(c, X, [N, C, H, W]);
      const g = up(c, G, [C]);
      const b = up(c, Bt, [C]);
      const rm = up(c, new Float32Array(C), [C]);
      const rv = up(c, new Float32Array(C).fill(1), [C]);
      const dy = up(c, DY, [N, C, H, W]);
      const bn = () => batchNorm2d(x, g, b, rm, rv, { training: true, eps });
      const n = N * C * H * W;
      return {
        bytes: 4 * n * (mode === 'forward' ? 2 : 3),
        ours: mode === 'forward' ? fwd(bn) : bwd([x], bn, dy),
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, N, C, H, W), [N, H, W, C]);
          const tg = tf.tensor1d(G);
          const tb = tf.tensor1d(Bt);
          const tdy = tf.tensor4d(nchwToNhwc(DY, N, C, H, W), [N, H, W, C]);
          const { mean, variance } = tf.moments(tx, [0, 1, 2]);
          const run =
            mode === 'forward'
              ? () => {
                  const m = tf.moments(tx, [0, 1, 2]);
                  return tf.batchNorm(tx, m.mean, m.variance, tb, tg, eps);
                }
              : () => {
                  // dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)), means over N, H, W
                  const rstd = tf.rsqrt(tf.add(variance, eps));
                  const xhat = tf.mul(tf.sub(tx, mean), rstd);
                  const mdy = tf.mean(tdy, [0, 1, 2]);
                  const mdyx = tf.mean(tf.mul(tdy, xhat), [0, 1, 2]);
                  return tf.mul(tf.mul(tg, rstd), tf.sub(tf.sub(tdy, mdy), tf.mul(xhat, mdyx)));
                };
          return { run, toOurs: (v) => nhwcToNchw(v, N, H, W, C), dispose: () => tf.dispose([tx, tg, tb, tdy, mean, variance]) };
        },
        dispose: disposeAll(x, g, b, rm, rv, dy),
      };
    },
  };
}
