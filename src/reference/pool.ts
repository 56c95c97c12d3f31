/** Plain-TypeScript (f64) pooling over NCHW, forward and backward (PyTorch semantics). */

type Shape4 = readonly [number, number, number, number] | readonly number[];

export function globalAvgPoolRef(x: ArrayLike<number>, shape: Shape4): Float64Array {
  const [N, C, H, W] = shape as [number, number, number, number];
  const HW = H * W;
  const out = new Float64Array(N * C);
  for (let p = 0; p < N * C; p++) {
    let s = 0;
    for (let i = 0; i < HW; i++) s += x[p * HW + i]!;
    out[p] = s / HW;
  }
  return out;
}

export function globalAvgPoolBackwardRef(g: ArrayLike<number>, shape: Shape4): Float64Array {
  const [N, C, H, W] = shape as [number, number, number, number];
  const HW = H * W;
  const dx = new Float64Array(N * C * HW);
  for (let i = 0; i < dx.length; i++) dx[i] = g[Math.floor(i / HW)]! / HW;
  return dx;
}

export interface PoolRef {
  out: Float64Array;
  /** argmax h·W + w within the plane (max pooling only). */
  idx: Int32Array;
  shape: [number, number, number, number];
}

/** Max pooling; padding is −∞, ties go to the first maximum in row-major window order. */
export function maxPool2dRef(x: ArrayLike<number>, shape: Shape4, k: number, s = k, pad = 0): PoolRef {
  const [N, C, H, W] = shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * pad - k) / s) + 1;
  const OW = Math.floor((W + 2 * pad - k) / s) + 1;
  const out = new Float64Array(N * C * OH * OW);
  const idx = new Int32Array(out.length);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity;
        let bi = -1;
        for (let h = oh * s - pad; h < oh * s - pad + k; h++) {
          for (let w = ow * s - pad; w < ow * s - pad + k; w++) {
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const v = x[p * H * W + h * W + w]!;
            if (v > best) {
              best = v;
              bi = h * W + w;
            }
          }
        }
        const o = (p * OH + oh) * OW + ow;
        out[o] = best;
        idx[o] = bi;
      }
    }
  }
  return { out, idx, shape: [N, C, OH, OW] };
}

export function maxPool2dBackwardRef(g: ArrayLike<number>, idx: Int32Array, shape: Shape4, outShape: Shape4): Float64Array {
  const [N, C, H, W] = shape as [number, number, number, number];
  const [, , OH, OW] = outShape as [number, number, number, number];
  const dx = new Float64Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    for (let o = 0; o < OH * OW; o++) dx[p * H * W + idx[p * OH * OW + o]!] += g[p * OH * OW + o]!;
  }
  return dx;
}

/** Average pooling without padding. */
export function avgPool2dRef(x: ArrayLike<number>, shape: Shape4, k: number, s = k): PoolRef {
  const [N, C, H, W] = shape as [number, number, number, number];
  const OH = Math.floor((H - k) / s) + 1;
  const OW = Math.floor((W - k) / s) + 1;
  const out = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let t = 0;
        for (let h = 0; h < k; h++) for (let w = 0; w < k; w++) t += x[p * H * W + (oh * s + h) * W + ow * s + w]!;
        out[(p * OH + oh) * OW + ow] = t / (k * k);
      }
    }
  }
  return { out, idx: new Int32Array(0), shape: [N, C, OH, OW] };
}

export function avgPool2dBackwardRef(g: ArrayLike<number>, shape: Shape4, k: number, s = k): Float64Array {
  const [N, C, H, W] = shape as [number, number, number, number];
  const OH = Math.floor((H - k) / s) + 1;
  const OW = Math.floor((W - k) / s) + 1;
  const dx = new Float64Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const v = g[(p * OH + oh) * OW + ow]! / (k * k);
        for (let h = 0; h < k; h++) for (let w = 0; w < k; w++) dx[p * H * W + (oh * s + h) * W + ow * s + w] += v;
      }
    }
  }
  return dx;
}
