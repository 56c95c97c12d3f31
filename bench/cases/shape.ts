/** Layout ops (src/ops/shape.ts): permute, a strided copy — the ViT's head split [B, L, H, dh] → [B, H, L, dh]. */
import { permute } from '../../src/ops/shape.js';
import { rand } from '../data.js';
import { disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function permuteCase(shape: readonly number[], axes: readonly number[]): BenchCase {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    kernel: 'permute',
    name: `[${shape.join(', ')}] by [${axes.join(', ')}]`,
    bound: 'memory',
    prepare(c) {
      const X = rand(n, 97);
      const x = up(c, X, [...shape]);
      return {
        bytes: 8 * n,
        ours: fwd(() => permute(x, axes)),
        tf: (tf) => {
          const tx = tf.tensor(X, [...shape]);
          return { run: () => tf.transpose(tx, [...axes]), toOurs: (v) => v, dispose: () => tf.dispose(tx) };
        },
        dispose: disposeAll(x),
      };
    },
  };
}
