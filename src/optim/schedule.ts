/**
 * Schedules (pure functions of the epoch or iteration).
 *
 *  - cosineLr: mmcv's CosineAnnealingLrUpdaterHook stepped per epoch with
 *    `min_lr` (docs/method.md §5): lr_e = min + ½(base − min)(1 + cos(π·e/E)),
 *    e the 0-based epoch index. Optional linear warm-up as mmcv's
 *    `warmup='linear'`: for e < W the cosine value is multiplied by
 *    1 − (1 − e/W)(1 − warmupRatio), i.e. warmupRatio·lr at e = 0 rising
 *    linearly to the cosine at e = W.
 *  - automixMomentum: the EMA coefficient of AutoMix's CosineScheduleHook
 *    (docs/method.md §3): constant `base` for k < 0.1·K, then
 *    m_end − (m_end − base)·(cos(π·k/K) + 1)/2 — cosine in k/K, not
 *    renormalised to the [0.1, 1] window, so m jumps from 0.999 to ≈0.999024
 *    at k = 0.1·K and reaches m_end at k = K.
 */

export interface WarmupOptions {
  /** Epochs of linear warm-up (0: none). */
  warmupEpochs?: number;
  /** Fraction of the scheduled LR at epoch 0 (mmcv's warmup_ratio; default 0.1). */
  warmupRatio?: number;
}

export function cosineLr(epoch: number, epochs: number, base: number, min: number, opts: WarmupOptions = {}): number {
  if (!(epochs > 0)) throw new RangeError(`cosineLr: epochs must be > 0, got ${epochs}`);
  let lr = min + 0.5 * (base - min) * (1 + Math.cos((Math.PI * epoch) / epochs));
  const w = opts.warmupEpochs ?? 0;
  if (w > 0 && epoch < w) {
    const ratio = opts.warmupRatio ?? 0.1;
    lr *= 1 - (1 - epoch / w) * (1 - ratio);
  }
  return lr;
}

/**
 * (1 − m₀)·K of the reference: its EMA start 0.999 averages over 1/(1 − 0.999) = 1 000
 * iterations of K = 400 epochs × 500 = 200 000, so (1 − 0.999) × 200 000 = 200.
 */
export const REFERENCE_EMA_SPAN = 200;

/**
 * The EMA start that gives a run of K iterations the reference's horizon relative to its length,
 * (1 − m₀)·K = 200: 0.999 (docs/method.md §3) from K = 200 000 iterations on, less for shorter runs (0.967
 * for 10 epochs of 600), and 0 — the momentum network starts as a copy — below 200. With
 * m₀ = 0.999 a short run's momentum network would still be near its initialisation at the end.
 */
export function scaledEmaStart(K: number): number {
  if (!(K > 0)) throw new RangeError(`scaledEmaStart: K must be > 0, got ${K}`);
  return Math.min(0.999, Math.max(0, 1 - REFERENCE_EMA_SPAN / K));
}

/** AutoMix's EMA momentum at global iteration k of K (docs/method.md §3). */
export function automixMomentum(k: number, K: number, base = 0.999, end = 0.999999): number {
  if (!(K > 0)) throw new RangeError(`automixMomentum: K must be > 0, got ${K}`);
  if (k < 0.1 * K) return base;
  return end - ((end - base) * (Math.cos((Math.PI * k) / K) + 1)) / 2;
}
