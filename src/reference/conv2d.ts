/**
 * Reference 2-D convolution (PyTorch semantics), plain TypeScript in f64.
 * It defines what kernels/conv2d.wgsl computes.
 *
 *   x [N, C, H, W], w [O, C/groups, KH, KW], bias [O] → y [N, O, Ho, Wo]
 *   Ho = ⌊(H + 2·ph − dh·(KH − 1) − 1) / sh⌋ + 1   (same for W)
 *   y[n, o, oy, ox] = bias[o] + Σ_{c, ky, kx} w[o, c, ky, kx] ·
 *                     x[n, g·Cg + c, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw]
 *   where g = ⌊o / Og⌋, Cg = C / groups, Og = O / groups; x is 0 outside.
 */
export interface Conv2dGeom {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  groups: number;
}

export function convOutSize(g: Conv2dGeom): [number, number] {
  const Ho = Math.floor((g.H + 2 * g.ph - g.dh * (g.KH - 1) - 1) / g.sh) + 1;
  const Wo = Math.floor((g.W + 2 * g.pw - g.dw * (g.KW - 1) - 1) / g.sw) + 1;
  return [Ho, Wo];
}

/** Calls f(n, o, oy, ox, xIndex, wIndex) for every multiply-add that touches valid input. */
function forEachTap(g: Conv2dGeom, f: (yi: number, xi: number, wi: number, o: number) => void): void {
  const [Ho, Wo] = convOutSize(g);
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  for (let n = 0; n < g.N; n++)
    for (let o = 0; o < g.O; o++) {
      const grp = Math.floor(o / Og);
      for (let oy = 0; oy < Ho; oy++)
        for (let ox = 0; ox < Wo; ox++) {
          const yi = ((n * g.O + o) * Ho + oy) * Wo + ox;
          for (let c = 0; c < Cg; c++)
            for (let ky = 0; ky < g.KH; ky++) {
              const iy = oy * g.sh - g.ph + ky * g.dh;
              if (iy < 0 || iy >= g.H) continue;
              for (let kx = 0; kx < g.KW; kx++) {
                const ix = ox * g.sw - g.pw + kx * g.dw;
                if (ix < 0 || ix >= g.W) continue;
                const xi = ((n * g.C + grp * Cg + c) * g.H + iy) * g.W + ix;
                const wi = ((o * Cg + c) * g.KH + ky) * g.KW + kx;
                f(yi, xi, wi, o);
              }
            }
        }
    }
}

export function conv2dRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null, g: Conv2dGeom): Float64Array {
  const [Ho, Wo] = convOutSize(g);
  const y = new Float64Array(g.N * g.O * Ho * Wo);
  if (bias) {
    for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / (Ho * Wo)) % g.O]!;
  }
  forEachTap(g, (yi, xi, wi) => {
    y[yi]! += w[wi]! * x[xi]!;
  });
  return y;
}

/** Gradients of Σ dy ⊙ conv2d(x, w, bias) with respect to x, w and bias. */
export function conv2dBackwardRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
  g: Conv2dGeom,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const [Ho, Wo] = convOutSize(g);
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(g.O);
  forEachTap(g, (yi, xi, wi) => {
    dx[xi]! += w[wi]! * dy[yi]!;
    dw[wi]! += x[xi]! * dy[yi]!;
  });
  for (let i = 0; i < dy.length; i++) db[Math.floor(i / (Ho * Wo)) % g.O]! += dy[i]!;
  return { dx, dw, db };
}
