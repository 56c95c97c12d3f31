/**
 * Mask spread (kernels/mask_stats.wgsl): how far a batch of masks is from
 * uniform, for the run record.
 *
 *   maskSpread(m) = [mean_n σ_n, min_n σ_n, max_n σ_n],
 *   σ_n = sqrt( (1/S) Σ_s (m[n, s] − μ_n)² ),  μ_n = (1/S) Σ_s m[n, s],
 *
 * for m [N, 1, H, W] (S = H·W): each mask's population standard deviation over
 * its positions, summarised over the batch. A constant mask has σ = 0; a mask
 * of half 0s and half 1s has σ = 0.5.
 *
 * A statistic, not part of the model: it is never recorded in the autograd
 * graph (no gradient flows through it, whatever `m.requiresGrad`), and it runs
 * entirely on the GPU — two dispatches, no readback, no host writes, and
 * uniforms that depend only on the shape — so it can sit inside a captured
 * and replayed training step. Read the three numbers when convenient (e.g.
 * with the step's losses).
 */
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { assertF32, fitWg } from './launch.js';

/**
 * `[mean, min, max]` over the batch of each mask's standard deviation over positions, as an f32
 * tensor of shape [3]. `mask` is [N, 1, H, W] f32 with N, H, W ≥ 1.
 * @throws ShapeError for another shape or dtype.
 */
export function maskSpread(mask: Tensor): Tensor {
  assertF32('maskSpread', mask);
  if (mask.ndim !== 4 || mask.shape[1] !== 1 || mask.size === 0) {
    throw new ShapeError(`maskSpread: mask must be a non-empty [N, 1, H, W] tensor, got ${fmtShape(mask.shape)}`);
  }
  const e = mask.engine;
  const n = mask.shape[0]!;
  const s = mask.shape[2]! * mask.shape[3]!;
  const std = e.empty([n]);
  const constants = { WG: fitWg(e) };
  e.run('mask_stats', 'mask_std', { bind: { m: mask, out: std }, params: { n, s }, constants, workgroups: n });
  const out = e.empty([3]);
  e.run('mask_stats', 'mask_spread', { bind: { m: std, out }, params: { n, s }, constants, workgroups: 1 });
  std.dispose();
  return out;
}
