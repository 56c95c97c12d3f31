/**
 * Reference patch embedding, plain TypeScript in f64; defines what
 * kernels/patch_embed.wgsl computes.
 *
 *   x [N, C, H, W], w [D, C, P, P], bias [D] → tokens [N, L, D],
 *   L = (H/P)·(W/P), token l = py·(W/P) + px (row-major over patches):
 *   tokens[n, l, d] = bias[d] + Σ_{c, i, j} w[d, c, i, j] · x[n, c, py·P + i, px·P + j]
 * (PyTorch: conv2d(x, w, b, stride=P).flatten(2).transpose(1, 2)).
 */
export interface PatchGeom {
  N: number;
  C: number;
  H: number;
  W: number;
  D: number;
  P: number;
}

function forEachTap(g: PatchGeom, f: (ti: number, xi: number, wi: number, d: number) => void): void {
  const Lh = g.H / g.P;
  const Lw = g.W / g.P;
  const L = Lh * Lw;
  for (let n = 0; n < g.N; n++)
    for (let l = 0; l < L; l++) {
      const py = Math.floor(l / Lw);
      const px = l % Lw;
      for (let d = 0; d < g.D; d++) {
        const ti = (n * L + l) * g.D + d;
        for (let c = 0; c < g.C; c++)
          for (let i = 0; i < g.P; i++)
            for (let j = 0; j < g.P; j++) {
              const xi = ((n * g.C + c) * g.H + py * g.P + i) * g.W + px * g.P + j;
              const wi = ((d * g.C + c) * g.P + i) * g.P + j;
              f(ti, xi, wi, d);
            }
      }
    }
}

export function patchEmbedRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null, g: PatchGeom): Float64Array {
  const L = (g.H / g.P) * (g.W / g.P);
  const t = new Float64Array(g.N * L * g.D);
  if (bias) for (let i = 0; i < t.length; i++) t[i] = bias[i % g.D]!;
  forEachTap(g, (ti, xi, wi) => {
    t[ti]! += w[wi]! * x[xi]!;
  });
  return t;
}

export function patchEmbedBackwardRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dt: ArrayLike<number>,
  g: PatchGeom,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(g.D);
  forEachTap(g, (ti, xi, wi) => {
    dx[xi]! += w[wi]! * dt[ti]!;
    dw[wi]! += x[xi]! * dt[ti]!;
  });
  for (let i = 0; i < dt.length; i++) db[i % g.D]! += dt[i]!;
  return { dx, dw, db };
}
