/** The ViT patch embedding (src/ops/patch-embed.ts): [B, C, S, S] images, P×P patches, D channels → [B, L, D]. */
import { patchEmbed } from '../../src/ops/patch-embed.js';
import { nchwToNhwc, oihwToHwio, rand } from '../data.js';
import { disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function patchEmbedCase(model: string, B: number, C: number, S: number, P: number, D: number): BenchCase {
  return {
    kernel: 'patch embedding',
    name: `${model} B=${B} ${S}×${S} p=${P} D=${D}`,
    bound: 'compute',
    prepare(c) {
      const L = (S / P) ** 2;
      const X = rand(B * C * S * S, 131);
      const Wt = rand(D * C * P * P, 132, -0.1, 0.1);
      const Bs = rand(D, 133);
      const x = up(c, X, [B, C, S, S]);
      const w = up(c, Wt, [D, C, P, P]);
      const b = up(c, Bs, [D]);
      return {
        flops: 2 * B * L * D * C * P * P,
        bytes: 4 * (B * C * S * S + D * C * P * P + B * L * D),
        ours: fwd(() => patchEmbed(x, w, b, P)),
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, B, C, S, S), [B, S, S, C]);
          const tw = tf.tensor4d(oihwToHwio(Wt, D, C, P, P), [P, P, C, D]);
          const tb = tf.tensor1d(Bs);
          return { run: () => tf.reshape(tf.add(tf.conv2d(tx, tw, P, 'valid'), tb), [B, L, D]), dispose: () => tf.dispose([tx, tw, tb]) };
        },
        dispose: disposeAll(x, w, b),
      };
    },
  };
}
