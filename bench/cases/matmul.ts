/** matmul [n, n] × [n, n] (src/ops/matmul.ts); its tuned configuration shows in the variant column. */
import { matmul } from '../../src/ops/matmul.js';
import { rand } from '../data.js';
import { disposeAll, fwd, onlyOnGpu, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function matmulCase(n: number): BenchCase {
  return {
    kernel: 'matmul',
    name: `${n}³`,
    bound: 'compute',
    skip: n >= 2048 ? onlyOnGpu : undefined,
    prepare(c) {
      const A = rand(n * n, 1);
      const B = rand(n * n, 2);
      const a = up(c, A, [n, n]);
      const b = up(c, B, [n, n]);
      return {
        flops: 2 * n ** 3,
        bytes: 3 * 4 * n * n,
        ours: fwd(() => matmul(a, b)),
        tf: (tf) => {
          const ta = tf.tensor2d(A, [n, n]);
          const tb = tf.tensor2d(B, [n, n]);
          return { run: () => tf.matMul(ta, tb), dispose: () => tf.dispose([ta, tb]) };
        },
        dispose: disposeAll(a, b),
      };
    },
  };
}
