// Gradient of conv2d w.r.t. the weight, split over the reduction axis
// ("split-K"): the GPU path of src/ops/conv2d.ts (adapters without 8-lane
// subgroups; lavapipe keeps im2col + matmul_sg).
//
//   dW[g·Og + o, j] = Σ_k dy[n, g·Og + o, oy, ox] · x[n, g·Cg + c, oy·sh + ky·dh − ph, ox·sw + kx·dw − pw]
//   j = (c·KH + ky)·KW + kx  (0 ≤ j < CK = Cg·KH·KW),  k = (n·Ho + oy)·Wo + ox  (0 ≤ k < K = N·Ho·Wo)
//   x is 0 outside the image (padding).
//
// Layouts: x NCHW, dy NCHW, dW OIHW = [O, CK] row-major. Nothing is re-laid
// out first: the tile loads gather straight from x and dy (implicit im2col).
//
// Why split-K: dW is small (O·CK, e.g. 16·144 = 2304 values) and the
// reduction is long (K = N·Ho·Wo, e.g. 100·32·32 = 102400). Giving each
// invocation whole dW elements and a serial loop over K (conv2d_bwd_weight in
// conv2d.wgsl) leaves a GPU almost idle. Here the K axis is cut into S chunks
// of `chunk` values (a multiple of TK; the last one may be short):
//
// conv2d_gw_partial  grid (⌈CK/TN⌉, groups·⌈Og/TM⌉, S), 256 invocations.
//   Workgroup (jt, (g, ot), s) computes the TM × TN tile of dW for group g over
//   chunk s and writes it to part[s][g·Og + o][j] (part is [S, O, CK]; with
//   S = 1 the host binds dW itself, whose layout is the same).
//   Per TK = 16 reduction steps: every invocation loads TM/16 values of dy and
//   TN/16 values of x into workgroup memory (lanes run along k, so global loads
//   are contiguous along the output row; its k is decomposed into (n, oy, ox)
//   once per step and its columns into (c, ky, kx) once per workgroup),
//   barrier, then each invocation (tr, tc) of the 16 × 16 grid accumulates
//   rows tr + 16·i (i < TM/16) × columns tc + 16·jj (jj < TN/16) in registers
//   from the tiles (strided, so the column reads of a warp hit distinct banks
//   and the row reads are broadcasts). The tiles are stored k-major with a row
//   pitch of TM + 1 / TN + 1 so the stores (16 consecutive k per half-warp)
//   do not all land in one bank.
//   TM, TN ∈ {16, 32, 64} are override constants chosen from Og and CK
//   (a 16-channel layer does not pay for a 64-row tile).
// conv2d_gw_sum      dst[i] = Σ_{s = 0..S−1} part[s·T + i], T = O·CK, in a fixed
//   order (no atomics: the result is deterministic). 32·SLICES invocations =
//   32 consecutive outputs (one coalesced 128-byte row per warp) × SLICES
//   slices (8: 256 invocations; 4 where a compatibility-mode device allows only
//   128); slice sl sums s = sl, sl + SLICES, … into 4 round-robin accumulators
//   (4 loads in flight), then slice 0 adds the slice sums in order. The order
//   depends only on S and SLICES. 1-D grid over ⌈T/32⌉, folded into x·y.
// ACCUMULATE (override): the final values are added to dst in place
//   (dst = dst + Σ, after the full sum: the same f32 add as elementwise.wgsl's
//   acc_add with alpha 1), so a weight's gradient lands in its .grad without a
//   separate add (src/autograd/leaf-grad.ts). Set by the host only on the
//   dispatch that writes dW: conv2d_gw_sum, or conv2d_gw_partial when S = 1
//   (never on partials; src/ops/dispatch-list.ts accumulateInto).

override TM: u32 = 64;  // output channels per tile: 16, 32 or 64
override TN: u32 = 64;  // (c, ky, kx) columns per tile: 16, 32 or 64
const TK: u32 = 16u;    // reduction steps per tile load
override PM: u32 = TM + 1u;  // padded pitches of the k-major tiles (derived; not set by the host)
override PN: u32 = TN + 1u;
override ACCUMULATE: bool = false;
override SLICES: u32 = 8u;  // conv2d_gw_sum: chunk slices per workgroup (32·SLICES invocations)
override SUM_WG: u32 = 32u * SLICES;

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
  Cg: u32,     // input channels per group
  Og: u32,     // output channels per group
  CK: u32,     // Cg·KH·KW, columns of dW
  K: u32,      // N·Ho·Wo, the reduction length
  chunk: u32,  // reduction values per chunk (multiple of TK)
  S: u32,      // number of chunks
  T: u32,      // O·CK, elements of dW (conv2d_gw_sum)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> part: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

var<workgroup> As: array<f32, PM * TK>;  // As[kk·PM + m] = dy value of row m0 + m at k0 + kk
var<workgroup> Bs: array<f32, PN * TK>;  // Bs[kk·PN + jn] = x value of column j0 + jn at k0 + kk
var<workgroup> red: array<f32, 256>;  // conv2d_gw_partial: 256; conv2d_gw_sum: SUM_WG ≤ 256

@compute @workgroup_size(256)
fn conv2d_gw_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let RM = TM / 16u;
  let RN = TN / 16u;
  let tilesO = (p.Og + TM - 1u) / TM;
  let g = wid.y / tilesO;
  let m0 = (wid.y % tilesO) * TM;
  let j0 = wid.x * TN;
  let s = wid.z;
  let kbeg = s * p.chunk;
  let kend = min(kbeg + p.chunk, p.K);
  let HWo = p.Ho * p.Wo;
  let HW = p.H * p.W;
  let kk2 = p.KH * p.KW;

  // Loading role: reduction offset kk within a step, rows / columns r0 + 16·t.
  let kk = li % TK;
  let r0 = li / TK;
  // x offsets of this invocation's (up to 4) tile columns: channel plane and tap.
  var bplane: array<u32, 4>;
  var bdy: array<i32, 4>;
  var bdx: array<i32, 4>;
  var bok: array<bool, 4>;
  for (var t = 0u; t < 4u; t++) {
    let jn = j0 + r0 + 16u * t;
    bok[t] = t < RN && jn < p.CK;
    let j = min(jn, p.CK - 1u);
    let c = j / kk2;
    let ky = (j % kk2) / p.KW;
    let kx = j % p.KW;
    bplane[t] = (g * p.Cg + c) * HW;
    bdy[t] = i32(ky * p.dh) - i32(p.ph);
    bdx[t] = i32(kx * p.dw) - i32(p.pw);
  }
  // dy offsets of this invocation's (up to 4) tile rows (channel planes).
  var aplane: array<u32, 4>;
  var aok: array<bool, 4>;
  for (var t = 0u; t < 4u; t++) {
    let m = m0 + r0 + 16u * t;
    aok[t] = t < RM && m < p.Og;
    aplane[t] = (g * p.Og + min(m, p.Og - 1u)) * HWo;
  }

  let tr = li / 16u;
  let tc = li % 16u;
  var acc: array<f32, 16>;  // acc[i·4 + jj]: row tr + 16·i, column tc + 16·jj
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }

  // kbeg, kend are uniform across the workgroup, so the barriers are too.
  for (var k0 = kbeg; k0 < kend; k0 += TK) {
    let k = k0 + kk;
    let kv = k < kend;
    let kc = min(k, p.K - 1u);
    let n = kc / HWo;
    let r = kc % HWo;
    let oy = r / p.Wo;
    let ox = r % p.Wo;
    let dyn = n * p.O * HWo + r;
    for (var t = 0u; t < RM; t++) {
      var v = 0.0;
      if (kv && aok[t]) { v = dy[dyn + aplane[t]]; }
      As[kk * PM + r0 + 16u * t] = v;
    }
    let xn = n * p.C * HW;
    let iy0 = i32(oy * p.sh);
    let ix0 = i32(ox * p.sw);
    for (var t = 0u; t < RN; t++) {
      let iy = iy0 + bdy[t];
      let ix = ix0 + bdx[t];
      var v = 0.0;
      if (kv && bok[t] && iy >= 0 && ix >= 0 && u32(iy) < p.H && u32(ix) < p.W) {
        v = x[xn + bplane[t] + u32(iy) * p.W + u32(ix)];
      }
      Bs[kk * PN + r0 + 16u * t] = v;
    }
    workgroupBarrier();
    for (var q = 0u; q < TK; q++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < RM; i++) { a[i] = As[q * PM + tr + 16u * i]; }
      for (var jj = 0u; jj < RN; jj++) { b[jj] = Bs[q * PN + tc + 16u * jj]; }
      for (var i = 0u; i < RM; i++) {
        for (var jj = 0u; jj < RN; jj++) {
          acc[i * 4u + jj] = fma(a[i], b[jj], acc[i * 4u + jj]);
        }
      }
    }
    workgroupBarrier();
  }

  let base = s * p.O + g * p.Og;
  for (var i = 0u; i < RM; i++) {
    let m = m0 + tr + 16u * i;
    if (m >= p.Og) { break; }
    for (var jj = 0u; jj < RN; jj++) {
      let j = j0 + tc + 16u * jj;
      if (j < p.CK) {
        let di = (base + m) * p.CK + j;
        if (ACCUMULATE) { dst[di] = dst[di] + acc[i * 4u + jj]; } else { dst[di] = acc[i * 4u + jj]; }
      }
    }
  }
}

@compute @workgroup_size(SUM_WG)
fn conv2d_gw_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let col = li % 32u;
  let sl = li / 32u;
  let i = (wid.x + wid.y * nwg.x) * 32u + col;
  // Four independent accumulators (chunks sl + SLICES·(4·t + u), u = 0..3) so
  // four loads are in flight per invocation; combined in the order 0, 1, 2, 3.
  var a0 = 0.0;
  var a1 = 0.0;
  var a2 = 0.0;
  var a3 = 0.0;
  if (i < p.T) {
    var s = sl;
    for (; s + 3u * SLICES < p.S; s += 4u * SLICES) {
      a0 += part[s * p.T + i];
      a1 += part[(s + SLICES) * p.T + i];
      a2 += part[(s + 2u * SLICES) * p.T + i];
      a3 += part[(s + 3u * SLICES) * p.T + i];
    }
    if (s < p.S) { a0 += part[s * p.T + i]; }
    if (s + SLICES < p.S) { a1 += part[(s + SLICES) * p.T + i]; }
    if (s + 2u * SLICES < p.S) { a2 += part[(s + 2u * SLICES) * p.T + i]; }
  }
  red[li] = ((a0 + a1) + a2) + a3;
  workgroupBarrier();
  if (sl == 0u && i < p.T) {
    var v = red[col];
    for (var k = 1u; k < SLICES; k++) { v += red[k * 32u + col]; }
    if (ACCUMULATE) { dst[i] = dst[i] + v; } else { dst[i] = v; }
  }
}
