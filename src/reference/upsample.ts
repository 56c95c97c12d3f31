/**
 * Plain-TypeScript (f64) upsampling of NCHW by an integer factor: nearest, and
 * bilinear with align_corners=False (PyTorch: source = max((o + 0.5)/f − 0.5, 0),
 * i1 = min(i0 + 1, n − 1)). The backward is the transpose (scatter-add).
 */

type Mode = 'nearest' | 'bilinear';

function taps(o: number, n: number, f: number, mode: Mode): [number, number, number] {
  if (mode === 'nearest') {
    const i = Math.floor(o / f);
    return [i, i, 0];
  }
  const src = Math.max((o + 0.5) / f - 0.5, 0);
  const i0 = Math.min(Math.floor(src), n - 1);
  const i1 = Math.min(i0 + 1, n - 1);
  return [i0, i1, src - i0];
}

export function upsampleRef(x: ArrayLike<number>, shape: readonly number[], f: number, mode: Mode): Float64Array {
  const [N, C, H, W] = shape as [number, number, number, number];
  const OH = H * f;
  const OW = W * f;
  const out = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      const [h0, h1, lh] = taps(oh, H, f, mode);
      for (let ow = 0; ow < OW; ow++) {
        const [w0, w1, lw] = taps(ow, W, f, mode);
        const at = (h: number, w: number) => x[p * H * W + h * W + w]!;
        out[(p * OH + oh) * OW + ow] = (1 - lh) * ((1 - lw) * at(h0, w0) + lw * at(h0, w1)) + lh * ((1 - lw) * at(h1, w0) + lw * at(h1, w1));
      }
    }
  }
  return out;
}

export function upsampleBackwardRef(g: ArrayLike<number>, shape: readonly number[], f: number, mode: Mode): Float64Array {
  const [N, C, H, W] = shape as [number, number, number, number];
  const OH = H * f;
  const OW = W * f;
  const dx = new Float64Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      const [h0, h1, lh] = taps(oh, H, f, mode);
      for (let ow = 0; ow < OW; ow++) {
        const [w0, w1, lw] = taps(ow, W, f, mode);
        const v = g[(p * OH + oh) * OW + ow]!;
        const add = (h: number, w: number, wt: number) => {
          dx[p * H * W + h * W + w] += wt * v;
        };
        add(h0, w0, (1 - lh) * (1 - lw));
        add(h0, w1, (1 - lh) * lw);
        add(h1, w0, lh * (1 - lw));
        add(h1, w1, lh * lw);
      }
    }
  }
  return dx;
}
