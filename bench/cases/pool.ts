/** Pooling over NCHW (src/ops/pool.ts); TF.js pools NHWC. */
import { avgPool2d, globalAvgPool, maxPool2d } from '../../src/ops/pool.js';
import { nchwToNhwc, nhwcToNchw, rand } from '../data.js';
import { disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

/** k×k max or average pooling with stride k. */
export function poolCase(kind: 'max' | 'avg', N: number, C: number, H: number, W: number, k: number): BenchCase {
  const Ho = H / k;
  const Wo = W / k;
  return {
    kernel: `${kind} pool`,
    name: `[${N}, ${C}, ${H}, ${W}] k=${k}`,
    bound: 'memory',
    prepare(c) {
      const X = rand(N * C * H * W, 81);
      const x = up(c, X, [N, C, H, W]);
      const pool = kind === 'max' ? maxPool2d : avgPool2d;
      return {
        bytes: 4 * (N * C * H * W + N * C * Ho * Wo),
        ours: fwd(() => pool(x, k)),
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, N, C, H, W), [N, H, W, C]);
          const run = kind === 'max' ? () => tf.maxPool(tx, k, k, 'valid') : () => tf.avgPool(tx, k, k, 'valid');
          return { run, toOurs: (v) => nhwcToNchw(v, N, Ho, Wo, C), dispose: () => tf.dispose(tx) };
        },
        dispose: disposeAll(x),
      };
    },
  };
}

/** The mean over H and W: [N, C, H, W] → [N, C]. */
export function globalAvgPoolCase(N: number, C: number, H: number, W: number): BenchCase {
  return {
    kernel: 'global avg pool',
    name: `[${N}, ${C}, ${H}, ${W}]`,
    bound: 'memory',
    prepare(c) {
      const X = rand(N * C * H * W, 81);
      const x = up(c, X, [N, C, H, W]);
      return {
        bytes: 4 * (N * C * H * W + N * C),
        ours: fwd(() => globalAvgPool(x)),
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, N, C, H, W), [N, H, W, C]);
          return { run: () => tf.mean(tx, [1, 2]), dispose: () => tf.dispose(tx) };
        },
        dispose: disposeAll(x),
      };
    },
  };
}
