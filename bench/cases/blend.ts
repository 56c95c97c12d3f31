/** The batch blends of src/ops/blend.ts: mixup and the masked blend of a batch with its permutation, [N, C, H, W]. */
import { maskedBlend, mixup } from '../../src/ops/blend.js';
import { rand } from '../data.js';
import { disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function blendCase(kind: 'mixup' | 'maskedBlend', N: number, C: number, H: number, W: number): BenchCase {
  return {
    kernel: kind === 'mixup' ? 'mixup' : 'masked blend',
    name: `[${N}, ${C}, ${H}, ${W}]`,
    bound: 'memory',
    prepare(c) {
      const n = N * C * H * W;
      const X = rand(n, 121);
      const M = rand(N * H * W, 122, 0, 1);
      const perm = Int32Array.from({ length: N }, (_, i) => (i * 7 + 3) % N);
      const x = up(c, X, [N, C, H, W]);
      const m = up(c, M, [N, 1, H, W]);
      const p = up(c, perm, [N]);
      const lam = 0.3;
      return {
        bytes: 4 * (3 * n + (kind === 'maskedBlend' ? N * H * W : 0)),
        ours: fwd(() => (kind === 'mixup' ? mixup(x, p, lam) : maskedBlend(x, m, p))),
        tf: (tf) => {
          const tx = tf.tensor4d(X, [N, C, H, W]);
          const tm = tf.tensor4d(M, [N, 1, H, W]);
          const tp = tf.tensor1d(perm, 'int32');
          const run =
            kind === 'mixup'
              ? () => tf.add(tf.mul(tx, lam), tf.mul(tf.gather(tx, tp), 1 - lam))
              : () => tf.add(tf.mul(tf.sub(1, tm), tx), tf.mul(tm, tf.gather(tx, tp)));
          return { run, dispose: () => tf.dispose([tx, tm, tp]) };
        },
        dispose: disposeAll(x, m, p),
      };
    },
  };
}
