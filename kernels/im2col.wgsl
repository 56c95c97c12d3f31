// Re-layout passes that turn conv2d (groups = 1) into plain matmuls, for
// adapters where the 8-lane subgroup matmul (matmul_sg.wgsl) is fast. The
// GEMMs themselves are matmulRaw calls; see src/ops/conv2d.ts and
// docs/kernels/conv2d.md. x NCHW [N, C, H, W], w OIHW [O, C, KH, KW],
// CK = C·KH·KW, k = (c·KH + ky)·KW + kx, HW = Ho·Wo, p = oy·Wo + ox.
// "…p" sizes are rounded up to a multiple of 4 (vec4 operands of matmul_sg);
// the padding is written as zeros so it adds nothing to any product.
//
// im2col     col[z][k][q] = x[n, c, oy·sh + ky·dh − ph, ox·sw + kx·dw − pw]
//            (0 outside the input). Forward layout [N, CKp, HWp] (z = n,
//            q = p): y[n] = W·col[n]. Batch-folded layout [CKp, Kp] (z = 0,
//            q = n·HW + p, Kp = ⌈N·HW⌉₄): dW = dyt·colᵀ. One invocation = a
//            run of RQ quads of q of one channel, all KH·KW taps (one
//            (n, oy, ox) decomposition per run, stepped along). Grid (x: runs
//            of quads of q, y: c, z). im2col_quads: the same with one quad per
//            invocation and a decomposition per column (the tests' reference).
// im2col_rows  the same col for sw = 1 with W, Wo multiples of 4: runs of
//            quads of one output row, row segments loaded once as vec4s.
// col_zero   zero rows CK .. CKp − 1 of col.
// dy_t       dyt[o][q] = dy[n, o, p], [O, Kp] (columns past N·HW are 0).
//            Grid (x: quads of q, y: o). dy_t4: HW a multiple of 4, vec4 copies.
// col2im     dx[n, c, y, x] = Σ_{ky, kx} dcol[n][k][p] over the taps whose
//            output position (oy, ox) = ((y + ph − ky·dh)/sh, (x + pw − kx·dw)/sw)
//            is exact and in range — a gather, so no atomics and a fixed
//            summation order (deterministic). dcol is [N, CKp, HWp]. Used for
//            grad-input when stride > 1 (or the transposed padding would be
//            negative). Grid (x: pixels of one plane, y: c, z: n).
// w_flip     wf[c][o·KK + t] = w[o][c][KK − 1 − t], [C, ⌈O·KK⌉₄]: for
//            stride 1, dx = conv(dy, wf) with padding d·(K − 1) − p, i.e.
//            im2col(dy) + the forward GEMM, no col2im.
// repad      dst[a][b][j] = src[a][b][j] (+ bias[b]) for b < Ri_s, j < cols_s,
//            else 0; src [A, Ri_s, cols_s], dst [A, Ri_d, cols_d]. Pads or
//            crops the last two dims (weights to [O, CKp], dy to [N, Op, HWp],
//            the matmul output back to [N, O, HW] with the bias added, dW
//            back to [O, CK]). 1-D, folded grid. ACCUMULATE (override;
//            repad only, the crop of dW): dst = dst + v in place, after the
//            full sum (the same f32 add as elementwise.wgsl's acc_add with
//            alpha 1), so a weight's gradient lands in its .grad without a
//            separate add (src/autograd/leaf-grad.ts).
//
// Why this shape on lavapipe: every storage load with a non-constant
// address is scalarised lane by lane and integer division is per lane, so
// each invocation produces vec4s, does its divisions once for all taps, and
// loads through clamped addresses + select (no divergent branches). A first
// version (one tap per invocation, a dynamically indexed vec4, branches) took
// 3× as long. The passes move O(|col|) data once; the O(|col|·O) work is in
// matmul_sg.

override WG: u32 = 64;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

struct Params {
  N: u32,
  C: u32,
  H: u32,
  W: u32,
  KH: u32,
  KW: u32,
  sh: u32,
  sw: u32,
  ph: u32,
  pw: u32,
  dh: u32,
  dw: u32,
  Ho: u32,
  Wo: u32,
  CK: u32,
  CKp: u32,
  HW: u32,
  HWp: u32,
  Lp: u32,     // im2col / col_zero / dy_t: row length of the output (multiple of 4)
  Lv: u32,     // im2col: valid columns of a row
  O: u32,      // dy_t: channels of dy
  total: u32,  // repad: elements of dst
  Ri_s: u32,   // repad
  Ri_d: u32,
  cols_s: u32,
  cols_d: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst4: array<vec4f>;

// One output position of a quad: the source plane offset of x[n, c] and the
// top-left input coordinate (oy·sh − ph, ox·sw − pw) of its window; n ≥ N
// (padding columns) gives ok = false.
struct Pos {
  base: u32,
  iy: i32,
  ix: i32,
  ok: bool,
}

fn pos(n: u32, c: u32, pp: u32, valid: bool) -> Pos {
  let oy = pp / p.Wo;
  let ox = pp - oy * p.Wo;
  return Pos((min(n, p.N - 1u) * p.C + c) * p.H * p.W, i32(oy * p.sh) - i32(p.ph), i32(ox * p.sw) - i32(p.pw), valid);
}

// The next position after `q`: p + 1, wrapping to the next image.
fn next(n: ptr<function, u32>, pp: ptr<function, u32>) {
  *pp += 1u;
  if (*pp == p.HW) { *pp = 0u; *n += 1u; }
}

// x at tap offset (ty, tx) from the window corner of `q`, 0 in the padding:
// the address is clamped so the load is unconditional (no divergent branch).
fn tap(q: Pos, ty: i32, tx: i32) -> f32 {
  let iy = q.iy + ty;
  let ix = q.ix + tx;
  let inside = q.ok && iy >= 0 && ix >= 0 && iy < i32(p.H) && ix < i32(p.W);
  let v = src[q.base + u32(clamp(iy, 0, i32(p.H) - 1)) * p.W + u32(clamp(ix, 0, i32(p.W) - 1))];
  return select(0.0, v, inside);
}

// col[z][k][q] for k = c·KH·KW + tap, one invocation = 4 consecutive
// columns q of one channel c, all KH·KW taps (the column → (n, oy, ox)
// decomposition is done once for 9 vec4 stores). Row length Lp (a multiple
// of 4), valid columns Lv. Forward layout: z = n, Lp = HWp, Lv = HW (one image
// per row). Grad-weight layout (z = 0): columns q = n·HW + p over the whole
// batch, Lp = Kp, Lv = N·HW. Rows k ≥ CK (padding) are written by col_zero.
@compute @workgroup_size(WG)
fn im2col_quads(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let q4 = wid.x * WG + lid.x;
  let c = wid.y;
  let z = wid.z;
  let L4 = p.Lp / 4u;
  if (q4 >= L4) { return; }
  let q0 = q4 * 4u;
  var n = z + q0 / p.HW;
  var pp = q0 % p.HW;
  let a = pos(n, c, pp, q0 < p.Lv);
  next(&n, &pp);
  let b = pos(n, c, pp, q0 + 1u < p.Lv);
  next(&n, &pp);
  let d = pos(n, c, pp, q0 + 2u < p.Lv);
  next(&n, &pp);
  let e = pos(n, c, pp, q0 + 3u < p.Lv);
  var o = (z * p.CKp + c * p.KH * p.KW) * L4 + q4;
  for (var ky = 0u; ky < p.KH; ky++) {
    let ty = i32(ky * p.dh);
    for (var kx = 0u; kx < p.KW; kx++) {
      let tx = i32(kx * p.dw);
      dst4[o] = vec4f(tap(a, ty, tx), tap(b, ty, tx), tap(d, ty, tx), tap(e, ty, tx));
      o += L4;
    }
  }
}

// im2col_quads' col (the same values), for the shapes im2col_rows does not
// take (Wo not a multiple of 4, stride along W): one invocation = a run of
// RQ consecutive quads (4·RQ columns q) of one channel, all KH·KW taps. The
// column → (n, oy, ox) decomposition is done once per run (3 divisions
// instead of 6 per quad) and stepped along with selects; per tap row ky the
// row offset and row test of the 4 positions are computed once for the KW
// taps (KW is an override constant: the kx loop unrolls). Loads go through
// clamped addresses + select, as in im2col_quads. Grid (x: runs, y: c, z).
@compute @workgroup_size(WG)
fn im2col(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.y;
  let z = wid.z;
  let L4 = p.Lp / 4u;
  let q4 = (wid.x * WG + lid.x) * RQ;
  if (q4 >= L4) { return; }
  let q0 = q4 * 4u;
  var n = z + q0 / p.HW;
  let pp = q0 % p.HW;
  var oy = pp / p.Wo;
  var ox = pp - oy * p.Wo;
  let plane = p.H * p.W;
  let H1 = i32(p.H) - 1;
  let W1 = i32(p.W) - 1;
  let kk = p.KH * KW;
  let obase = (z * p.CKp + c * kk) * L4;
  for (var v = 0u; v < RQ; v++) {
    let qv = q4 + v;
    if (qv >= L4) { break; }
    // The 4 positions of quad qv: plane base, window corner, column valid.
    var base: vec4u;
    var iy0: vec4i;
    var ix0: vec4i;
    var ok: vec4<bool>;
    for (var j = 0u; j < 4u; j++) {
      base[j] = (min(n, p.N - 1u) * p.C + c) * plane;
      iy0[j] = i32(oy * p.sh) - i32(p.ph);
      ix0[j] = i32(ox * p.sw) - i32(p.pw);
      ok[j] = qv * 4u + j < p.Lv;
      ox += 1u;
      let wx = ox == p.Wo;
      ox = select(ox, 0u, wx);
      oy += select(0u, 1u, wx);
      let wy = oy == p.Ho;
      oy = select(oy, 0u, wy);
      n += select(0u, 1u, wy);
    }
    var o = obase + qv;
    for (var ky = 0u; ky < p.KH; ky++) {
      let iy = iy0 + vec4i(i32(ky * p.dh));
      let rok = ok & (iy >= vec4i(0)) & (iy <= vec4i(H1));
      let rb = base + vec4u(clamp(iy, vec4i(0), vec4i(H1))) * p.W;
      for (var kx = 0u; kx < KW; kx++) {
        let ix = ix0 + vec4i(i32(kx * p.dw));
        let inside = rok & (ix >= vec4i(0)) & (ix <= vec4i(W1));
        let a = rb + vec4u(clamp(ix, vec4i(0), vec4i(W1)));
        let val = vec4f(src[a.x], src[a.y], src[a.z], src[a.w]);
        dst4[o] = select(vec4f(0.0), val, inside);
        o += L4;
      }
    }
  }
}

// im2col for stride sw = 1 with W and Wo multiples of 4 (every row and
// every quad of q starts at a multiple of 4 floats): one invocation = a run
// of RQ quads (4·RQ consecutive columns) of one output row, all KH·KW taps.
// Per tap row ky it loads the input row segment the run's windows cover
// once, as NV aligned vec4s (a vec4 lies wholly inside or outside the row,
// so padding is one select per vec4), and builds every kx tap's vec4 from
// those registers: KW, DW, PW, RQ and NV are override constants, so all the
// segment indices below are compile-time constants once the loops are
// unrolled. Load instructions per output: (NV / (4·RQ)) / KW instead of 1.
// Grid (x: runs over the slab's rows — Ho rows of image z in the forward
// layout, N·Ho rows in the batch-folded one —, y: c, z). A run past the
// row's last quad (Wo/4 not a multiple of RQ) stores nothing there.
override KW: u32 = 3u;
override DW: u32 = 1u;
override PW: u32 = 1u;
override RQ: u32 = 1u;
override NV: u32 = 3u;
const SEG_MAX: u32 = 8u;

@group(0) @binding(5) var<storage, read> src4: array<vec4f>;

@compute @workgroup_size(WG)
fn im2col_rows(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.y;
  let z = wid.z;
  let Q = p.Wo / 4u;                 // quads per output row
  let runs = (Q + RQ - 1u) / RQ;     // runs per output row
  let t = wid.x * WG + lid.x;
  let r = t / runs;                  // row of the slab
  if (r >= p.Lv / p.Wo) { return; }
  let run = t - r * runs;
  let nn = r / p.Ho;
  let oy = r - nn * p.Ho;
  let n = z + nn;
  let qa = run * RQ;                 // first quad of the run within its row
  let a0 = (PW + 3u) / 4u;           // segment starts a0 vec4s left of the run
  let W4 = p.W / 4u;
  let plane4 = (n * p.C + c) * (p.H * W4);
  let L4 = p.Lp / 4u;
  let o0 = (z * p.CKp + c * p.KH * KW) * L4 + r * Q + qa;
  // Element e of the segment (e = 0 at column 4·(qa − a0) of the input row).
  let shift = 4u * a0 - PW;
  var seg: array<vec4f, SEG_MAX>;
  for (var ky = 0u; ky < p.KH; ky++) {
    let iy = i32(oy * p.sh + ky * p.dh) - i32(p.ph);
    let rowOk = iy >= 0 && iy < i32(p.H);
    let rbase = plane4 + u32(clamp(iy, 0, i32(p.H) - 1)) * W4;
    for (var j = 0u; j < NV; j++) {
      let ax = i32(qa + j) - i32(a0);
      let ok = rowOk && ax >= 0 && ax < i32(W4);
      seg[j] = select(vec4f(0.0), src4[rbase + u32(clamp(ax, 0, i32(W4) - 1))], ok);
    }
    var o = o0 + ky * KW * L4;
    for (var kx = 0u; kx < KW; kx++) {
      for (var v = 0u; v < RQ; v++) {
        let e = shift + 4u * v + kx * DW;
        if (qa + v < Q) {
          dst4[o + v] = vec4f(seg[e / 4u][e % 4u], seg[(e + 1u) / 4u][(e + 1u) % 4u], seg[(e + 2u) / 4u][(e + 2u) % 4u], seg[(e + 3u) / 4u][(e + 3u) % 4u]);
        }
      }
      o += L4;
    }
  }
}

// Zero rows CK .. CKp − 1 of every z block of col (grid x: quads, y: row, z).
@compute @workgroup_size(WG)
fn col_zero(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let q4 = wid.x * WG + lid.x;
  let L4 = p.Lp / 4u;
  if (q4 >= L4) { return; }
  dst4[(wid.z * p.CKp + p.CK + wid.y) * L4 + q4] = vec4f(0.0);
}

// dy[n, o, p] for column q = n·HW + p of dyt, 0 past N·HW.
fn dyv(o: u32, n: u32, pp: u32) -> f32 {
  let v = src[(min(n, p.N - 1u) * p.O + o) * p.HW + pp];
  return select(0.0, v, n < p.N);
}

@compute @workgroup_size(WG)
fn dy_t(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let q4 = wid.x * WG + lid.x;
  let o = wid.y;
  let Kp4 = p.Lp / 4u;
  if (q4 >= Kp4) { return; }
  let q0 = q4 * 4u;
  var n = q0 / p.HW;
  var pp = q0 % p.HW;
  let v0 = dyv(o, n, pp);
  next(&n, &pp);
  let v1 = dyv(o, n, pp);
  next(&n, &pp);
  let v2 = dyv(o, n, pp);
  next(&n, &pp);
  let v3 = dyv(o, n, pp);
  dst4[o * Kp4 + q4] = vec4f(v0, v1, v2, v3);
}

// dy_t for HW a multiple of 4 (no quad of q straddles two images, no
// padding columns): each quad is one vec4 of dy. One invocation = RQ
// consecutive quads of row o, stepping (n, p) along instead of dividing.
@compute @workgroup_size(WG)
fn dy_t4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let o = wid.y;
  let Kp4 = p.Lp / 4u;
  let HW4 = p.HW / 4u;
  let q4 = (wid.x * WG + lid.x) * RQ;
  if (q4 >= Kp4) { return; }
  var n = q4 / HW4;
  var p4 = q4 - n * HW4;
  for (var v = 0u; v < RQ; v++) {
    if (q4 + v < Kp4) { dst4[o * Kp4 + q4 + v] = src4[(n * p.O + o) * HW4 + p4]; }
    p4 += 1u;
    if (p4 == HW4) { p4 = 0u; n += 1u; }
  }
}

// Stride as override constants so that the exactness test and the division
// below compile to shifts/multiplies for the usual strides (1, 2).
override SH: u32 = 1u;
override SW: u32 = 1u;

@compute @workgroup_size(WG)
fn col2im(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = wid.x * WG + lid.x;
  let c = wid.y;
  let n = wid.z;
  if (i >= p.H * p.W) { return; }
  let yy = i / p.W;
  let y = i32(yy) + i32(p.ph);
  let x = i32(i - yy * p.W) + i32(p.pw);
  let kk = p.KH * p.KW;
  var rowbase = (n * p.CKp + c * kk) * p.HWp;
  var acc = 0.0;
  for (var ky = 0u; ky < p.KH; ky++) {
    let ty = y - i32(ky * p.dh);
    let oy = u32(max(ty, 0)) / SH;
    let oky = ty >= 0 && u32(ty) == oy * SH && oy < p.Ho;
    for (var kx = 0u; kx < p.KW; kx++) {
      let tx = x - i32(kx * p.dw);
      let ox = u32(max(tx, 0)) / SW;
      let ok = oky && tx >= 0 && u32(tx) == ox * SW && ox < p.Wo;
      let v = src[rowbase + min(oy, p.Ho - 1u) * p.Wo + min(ox, p.Wo - 1u)];
      acc += select(0.0, v, ok);
      rowbase += p.HWp;
    }
  }
  dst[(n * p.C + c) * p.H * p.W + i] = acc;
}

// The weight of dx = conv(dy, w_flip) for stride 1 (a transposed conv as a
// plain conv): wf[c][o·KK + t] = w[o][c][KK − 1 − t] (both taps flipped),
// [C, CKp] with CK = O·KK here and zero columns past it. 1-D, folded grid.
@compute @workgroup_size(WG)
fn w_flip(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.total) { return; }
  let j = i % p.CKp;
  let c = i / p.CKp;
  let kk = p.KH * p.KW;
  let o = j / kk;
  let t = j - o * kk;
  var v = 0.0;
  if (j < p.CK) { v = src[(o * p.C + c) * kk + kk - 1u - t]; }
  dst[i] = v;
}

@compute @workgroup_size(WG)
fn repad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.total) { return; }
  let j = i % p.cols_d;
  let r = i / p.cols_d;
  let b = r % p.Ri_d;
  let a = r / p.Ri_d;
  var v = 0.0;
  if (b < p.Ri_s && j < p.cols_s) {
    v = src[(a * p.Ri_s + b) * p.cols_s + j];
    if (HAS_BIAS) { v += bias[b]; }
  }
  if (ACCUMULATE) { dst[i] = dst[i] + v; } else { dst[i] = v; }
}
