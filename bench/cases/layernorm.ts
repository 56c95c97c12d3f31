/** LayerNorm over the last axis of [B, L, D] (src/ops/layernorm.ts); backward = dx. */
import { layerNorm } from '../../src/ops/layernorm.js';
import { rand } from '../data.js';
import { bwd, disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function layerNormCase(B: number, L: number, D: number, mode: 'forward' | 'backward'): BenchCase {
  const eps = 1e-5;
  return {
    kernel: mode === 'forward' ? 'layer norm' : 'layer norm backward',
    name: `[${B}, ${L}, ${D}]`,
    bound: 'memory',
    prepare(c) {
      const n = B * L * D;
      const X = rand(n, 51, -2, 3);
      const G = rand(D, 52, 0.5, 1.5);
      const Bt = rand(D, 53);
      const DY = rand(n, 54);
      const x = up(c, X, [B, L, D]);
      const g = up(c, G, [D]);
      const b = up(c, Bt, [D]);
      const dy = up(c, DY, [B, L, D]);
      const ln = () => layerNorm(x, g, b, eps);
      return {
        bytes: 4 * n * (mode === 'forward' ? 2 : 3),
        ours: mode === 'forward' ? fwd(ln) : bwd([x], ln, dy),
        tf: (tf) => {
          const tx = tf.tensor3d(X, [B, L, D]);
          const tg = tf.tensor1d(G);
          const tb = tf.tensor1d(Bt);
          const tdy = tf.tensor3d(DY, [B, L, D]);
          const run =
            mode === 'forward'
              ? () => {
                  const m = tf.moments(tx, -1, true);
                  return tf.add(tf.mul(tf.mul(tf.sub(tx, m.mean), tf.rsqrt(tf.add(m.variance, eps))), tg), tb);
                }
              : () => {
                  const m = tf.moments(tx, -1, true);
                  const rstd = tf.rsqrt(tf.add(m.variance, eps));
                  const xhat = tf.mul(tf.sub(tx, m.mean), rstd);
                  const dyw = tf.mul(tdy, tg);
                  const a = tf.mean(dyw, -1, true);
                  const bb = tf.mean(tf.mul(dyw, xhat), -1, true);
                  return tf.mul(rstd, tf.sub(tf.sub(dyw, a), tf.mul(xhat, bb)));
                };
          return { run, dispose: () => tf.dispose([tx, tg, tb, tdy]) };
        },
        dispose: disposeAll(x, g, b, dy),
      };
    },
  };
}
