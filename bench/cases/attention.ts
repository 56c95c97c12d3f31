/** ViT multi-head attention softmax(q·kᵀ/√dh)·v on [B, H, L, dh] (src/ops/attention.ts); backward = dq, dk, dv. */
import { attention, attentionTokens } from '../../src/ops/attention.js';
import { rand } from '../data.js';
import { bwd, disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function attentionCase(B: number, H: number, L: number, dh: number, mode: 'forward' | 'backward'): BenchCase {
  const scale = 1 / Math.sqrt(dh);
  return {
    kernel: mode === 'forward' ? 'multi-head attention' : 'multi-head attention backward',
    name: `B=${B} H=${H} L=${L} dh=${dh}`,
    bound: 'compute',
    prepare(c) {
      const n = B * H * L * dh;
      const Q = rand(n, 101);
      const K = rand(n, 102);
      const V = rand(n, 103);
      const DO = rand(n, 104);
      const shape = [B, H, L, dh];
      const q = up(c, Q, shape);
      const k = up(c, K, shape);
      const v = up(c, V, shape);
      const dO = up(c, DO, shape);
      const att = () => attention(q, k, v);
      return {
        flops: (mode === 'forward' ? 4 : 8) * B * H * L * L * dh,
        bytes: 4 * n * (mode === 'forward' ? 4 : 7),
        ours: mode === 'forward' ? fwd(att) : bwd([q, k, v], att, dO),
        tf: (tf) => {
          const tq = tf.tensor4d(Q, shape as [number, number, number, number]);
          const tk = tf.tensor4d(K, shape as [number, number, number, number]);
          const tv = tf.tensor4d(V, shape as [number, number, number, number]);
          const tdo = tf.tensor4d(DO, shape as [number, number, number, number]);
          const P = tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale));
          const run =
            mode === 'forward'
              ? () => tf.matMul(tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale)), tv)
              : () => {
                  const dv = tf.matMul(P, tdo, true, false);
                  const dP = tf.matMul(tdo, tv, false, true);
                  const dS = tf.mul(tf.mul(P, tf.sub(dP, tf.sum(tf.mul(P, dP), -1, true))), scale);
                  return [tf.matMul(dS, tk), tf.matMul(dS, tq, true, false), dv];
                };
          return { run, dispose: () => tf.dispose([tq, tk, tv, tdo, P]) };
        },
        dispose: disposeAll(q, k, v, dO),
      };
    },
  };
}

/**
 * The ViT's attention as it runs now: attentionTokens on the token-major [B, L, H, dh] (src/ops/attention-plan.ts;
 * the form is the tuner's choice, printed in the variant column). TF.js gets the same layout and transposes.
 */
export function attentionTokensCase(B: number, H: number, L: number, dh: number, mode: 'forward' | 'backward'): BenchCase {
  const scale = 1 / Math.sqrt(dh);
  return {
    kernel: mode === 'forward' ? 'multi-head attention, token-major' : 'multi-head attention backward, token-major',
    name: `B=${B} H=${H} L=${L} dh=${dh}`,
    bound: 'compute',
    prepare(c) {
      const n = B * H * L * dh;
      const [Q, K, V, DO] = [rand(n, 101), rand(n, 102), rand(n, 103), rand(n, 104)];
      const shape = [B, L, H, dh];
      const [q, k, v, dO] = [Q, K, V, DO].map((a) => up(c, a, shape)) as [
        ReturnType<typeof up>,
        ReturnType<typeof up>,
        ReturnType<typeof up>,
        ReturnType<typeof up>,
      ];
      const att = () => attentionTokens(q, k, v, { scale });
      return {
        flops: (mode === 'forward' ? 4 : 8) * B * H * L * L * dh,
        bytes: 4 * n * (mode === 'forward' ? 4 : 7),
        ours: mode === 'forward' ? fwd(att) : bwd([q, k, v], att, dO),
        tf: (tf) => {
          const t4 = (a: Float32Array) => tf.transpose(tf.tensor4d(a, shape as [number, number, number, number]), [0, 2, 1, 3]);
          const [tq, tk, tv, tdo] = [t4(Q), t4(K), t4(V), t4(DO)];
          const back = (x: Parameters<typeof tf.transpose>[0]) => tf.transpose(x, [0, 2, 1, 3]);
          const P = tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale));
          const run =
            mode === 'forward'
              ? () => back(tf.matMul(tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale)), tv))
              : () => {
                  const dv = tf.matMul(P, tdo, true, false);
                  const dP = tf.matMul(tdo, tv, false, true);
                  const dS = tf.mul(tf.mul(P, tf.sub(dP, tf.sum(tf.mul(P, dP), -1, true))), scale);
                  return [back(tf.matMul(dS, tk)), back(tf.matMul(dS, tq, true, false)), back(dv)];
                };
          return { run, dispose: () => tf.dispose([tq, tk, tv, tdo, P]) };
        },
        dispose: disposeAll(q, k, v, dO),
      };
    },
  };
}
