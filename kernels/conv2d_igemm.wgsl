// Implicit-GEMM 2-D convolution for GPUs: forward, gradient w.r.t. the input
// and gradient w.r.t. the weight, each one GEMM whose gathered operand is
// read from x (or dy) straight into workgroup memory, tile by tile — no
// im2col buffer, no re-layout pass. The igemm path of src/ops/conv2d-igemm.ts;
// the autotuner picks it, and its tile sizes, per shape and adapter.
//
// Layouts: x NCHW [N, C, H, W], w OIHW [O, Cg, KH, KW] (Cg = C/groups,
// Og = O/groups), dy NCHW [N, O, Ho, Wo]. KK = KH·KW, CK = Cg·KK,
// HWo = Ho·Wo. Padding reads as 0.
//
//   conv2d_igemm_fwd          grid (⌈N·HWo/BN⌉, ⌈Og/BM⌉, groups)
//     y[n, g·Og + m, p] = Σ_k A[m, k]·B[k, q] (+ bias),  q = n·HWo + p,
//     A = w rows of group g (contiguous in k = (c·KH + ky)·KW + kx),
//     B[k, q] = x[n, g·Cg + c, oy·sh + ky·dh − ph, ox·sw + kx·dw − pw].
//   conv2d_igemm_grad_input   grid (⌈N·⌈H/sh⌉·⌈W/sw⌉/BN⌉, ⌈Cg/BM⌉, groups·sh·sw)
//     The transposed convolution split by output phase (ry, rx) = (iy mod sh,
//     ix mod sw): a pixel of phase (ry, rx) is reached only by the taps with
//     (ry + ph − ky·dh) ≡ 0 (mod sh) (likewise kx), an arithmetic progression
//     ky = ky0 + t·step_y, step_y = sh / gcd(sh, dh). So each phase is a dense
//     GEMM with no zero taps (a stride-2 3×3 conv does 1, 2 or 4 taps per
//     pixel instead of 9 of which most are 0):
//     dx[n, g·Cg + c, iy, ix] = Σ_k A[c, k]·B[k, q],  k = (o, ty, tx) over
//     Og × nky × nkx, A[c, k] = w[g·Og + o, c, ky, kx],
//     B[k, q] = dy[n, g·Og + o, a + ey, b + ex], iy = ry + a·sh, ix = rx + b·sw,
//     ey = (ry + ph − ky·dh)/sh (exact). A phase with no taps writes zeros.
//   conv2d_igemm_grad_weight  grid (⌈CK/BN⌉, ⌈Og/BM⌉, groups·S)
//     part[s][g·Og + m][j] = Σ_{q in chunk s} A[m, q]·B[q, j],
//     A[m, q] = dy[n, g·Og + m, p], B[q, j] = x at (n, p) and tap j. The long
//     reduction (N·HWo) is cut into S chunks of `chunk` values (a multiple of
//     BK); with S > 1 the host sums the partials [S, O, CK] with
//     conv2d_grad_weight.wgsl's conv2d_gw_sum (fixed order, deterministic);
//     with S = 1 it binds dW itself (same layout).
//     ACCUMULATE (override): with S = 1, dW's values are added to dst in
//     place (dst = dst + Σ, after the full sum: the same f32 add as
//     elementwise.wgsl's acc_add with alpha 1), so a weight's gradient lands
//     in its .grad without a separate add (src/autograd/leaf-grad.ts); with
//     S > 1 conv2d_gw_sum takes the flag instead, never the partials.
//
// Tiling (override constants, chosen by the autotuner; checked by the host):
//   * a workgroup computes a BM × BN tile of the output; per BK steps of k it
//     copies A[BM × BK] into tileA (vec4 along k) and B[BK × BN] into tileB
//     (vec4 along the columns), zero past every edge, barrier, multiplies,
//     barrier;
//   * WG = (BM/TM)·(BN/TN) invocations; invocation (tx, ty) holds TM rows
//     ty + i·(BM/TM) × TN/4 vec4 columns tx + j·(BN/TN) in registers (strided,
//     as matmul_tiled_v4.wgsl: neighbouring invocations read neighbouring
//     workgroup words); per 4 steps of k it reads TM + TN vec4s for 4·TM·TN FMAs;
//   * the gather of B: invocation `tid` always fills the same vec4 column
//     jb = tid mod (BN/4) of tileB (WG is a multiple of BN/4), rows
//     tid / (BN/4) + r·(WG/(BN/4)); so the division of its 4 columns into
//     image coordinates is done once per workgroup, and each k row costs one
//     division into (channel, tap) and 4 bounds-checked loads. In the forward
//     and grad-input (columns = pixels) vec4 column jb holds the pixels
//     jb + e·(BN/4), e = 0..3, not 4·jb + e: for each e neighbouring
//     invocations then read (and the epilogue writes) neighbouring pixels, one
//     contiguous span per warp instead of a word every 16 bytes. (Grad-weight's
//     columns are (channel, tap) pairs: contiguous 4·jb + e.) Which column a
//     sum lands in changes nothing in its order: the same bits;
//   * the A loaders likewise: invocation `tid` fills the columns
//     kk ≡ tid (mod BK) (WG and BK divide one another), so a column's
//     division into (channel, tap) or (image, pixel) is done once per step,
//     not once per element; those divisions are by override constants where
//     the shape allows (KHC, KWC, UNIT_STRIDE, HWOC, WOC below);
//   * VEC4_A: A is read as vec4 from w4 (forward, CK % 4 == 0) or dy4
//     (grad-weight, HWo % 4 == 0): the same buffer as w / dy, bound twice;
//     otherwise scalar loads (the host binds a placeholder to the vec4 name).
// Constraints: TN % 4 == 0, BK % 4 == 0, BM % TM == 0, BN % TN == 0,
// TM ≤ 16, TM·TN ≤ 64, WG % (BN/4) == 0, (BK·BN/4) % WG == 0, WG and BK
// (and BK/4) multiples of one another, 4·(BM + BN)·BK bytes of workgroup memory.
// Summation order over k is ascending within a chunk, like a plain loop.

override BM: u32 = 64u;
override BN: u32 = 64u;
override BK: u32 = 16u;
override TM: u32 = 8u;
override TN: u32 = 8u;
override WG: u32 = 64u;
override HAS_BIAS: bool = false;
override VEC4_A: bool = false;
// Shape values as constants (the host passes the shape's), so the index arithmetic of the loaders,
// every k-step, divides by constants (multiply-shifts) instead of runtime values:
//   KHC, KWC: the kernel's height and width (forward; grad-input when UNIT_STRIDE);
//   UNIT_STRIDE: sh = sw = 1 (grad-input: one phase holding every tap, KHC·KWC of them);
//   HWOC, WOC: Ho·Wo and Wo (grad-weight: a reduction index → image, output row and column).
override KHC: u32 = 3u;
override KWC: u32 = 3u;
override UNIT_STRIDE: bool = false;
override HWOC: u32 = 1u;
override WOC: u32 = 1u;
override ACCUMULATE: bool = false;

struct Params {
  N: u32,
  C: u32,
  H: u32,
  W: u32,
  O: u32,
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
  Cg: u32,      // input channels per group
  Og: u32,      // output channels per group
  CK: u32,      // Cg·KH·KW
  K: u32,       // grad-weight: the reduction length N·Ho·Wo
  chunk: u32,   // grad-weight: reduction values per chunk (multiple of BK)
  step_y: u32,  // grad-input: sh / gcd(sh, dh), the period of the taps of one phase
  step_x: u32,  // grad-input: sw / gcd(sw, dw)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> w4: array<vec4f>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(6) var<storage, read> bias: array<f32>;
@group(0) @binding(7) var<storage, read_write> dst: array<f32>;

// tileA[r·(BK/4) + q] = A[m0 + r, k0 + 4q .. +3]
var<workgroup> tileA: array<vec4f, BM * BK / 4>;
// tileB[kk·(BN/4) + j] = B[k0 + kk, n0 + 4j .. +3] (grad-weight), B[k0 + kk, n0 + j + e·(BN/4)] (forward, grad-input)
var<workgroup> tileB: array<vec4f, BK * BN / 4>;

// acc += tileA · tileB for this invocation's TM × TN block (see the header).
// The loops have override bounds, constants at pipeline creation: they
// unroll and the arrays stay in registers.
fn multiply_tiles(acc: ptr<function, array<vec4f, 16>>, tx: u32, ty: u32) {
  let WGX = BN / TN;
  let WGY = BM / TM;
  var av: array<vec4f, 16>;
  for (var q = 0u; q < BK / 4u; q++) {
    for (var i = 0u; i < TM; i++) { av[i] = tileA[(ty + i * WGY) * (BK / 4u) + q]; }
    for (var j = 0u; j < TN / 4u; j++) {
      let col = tx + j * WGX;
      let b0 = tileB[(4u * q + 0u) * (BN / 4u) + col];
      let b1 = tileB[(4u * q + 1u) * (BN / 4u) + col];
      let b2 = tileB[(4u * q + 2u) * (BN / 4u) + col];
      let b3 = tileB[(4u * q + 3u) * (BN / 4u) + col];
      for (var i = 0u; i < TM; i++) {
        let a = av[i];
        let t = i * (TN / 4u) + j;
        (*acc)[t] = fma(vec4f(a.w), b3, fma(vec4f(a.z), b2, fma(vec4f(a.y), b1, fma(vec4f(a.x), b0, (*acc)[t]))));
      }
    }
  }
}

// ---- forward ----------------------------------------------------------------

@compute @workgroup_size(WG)
fn conv2d_igemm_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let WGX = BN / TN;
  let WGY = BM / TM;
  let tx = tid % WGX;
  let ty = tid / WGX;
  let g = wid.z;
  let m0 = wid.y * BM;
  let q0 = wid.x * BN;
  let HWo = p.Ho * p.Wo;
  let HWi = p.H * p.W;
  let P = p.N * HWo;
  let KK = KHC * KWC;

  // This invocation's 4 columns of tileB: image, top-left of the window.
  let jb = tid % (BN / 4u);
  var xbase: array<u32, 4>;
  var iy0: array<i32, 4>;
  var ix0: array<i32, 4>;
  var qok: array<bool, 4>;
  for (var e = 0u; e < 4u; e++) {
    let q = q0 + jb + e * (BN / 4u);
    qok[e] = q < P;
    let qc = min(q, P - 1u);
    let n = qc / HWo;
    let r = qc % HWo;
    xbase[e] = (n * p.C + g * p.Cg) * HWi;
    iy0[e] = i32((r / p.Wo) * p.sh) - i32(p.ph);
    ix0[e] = i32((r % p.Wo) * p.sw) - i32(p.pw);
  }

  var acc: array<vec4f, 16>;
  for (var k0 = 0u; k0 < p.CK; k0 += BK) {
    if (VEC4_A) {
      for (var kq = tid % (BK / 4u); kq < BK / 4u; kq += WG) {
        let k = k0 + 4u * kq;
        for (var r = tid / (BK / 4u); r < BM; r += max(WG / (BK / 4u), 1u)) {
          let m = m0 + r;
          var v = vec4f(0.0);
          if (m < p.Og && k < p.CK) { v = w4[((g * p.Og + m) * p.CK + k) / 4u]; }
          tileA[r * (BK / 4u) + kq] = v;
        }
      }
    } else {
      // Four scalar loads per vec4, stored whole: invocations never share a vec4 of tileA (a
      // component store may rewrite the whole vector, so two writers of one vec4 would race).
      for (var kq = tid % (BK / 4u); kq < BK / 4u; kq += WG) {
        for (var r = tid / (BK / 4u); r < BM; r += max(WG / (BK / 4u), 1u)) {
          let m = m0 + r;
          var v = vec4f(0.0);
          for (var e = 0u; e < 4u; e++) {
            let k = k0 + 4u * kq + e;
            if (m < p.Og && k < p.CK) { v[e] = w[(g * p.Og + m) * p.CK + k]; }
          }
          tileA[r * (BK / 4u) + kq] = v;
        }
      }
    }
    for (var kk = tid / (BN / 4u); kk < BK; kk += WG / (BN / 4u)) {
      let k = k0 + kk;
      let kc = min(k, p.CK - 1u);
      let t = kc % KK;
      let plane = (kc / KK) * HWi;
      let oy = i32((t / KWC) * p.dh);
      let ox = i32((t % KWC) * p.dw);
      var v = vec4f(0.0);
      for (var e = 0u; e < 4u; e++) {
        let iy = iy0[e] + oy;
        let ix = ix0[e] + ox;
        if (k < p.CK && qok[e] && iy >= 0 && ix >= 0 && u32(iy) < p.H && u32(ix) < p.W) {
          v[e] = x[xbase[e] + plane + u32(iy) * p.W + u32(ix)];
        }
      }
      tileB[kk * (BN / 4u) + jb] = v;
    }
    workgroupBarrier();
    multiply_tiles(&acc, tx, ty);
    workgroupBarrier();
  }

  for (var i = 0u; i < TM; i++) {
    let m = m0 + ty + i * WGY;
    if (m >= p.Og) { break; }
    let o = g * p.Og + m;
    var b = 0.0;
    if (HAS_BIAS) { b = bias[o]; }
    for (var j = 0u; j < TN / 4u; j++) {
      let v = acc[i * (TN / 4u) + j];
      let qb = q0 + tx + j * WGX;
      for (var e = 0u; e < 4u; e++) {
        let q = qb + e * (BN / 4u);
        if (q < P) { dst[((q / HWo) * p.O + o) * HWo + q % HWo] = v[e] + b; }
      }
    }
  }
}

// ---- gradient w.r.t. the input -------------------------------------------

// The first tap t < min(step, K) of a phase: (base − t·d) ≡ 0 (mod s), with
// base = r + pad; K when there is none. (base + t·d·(s − 1) is congruent and
// stays unsigned.)
fn first_tap(base: u32, d: u32, s: u32, step: u32, K: u32) -> u32 {
  for (var t = 0u; t < min(step, K); t++) {
    if ((base + t * d * (s - 1u)) % s == 0u) { return t; }
  }
  return K;
}

@compute @workgroup_size(WG)
fn conv2d_igemm_grad_input(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let WGX = BN / TN;
  let WGY = BM / TM;
  let tx = tid % WGX;
  let ty = tid / WGX;
  let phases = p.sh * p.sw;
  let g = wid.z / phases;
  let ry = (wid.z % phases) / p.sw;
  let rx = wid.z % p.sw;
  // This phase's pixels: iy = ry + a·sh (a < Hp), ix = rx + b·sw (b < Wp).
  var Hp = 0u;
  if (ry < p.H) { Hp = (p.H - ry + p.sh - 1u) / p.sh; }
  var Wp = 0u;
  if (rx < p.W) { Wp = (p.W - rx + p.sw - 1u) / p.sw; }
  let HWp = Hp * Wp;
  let P = p.N * HWp;
  let q0 = wid.x * BN;
  // The grid is sized for phase (0, 0), the largest. The condition is uniform
  // across the workgroup, so leaving here keeps the barriers below uniform.
  if (q0 >= P) { return; }
  let m0 = wid.y * BM;
  let HWo = p.Ho * p.Wo;
  let HWi = p.H * p.W;
  let KK = p.KH * p.KW;
  // The phase's taps: ky = ky0 + t·step_y (t < nky), likewise kx. With unit stride, every tap, as
  // constants (the divisions by taps and nkx below are then by constants).
  var ky0 = 0u;
  var kx0 = 0u;
  var nky = KHC;
  var nkx = KWC;
  if (!UNIT_STRIDE) {
    ky0 = first_tap(ry + p.ph, p.dh, p.sh, p.step_y, p.KH);
    kx0 = first_tap(rx + p.pw, p.dw, p.sw, p.step_x, p.KW);
    nky = 0u;
    if (ky0 < p.KH) { nky = (p.KH - ky0 + p.step_y - 1u) / p.step_y; }
    nkx = 0u;
    if (kx0 < p.KW) { nkx = (p.KW - kx0 + p.step_x - 1u) / p.step_x; }
  }
  let taps = nky * nkx;
  let Kg = p.Og * taps;

  let jb = tid % (BN / 4u);
  var dybase: array<u32, 4>;
  var ya: array<i32, 4>;
  var xb: array<i32, 4>;
  var qok: array<bool, 4>;
  for (var e = 0u; e < 4u; e++) {
    let q = q0 + jb + e * (BN / 4u);
    qok[e] = q < P;
    let qc = min(q, P - 1u);
    let r = qc % HWp;
    dybase[e] = ((qc / HWp) * p.O + g * p.Og) * HWo;
    ya[e] = i32(r / Wp);
    xb[e] = i32(r % Wp);
  }

  var acc: array<vec4f, 16>;
  for (var k0 = 0u; k0 < Kg; k0 += BK) {
    // A[c, k] = w[g·Og + o, c, ky, kx]: strided in k, scalar loads; k is
    // divided into (o, tap) once per column, not per element. Each invocation
    // stores whole vec4s of tileA (four k): no two writers share a vector.
    for (var kq = tid % (BK / 4u); kq < BK / 4u; kq += WG) {
      var wk: array<u32, 4>;
      for (var e = 0u; e < 4u; e++) {
        let kc = min(k0 + 4u * kq + e, Kg - 1u);
        let t = kc % taps;
        wk[e] = (g * p.Og + kc / taps) * p.Cg * KK + (ky0 + (t / nkx) * p.step_y) * p.KW + kx0 + (t % nkx) * p.step_x;
      }
      for (var r = tid / (BK / 4u); r < BM; r += max(WG / (BK / 4u), 1u)) {
        let c = m0 + r;
        var v = vec4f(0.0);
        for (var e = 0u; e < 4u; e++) {
          if (c < p.Cg && k0 + 4u * kq + e < Kg) { v[e] = w[wk[e] + c * KK]; }
        }
        tileA[r * (BK / 4u) + kq] = v;
      }
    }
    for (var kk = tid / (BN / 4u); kk < BK; kk += WG / (BN / 4u)) {
      let k = k0 + kk;
      let kc = min(k, Kg - 1u);
      let o = kc / taps;
      let t = kc % taps;
      let ky = ky0 + (t / nkx) * p.step_y;
      let kx = kx0 + (t % nkx) * p.step_x;
      var ey = i32(p.ph) - i32(ky * p.dh);
      var ex = i32(p.pw) - i32(kx * p.dw);
      if (!UNIT_STRIDE) {
        ey = (i32(ry + p.ph) - i32(ky * p.dh)) / i32(p.sh);
        ex = (i32(rx + p.pw) - i32(kx * p.dw)) / i32(p.sw);
      }
      var v = vec4f(0.0);
      for (var e = 0u; e < 4u; e++) {
        let oy = ya[e] + ey;
        let ox = xb[e] + ex;
        if (k < Kg && qok[e] && oy >= 0 && ox >= 0 && u32(oy) < p.Ho && u32(ox) < p.Wo) {
          v[e] = dy[dybase[e] + o * HWo + u32(oy) * p.Wo + u32(ox)];
        }
      }
      tileB[kk * (BN / 4u) + jb] = v;
    }
    workgroupBarrier();
    multiply_tiles(&acc, tx, ty);
    workgroupBarrier();
  }

  for (var i = 0u; i < TM; i++) {
    let c = m0 + ty + i * WGY;
    if (c >= p.Cg) { break; }
    for (var j = 0u; j < TN / 4u; j++) {
      let v = acc[i * (TN / 4u) + j];
      let qb = q0 + tx + j * WGX;
      for (var e = 0u; e < 4u; e++) {
        let q = qb + e * (BN / 4u);
        if (q < P) {
          let r = q % HWp;
          let iy = ry + (r / Wp) * p.sh;
          let ix = rx + (r % Wp) * p.sw;
          dst[(((q / HWp) * p.C + g * p.Cg + c) * p.H + iy) * p.W + ix] = v[e];
        }
      }
    }
  }
}

// ---- gradient w.r.t. the weight ------------------------------------------

@compute @workgroup_size(WG)
fn conv2d_igemm_grad_weight(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let WGX = BN / TN;
  let WGY = BM / TM;
  let tx = tid % WGX;
  let ty = tid / WGX;
  let groups = p.C / p.Cg;
  let g = wid.z % groups;
  let s = wid.z / groups;
  let m0 = wid.y * BM;
  let j0 = wid.x * BN;
  let kbeg = s * p.chunk;
  let kend = min(kbeg + p.chunk, p.K);
  let HWo = HWOC; // = p.Ho·p.Wo, a constant: the loaders divide by it every k-step
  let HWi = p.H * p.W;
  let KK = p.KH * p.KW;

  // This invocation's 4 columns of tileB: channel plane and tap offsets.
  let jb = tid % (BN / 4u);
  var xoff: array<u32, 4>;
  var tapy: array<i32, 4>;
  var tapx: array<i32, 4>;
  var jok: array<bool, 4>;
  for (var e = 0u; e < 4u; e++) {
    let j = j0 + 4u * jb + e;
    jok[e] = j < p.CK;
    let jc = min(j, p.CK - 1u);
    let t = jc % KK;
    xoff[e] = (g * p.Cg + jc / KK) * HWi;
    tapy[e] = i32((t / p.KW) * p.dh) - i32(p.ph);
    tapx[e] = i32((t % p.KW) * p.dw) - i32(p.pw);
  }

  var acc: array<vec4f, 16>;
  // kbeg and kend are uniform across the workgroup, so the barriers are too.
  for (var k0 = kbeg; k0 < kend; k0 += BK) {
    // A[m, q] = dy[n, g·Og + m, p]: q divided into (n, p) once per column.
    if (VEC4_A) {
      // HWo % 4 == 0: 4 consecutive q of a 4-aligned quad share their image.
      for (var kq = tid % (BK / 4u); kq < BK / 4u; kq += WG) {
        let q = k0 + 4u * kq;
        let qc = min(q, p.K - 4u);
        let base = (((qc / HWo) * p.O + g * p.Og) * HWo + qc % HWo) / 4u;
        for (var r = tid / (BK / 4u); r < BM; r += max(WG / (BK / 4u), 1u)) {
          let m = m0 + r;
          var v = vec4f(0.0);
          if (m < p.Og && q < kend) { v = dy4[base + m * (HWo / 4u)]; }
          tileA[r * (BK / 4u) + kq] = v;
        }
      }
    } else {
      // Whole vec4s of tileA per invocation (four scalar loads each): no two writers share a vector.
      for (var kq = tid % (BK / 4u); kq < BK / 4u; kq += WG) {
        var base: array<u32, 4>;
        for (var e = 0u; e < 4u; e++) {
          let qc = min(k0 + 4u * kq + e, p.K - 1u);
          base[e] = ((qc / HWo) * p.O + g * p.Og) * HWo + qc % HWo;
        }
        for (var r = tid / (BK / 4u); r < BM; r += max(WG / (BK / 4u), 1u)) {
          let m = m0 + r;
          var v = vec4f(0.0);
          for (var e = 0u; e < 4u; e++) {
            if (m < p.Og && k0 + 4u * kq + e < kend) { v[e] = dy[base[e] + m * HWo]; }
          }
          tileA[r * (BK / 4u) + kq] = v;
        }
      }
    }
    for (var kk = tid / (BN / 4u); kk < BK; kk += WG / (BN / 4u)) {
      let q = k0 + kk;
      let qc = min(q, p.K - 1u);
      let r = qc % HWo;
      let xn = (qc / HWo) * p.C * HWi;
      let iyb = i32((r / WOC) * p.sh);
      let ixb = i32((r % WOC) * p.sw);
      var v = vec4f(0.0);
      for (var e = 0u; e < 4u; e++) {
        let iy = iyb + tapy[e];
        let ix = ixb + tapx[e];
        if (q < kend && jok[e] && iy >= 0 && ix >= 0 && u32(iy) < p.H && u32(ix) < p.W) {
          v[e] = x[xn + xoff[e] + u32(iy) * p.W + u32(ix)];
        }
      }
      tileB[kk * (BN / 4u) + jb] = v;
    }
    workgroupBarrier();
    multiply_tiles(&acc, tx, ty);
    workgroupBarrier();
  }

  let base = s * p.O + g * p.Og;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + ty + i * WGY;
    if (m >= p.Og) { break; }
    for (var j = 0u; j < TN / 4u; j++) {
      let v = acc[i * (TN / 4u) + j];
      let jq = j0 + 4u * (tx + j * WGX);
      for (var e = 0u; e < 4u; e++) {
        if (jq + e < p.CK) {
          let di = (base + m) * p.CK + jq + e;
          if (ACCUMULATE) { dst[di] = dst[di] + v[e]; } else { dst[di] = v[e]; }
        }
      }
    }
  }
}
