/**
 * The AutoMix Mix Block's attention (src/ops/mix-block-attention.ts, docs/method.md §2.2): from features z [N, C, S, S] and π, the
 * shared 1×1 query/key projection C→d, the 1×1 value projection of z[π]
 * C→1, A = softmax(Q·K/√d) over the partner's L = S² positions and the mask
 * logits s = A·v: [N, 1, S, S]. Backward (docs/method.md §2.3): the gradients of the
 * four projection parameters (none flows to z). TF.js: the same steps as
 * tensor ops on NHWC features, the backward written out from the saved A, Q,
 * K, v as TF.js's own gradients would compute it.
 */
import { mixBlockLogits } from '../../src/ops/mix-block-attention.js';
import { nchwToNhwc, rand } from '../data.js';
import { bwd, disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function mixBlockCase(N: number, C: number, S: number, mode: 'forward' | 'backward'): BenchCase {
  const d = C / 2;
  const L = S * S;
  const scale = 1 / Math.sqrt(d);
  const projFlops = 2 * N * L * C * (2 * d + 1);
  const attnFlops = 2 * N * L * L * d + 2 * N * L * L;
  return {
    kernel: mode === 'forward' ? 'mix block attention' : 'mix block attention backward',
    name: `${S}×${S} N=${N} C=${C} d=${d}`,
    bound: 'compute',
    prepare(c) {
      const Z = rand(N * C * L, 111);
      const Wq = rand(d * C, 112, -0.1, 0.1);
      const Bq = rand(d, 113, -0.1, 0.1);
      const Wv = rand(C, 114, -0.1, 0.1);
      const Bv = rand(1, 115, -0.1, 0.1);
      const DS = rand(N * L, 116);
      const perm = Int32Array.from({ length: N }, (_, i) => (i * 37 + 11) % N);
      const z = up(c, Z, [N, C, S, S]);
      const p = up(c, perm, [N]);
      const wq = up(c, Wq, [d, C]);
      const bq = up(c, Bq, [d]);
      const wv = up(c, Wv, [1, C]);
      const bv = up(c, Bv, [1]);
      const ds = up(c, DS, [N, 1, S, S]);
      const mb = () => mixBlockLogits(z, p, wq, bq, wv, bv, {});
      return {
        // backward: the attention part twice (dA, dQ, dK) plus the weight gradients
        flops: mode === 'forward' ? projFlops + attnFlops : projFlops + 2 * attnFlops,
        bytes: 4 * (N * C * L * 2 + d * C + N * L),
        ours: mode === 'forward' ? fwd(mb) : bwd([wq, bq, wv, bv], mb, ds),
        tf: (tf) => {
          const zt = tf.tensor4d(nchwToNhwc(Z, N, C, S, S), [N, S, S, C]);
          const tp = tf.tensor1d(perm, 'int32');
          const twq = tf.tensor2d(Wq, [d, C]);
          const tbq = tf.tensor1d(Bq);
          const twv = tf.tensor2d(Wv, [1, C]);
          const tbv = tf.tensor1d(Bv);
          const tds = tf.tensor3d(DS, [N, L, 1]);
          const forward = () => {
            const za = tf.reshape(zt, [N * L, C]);
            const zb = tf.reshape(tf.gather(zt, tp), [N * L, C]);
            const Q = tf.reshape(tf.add(tf.matMul(za, twq, false, true), tbq), [N, L, d]);
            const K = tf.reshape(tf.add(tf.matMul(zb, twq, false, true), tbq), [N, L, d]);
            const v = tf.reshape(tf.add(tf.matMul(zb, twv, false, true), tbv), [N, L, 1]);
            const A = tf.softmax(tf.mul(tf.matMul(Q, K, false, true), scale));
            return { za, zb, Q, K, v, A, s: tf.matMul(A, v) };
          };
          const saved = forward();
          const run =
            mode === 'forward'
              ? () => tf.reshape(forward().s, [N, 1, S, S])
              : () => {
                  const { za, zb, Q, K, v, A } = saved;
                  const dv = tf.matMul(A, tds, true, false); // [N, L, 1]
                  const dA = tf.matMul(tds, v, false, true); // [N, L, L]
                  const dU = tf.mul(tf.mul(A, tf.sub(dA, tf.sum(tf.mul(A, dA), -1, true))), scale);
                  const dQ = tf.reshape(tf.matMul(dU, K), [N * L, d]);
                  const dK = tf.reshape(tf.matMul(dU, Q, true, false), [N * L, d]);
                  const dWq = tf.add(tf.matMul(dQ, za, true, false), tf.matMul(dK, zb, true, false));
                  const dBq = tf.add(tf.sum(dQ, 0), tf.sum(dK, 0));
                  const dv2 = tf.reshape(dv, [N * L, 1]);
                  return [dWq, dBq, tf.matMul(dv2, zb, true, false), tf.sum(dv2, 0)];
                };
          return { run, dispose: () => tf.dispose([zt, tp, twq, tbq, twv, tbv, tds, ...Object.values(saved)]) };
        },
        dispose: disposeAll(z, p, wq, bq, wv, bv, ds),
      };
    },
  };
}
