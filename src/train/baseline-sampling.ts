/**
 * Host-side sampling for the cheap mixups (docs/method.md §7): λ, boxes, FMix masks,
 * saliency. Everything is drawn from the step's own Rng so a resumed run
 * draws the same values.
 */
import type { Rng } from '../util/rng.js';
import type { Box } from '../ops/blend.js';

/** CutMix box for ratio λ: side ⌊S·√(1−λ)⌋, uniform centre, clipped (half-sides). */
export function cutmixBox(rng: Rng, H: number, W: number, lam: number): Box {
  const cutH = Math.floor(H * Math.sqrt(1 - lam));
  const cutW = Math.floor(W * Math.sqrt(1 - lam));
  const cy = rng.int(H);
  const cx = rng.int(W);
  return boxAround(cy, cx, cutH, cutW, H, W);
}

export function boxAround(cy: number, cx: number, cutH: number, cutW: number, H: number, W: number): Box {
  const y0 = Math.max(cy - Math.floor(cutH / 2), 0);
  const y1 = Math.min(cy + Math.floor(cutH / 2), H);
  const x0 = Math.max(cx - Math.floor(cutW / 2), 0);
  const x1 = Math.min(cx + Math.floor(cutW / 2), W);
  return { y0, x0, y1, x1 };
}

/** λ after pasting a box: 1 − area/(H·W). */
export function boxLambda(b: Box, H: number, W: number): number {
  return 1 - ((b.y1 - b.y0) * (b.x1 - b.x0)) / (H * W);
}

/** Naive 2-D DFT (H, W ≤ 64 here): real input → complex spectrum. */
function dft2(re: Float64Array, im: Float64Array, H: number, W: number, inverse: boolean): [Float64Array, Float64Array] {
  const sgn = inverse ? 1 : -1;
  const tr = new Float64Array(H * W);
  const ti = new Float64Array(H * W);
  for (let y = 0; y < H; y++)
    for (let k = 0; k < W; k++) {
      let sr = 0;
      let si = 0;
      for (let x = 0; x < W; x++) {
        const a = (sgn * 2 * Math.PI * k * x) / W;
        const vr = re[y * W + x]!;
        const vi = im[y * W + x]!;
        sr += vr * Math.cos(a) - vi * Math.sin(a);
        si += vr * Math.sin(a) + vi * Math.cos(a);
      }
      tr[y * W + k] = sr;
      ti[y * W + k] = si;
    }
  const or = new Float64Array(H * W);
  const oi = new Float64Array(H * W);
  for (let k = 0; k < W; k++)
    for (let l = 0; l < H; l++) {
      let sr = 0;
      let si = 0;
      for (let y = 0; y < H; y++) {
        const a = (sgn * 2 * Math.PI * l * y) / H;
        const vr = tr[y * W + k]!;
        const vi = ti[y * W + k]!;
        sr += vr * Math.cos(a) - vi * Math.sin(a);
        si += vr * Math.sin(a) + vi * Math.cos(a);
      }
      or[l * W + k] = sr;
      oi[l * W + k] = si;
    }
  return [or, oi];
}

/**
 * FMix mask (decay power δ): Gaussian spectrum scaled by 1/max(|f|, 1/max(H,W))^δ,
 * inverse FFT, then the top ⌈λHW⌉ or ⌊λHW⌋ pixels (50/50) set to 1.
 */
export function fmixMask(rng: Rng, H: number, W: number, lam: number, decay = 3): Float32Array {
  const re = new Float64Array(H * W);
  const im = new Float64Array(H * W);
  const fmin = 1 / Math.max(H, W);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const fy = (y <= H / 2 ? y : y - H) / H;
      const fx = (x <= W / 2 ? x : x - W) / W;
      const s = 1 / Math.max(Math.hypot(fy, fx), fmin) ** decay;
      re[y * W + x] = rng.normal() * s;
      im[y * W + x] = rng.normal() * s;
    }
  const [g] = dft2(re, im, H, W, true);
  const order = Array.from(g.keys()).sort((a, b) => g[b]! - g[a]!);
  const k = rng.uniform() < 0.5 ? Math.ceil(lam * H * W) : Math.floor(lam * H * W);
  const mask = new Float32Array(H * W);
  for (let i = 0; i < k; i++) mask[order[i]!] = 1;
  return mask;
}

/**
 * Spectral-residual saliency (Hou & Zhang 2007) of one image [C, H, W]
 * averaged over channels: our stand-in for OpenCV's StaticSaliencyFineGrained.
 * Returns the argmax position.
 */
export function saliencyPeak(img: Float32Array, C: number, H: number, W: number): { y: number; x: number } {
  const gray = new Float64Array(H * W);
  for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) gray[i]! += img[c * H * W + i]! / C;
  const [fr, fi] = dft2(gray, new Float64Array(H * W), H, W, false);
  const logA = new Float64Array(H * W);
  const phase = new Float64Array(H * W);
  for (let i = 0; i < H * W; i++) {
    logA[i] = Math.log(Math.hypot(fr[i]!, fi[i]!) + 1e-8);
    phase[i] = Math.atan2(fi[i]!, fr[i]!);
  }
  // Spectral residual: log amplitude minus its 3×3 local mean.
  const rr = new Float64Array(H * W);
  const ri = new Float64Array(H * W);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let m = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) m += logA[((y + dy + H) % H) * W + ((x + dx + W) % W)]!;
      const r = Math.exp(logA[y * W + x]! - m / 9);
      rr[y * W + x] = r * Math.cos(phase[y * W + x]!);
      ri[y * W + x] = r * Math.sin(phase[y * W + x]!);
    }
  const [sr, si] = dft2(rr, ri, H, W, true);
  let best = -1;
  let by = 0;
  let bx = 0;
  for (let i = 0; i < H * W; i++) {
    const v = sr[i]! * sr[i]! + si[i]! * si[i]!;
    if (v > best) {
      best = v;
      by = Math.floor(i / W);
      bx = i % W;
    }
  }
  return { y: by, x: bx };
}

/**
 * ResizeMix on the host batch: x[π] resized (nearest) to ⌊τH⌋×⌊τW⌋ and pasted
 * at a random position. τ ~ Beta(α, α), redrawn from U(0.1, 0.8) outside it.
 */
export function resizeMixHost(
  rng: Rng,
  x: Float32Array,
  perm: Int32Array,
  N: number,
  C: number,
  H: number,
  W: number,
  alpha: number,
): { out: Float32Array; lam: number } {
  let tau = rng.beta(alpha, alpha);
  if (tau < 0.1 || tau > 0.8) tau = 0.1 + 0.7 * rng.uniform();
  const h = Math.max(1, Math.floor(tau * H));
  const w = Math.max(1, Math.floor(tau * W));
  const box = boxAround(rng.int(H), rng.int(W), h, w, H, W);
  const out = x.slice(0, N * C * H * W);
  const bh = box.y1 - box.y0;
  const bw = box.x1 - box.x0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < bh; y++)
        for (let xx = 0; xx < bw; xx++) {
          // Nearest resize of the whole partner image to (h, w), clipped by the box.
          const sy = Math.min(H - 1, Math.floor((y * H) / h));
          const sx = Math.min(W - 1, Math.floor((xx * W) / w));
          out[((n * C + c) * H + box.y0 + y) * W + box.x0 + xx] = x[((perm[n]! * C + c) * H + sy) * W + sx]!;
        }
  return { out, lam: boxLambda(box, H, W) };
}
