/** Integer-factor upsampling of NCHW (src/ops/upsample.ts; PyTorch semantics: bilinear align_corners=False). */
import { upsample } from '../../src/ops/upsample.js';
import { nchwToNhwc, nhwcToNchw, rand } from '../data.js';
import { disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function upsampleCase(N: number, C: number, H: number, W: number, f: number, mode: 'nearest' | 'bilinear'): BenchCase {
  return {
    kernel: `upsample ${mode}`,
    name: `[${N}, ${C}, ${H}, ${W}] ×${f}`,
    bound: 'memory',
    prepare(c) {
      const X = rand(N * C * H * W, 91);
      const x = up(c, X, [N, C, H, W]);
      return {
        bytes: 4 * N * C * H * W * (1 + f * f),
        ours: fwd(() => upsample(x, f, mode)),
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, N, C, H, W), [N, H, W, C]);
          const size: [number, number] = [H * f, W * f];
          const run =
            mode === 'bilinear'
              ? () => tf.image.resizeBilinear(tx as never, size, false, true)
              : () => tf.image.resizeNearestNeighbor(tx as never, size, false, false);
          return { run, toOurs: (v) => nhwcToNchw(v, N, H * f, W * f, C), dispose: () => tf.dispose(tx) };
        },
        dispose: disposeAll(x),
      };
    },
  };
}
