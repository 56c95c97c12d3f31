// conv2d (groups = 1) as an implicit GEMM for adapters with 8-wide subgroups
// (lavapipe/llvmpipe at 256 bits): matmul_sg.wgsl's scheme with the im2col
// matrix gathered from the input in registers instead of written to memory.
//
//   y[n, o, oy, ox] = Σ_{c, ky, kx} w[o, c, ky, kx] · x[n, c, oy·sh + ky·dh − ph, ox·SW + kx·DW − PW]  (+ bias[o])
//
// (0 outside the input). As a GEMM: rows = output channels o, columns =
// output pixels q = (n·Ho + oy)·Wo + ox over the whole batch, k = (c, ky, kx).
// (Entries: w_pack, conv2d_sg, conv2d_sg_gw for the weight gradient and
// conv2d_sg_dx for the strided input gradient, each described above it.)
// Layout: x NCHW [N, C, H, W], y NCHW [N, O, Ho, Wo], bias [O]; the weight
// packed by `w_pack` as wp [O, C·KH, 4]: one vec4 per (o, c, ky) holding the
// KW ≤ 4 taps kx (zeros past KW). For stride 1 the weight gradient's partner,
// dx = conv(dy, w flipped, channels swapped, padding d·(K − 1) − p), is the
// same kernel on dy with `w_pack`'s FLIP (no col2im, no im2col buffer).
//
// Conditions (host: src/ops/conv2d-sg.ts): KW ≤ 4, the row segment within
// SEG_MAX vec4s; any stride, padding and dilation. With W and Wo multiples
// of 4 (ALIGNED) every input row and output quad starts on a vec4 (a quad's
// windows start at input column 4·SW·qx − PW) and the segment is loaded as
// vec4s; otherwise as the scalars the windows use, with scalar stores.
//
// Tiling: a workgroup is one 8-lane subgroup and computes TM output channels
// × 8 quads of output pixels (32 columns). Lane l owns one quad (4
// consecutive pixels of one output row; rows of all images in sequence) and
// one vec4 accumulator per channel row. Per (c, ky) each lane
//   * loads the input row segment its quad's windows cover as NV aligned
//     vec4s (a vec4 is wholly inside or outside the row, so padding is one
//     select per vec4) and builds the KW tap vec4s from those registers
//     (KW, DW, PW, NV are override constants: constant register indices);
//   * loads ONE vec4 of packed weights per 8 rows (row 8·b + l's KW taps) —
//     the 8 rows reach every lane through subgroupBroadcast (a register
//     shuffle on llvmpipe, where every non-constant-address load is
//     scalarised lane by lane);
//   * does TM·KW vec4 FMAs.
// That is NV + TM/8 load instructions for 4·KW·TM FMAs per lane (3×3, pad 1,
// TM 32: 7 loads for 384 FMAs; matmul_sg8 over an im2col buffer: 8 for 512,
// plus the im2col pass that writes KH·KW× the input and reads it back).
// Summation order: k ascending, one fma per product — the order of
// im2col + matmul_sg8, so the results are bit-identical to that path.
// TM (8, 16, 24 or 32 channel rows) is an override constant; no workgroup
// memory, no barriers.

enable subgroups;

override TM: u32 = 32u;
override KW: u32 = 3u;
override DW: u32 = 1u;
override SW: u32 = 1u;   // stride along W (any: a quad's input columns start at 4·SW·qx, on a vec4)
override PW: u32 = 1u;
override NV: u32 = 3u;
override HAS_BIAS: bool = false;
// Segment vec4s of which the windows use one element only (bit j of
// ONE_MASK; the element's index in bits 2j..2j+1 of ONE_IDX): loaded as that
// one scalar (a scalar load costs about half a vec4 load on llvmpipe).
override ONE_MASK: u32 = 0u;
override ONE_IDX: u32 = 0u;
// ALIGNED = false: rows not on vec4 boundaries (W or Wo not a multiple of 4;
// conv2d_sg and conv2d_sg_dx): the segment's elements are loaded as scalars,
// only those the windows use (bit 4·j + k of USED), and conv2d_sg stores its
// pixels as scalars (y1); quads are then ⌈Wo/4⌉ per row, the last one short.
override ALIGNED: bool = true;
override USED: u32 = 0xffffffffu;
// conv2d_sg: the kernel height as a constant (the ky loop unrolls), 0 = p.KH at run time.
override KHC: u32 = 0u;
// conv2d_sg: quads of one output row per lane, 1 or 2 (the weight loads and
// the segment's overlap are shared by both quads; a row with an odd number
// of quads ends with a short run whose second quad is computed, not stored).
override RQ: u32 = 1u;
// w_pack: 0 = as is, 1 = flip the taps and swap the channel roles (dx of a
// stride-1 conv), 2 = swap the channel roles only (conv2d_sg_dx).
override FLIP: u32 = 0u;
// ACCUMULATE (conv2d_sg_gw): dW's values are added to dw in place (dw = dw +
// Σ, after the full sum: the same f32 add as elementwise.wgsl's acc_add with
// alpha 1), so a weight's gradient lands in its .grad without a separate add
// (src/autograd/leaf-grad.ts).
override ACCUMULATE: bool = false;
const SEG_MAX: u32 = 8u;

struct Params {
  N: u32,
  C: u32,    // input channels of this conv (O of the forward for dx)
  H: u32,
  W: u32,
  O: u32,    // output channels of this conv
  KH: u32,
  Ho: u32,
  Wo: u32,
  sh: u32,
  ph: u32,
  dh: u32,
  total: u32, // w_pack: vec4s of wp; conv2d_sg: quads of output pixels N·Ho·Wo/4
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read> wp: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y4: array<vec4f>;
// x4's buffer as scalars (the ONE_MASK loads).
@group(0) @binding(9) var<storage, read> x1: array<f32>;
// y4's buffer as scalars (ALIGNED = false; the host binds a placeholder to the one not used).
@group(0) @binding(11) var<storage, read_write> y1: array<f32>;

// acc[i] += Σ_kx taps_i[kx] · b[kx] for the 8 rows of one block (taps of row
// 8·b + i arrive from lane i), kx ascending, one fma each.
fn tapsum(acc: vec4f, v: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  var a = fma(vec4f(v.x), b0, acc);
  if (KW > 1u) { a = fma(vec4f(v.y), b1, a); }
  if (KW > 2u) { a = fma(vec4f(v.z), b2, a); }
  if (KW > 3u) { a = fma(vec4f(v.w), b3, a); }
  return a;
}

fn rows8(acc: ptr<function, array<vec4f, 8>>, al: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) {
  (*acc)[0] = tapsum((*acc)[0], subgroupBroadcast(al, 0u), b0, b1, b2, b3);
  (*acc)[1] = tapsum((*acc)[1], subgroupBroadcast(al, 1u), b0, b1, b2, b3);
  (*acc)[2] = tapsum((*acc)[2], subgroupBroadcast(al, 2u), b0, b1, b2, b3);
  (*acc)[3] = tapsum((*acc)[3], subgroupBroadcast(al, 3u), b0, b1, b2, b3);
  (*acc)[4] = tapsum((*acc)[4], subgroupBroadcast(al, 4u), b0, b1, b2, b3);
  (*acc)[5] = tapsum((*acc)[5], subgroupBroadcast(al, 5u), b0, b1, b2, b3);
  (*acc)[6] = tapsum((*acc)[6], subgroupBroadcast(al, 6u), b0, b1, b2, b3);
  (*acc)[7] = tapsum((*acc)[7], subgroupBroadcast(al, 7u), b0, b1, b2, b3);
}

// Segment vec4 j at vec4 index `at` of x4 (0 when !ok): one vec4 load, or
// the one scalar the windows use (ONE_MASK), the other elements 0.
fn segload(at: u32, ok: bool, j: u32) -> vec4f {
  if (((ONE_MASK >> j) & 1u) != 0u) {
    let k = (ONE_IDX >> (2u * j)) & 3u;
    var v = vec4f(0.0);
    v[k] = select(0.0, x1[4u * at + k], ok);
    return v;
  }
  return select(vec4f(0.0), x4[at], ok);
}

// The NV segment vec4s of row `row` (p.W wide; the row index over planes)
// starting at vec4 column v0 (columns outside the row, or !rowOk: zeros).
fn loadseg(seg: ptr<function, array<vec4f, SEG_MAX>>, row: u32, rowOk: bool, v0: i32) {
  for (var j = 0u; j < NV; j++) {
    let ax = v0 + i32(j);
    if (ALIGNED) {
      let W4 = i32(p.W / 4u);
      let ok = rowOk && ax >= 0 && ax < W4;
      (*seg)[j] = segload(row * (p.W / 4u) + u32(clamp(ax, 0, W4 - 1)), ok, j);
    } else {
      var v = vec4f(0.0);
      for (var k = 0u; k < 4u; k++) {
        if (((USED >> (4u * j + k)) & 1u) != 0u) {
          let col = 4 * ax + i32(k);
          let ok = rowOk && col >= 0 && col < i32(p.W);
          v[k] = select(0.0, x1[row * p.W + u32(clamp(col, 0, i32(p.W) - 1))], ok);
        }
      }
      (*seg)[j] = v;
    }
  }
}

// This lane's packed weight vec4 for row o0 + r + l (clamped; rows past O are never stored).
fn wload(o0: u32, r: u32, l: u32, kr: u32, CKH: u32) -> vec4f {
  return wp[min(o0 + r + l, p.O - 1u) * CKH + kr];
}

// ALIGNED = false: pixels base .. base + nv − 1 of rows o.. (plane = Ho·Wo).
fn store8u(acc: ptr<function, array<vec4f, 8>>, base: u32, o: u32, plane: u32, nv: u32) {
  for (var i = 0u; i < 8u; i++) {
    if (o + i >= p.O) { break; }
    var v = (*acc)[i];
    if (HAS_BIAS) { v += vec4f(bias[o + i]); }
    let b = base + (o + i) * plane;
    y1[b] = v.x;
    if (nv > 1u) { y1[b + 1u] = v.y; }
    if (nv > 2u) { y1[b + 2u] = v.z; }
    if (nv > 3u) { y1[b + 3u] = v.w; }
  }
}

// One quad q of output row (n, oy), rows o0.. (TM of them in blocks of 8): vec4 stores, or scalar ones.
fn storeq(a0: ptr<function, array<vec4f, 8>>, a1: ptr<function, array<vec4f, 8>>, a2: ptr<function, array<vec4f, 8>>, a3: ptr<function, array<vec4f, 8>>, n: u32, oy: u32, q: u32, o0: u32) {
  if (ALIGNED) {
    let Q = p.Wo / 4u;
    let plane4 = p.Ho * Q;
    let ybase = n * p.O * plane4 + oy * Q + q;
    store8(a0, ybase, o0, plane4);
    if (TM > 8u) { store8(a1, ybase, o0 + 8u, plane4); }
    if (TM > 16u) { store8(a2, ybase, o0 + 16u, plane4); }
    if (TM > 24u) { store8(a3, ybase, o0 + 24u, plane4); }
  } else {
    let plane = p.Ho * p.Wo;
    let base = n * p.O * plane + oy * p.Wo + 4u * q;
    let nv = min(p.Wo - 4u * q, 4u);
    store8u(a0, base, o0, plane, nv);
    if (TM > 8u) { store8u(a1, base, o0 + 8u, plane, nv); }
    if (TM > 16u) { store8u(a2, base, o0 + 16u, plane, nv); }
    if (TM > 24u) { store8u(a3, base, o0 + 24u, plane, nv); }
  }
}

fn store8(acc: ptr<function, array<vec4f, 8>>, ybase: u32, o: u32, plane4: u32) {
  for (var i = 0u; i < 8u; i++) {
    if (o + i >= p.O) { break; }
    var v = (*acc)[i];
    if (HAS_BIAS) { v += vec4f(bias[o + i]); }
    y4[ybase + (o + i) * plane4] = v;
  }
}

fn bquad(seg: ptr<function, array<vec4f, SEG_MAX>>, e: u32) -> vec4f {
  return vec4f((*seg)[e / 4u][e % 4u], (*seg)[(e + SW) / 4u][(e + SW) % 4u], (*seg)[(e + 2u * SW) / 4u][(e + 2u * SW) % 4u], (*seg)[(e + 3u * SW) / 4u][(e + 3u * SW) % 4u]);
}

@compute @workgroup_size(8, 1, 1)
fn conv2d_sg(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let l = lid.x;
  let o0 = wid.y * TM;
  let t = wid.x * 8u + l;
  // Lanes past the last run compute a valid one; their results are not stored.
  let tc = min(t, p.total - 1u);
  let Q = (p.Wo + 3u) / 4u;        // quads per output row (ALIGNED: Wo / 4)
  let QR = (Q + RQ - 1u) / RQ;    // runs of RQ quads per output row (the last may be short)
  let r = tc / QR;                // output row over the batch: n·Ho + oy
  let qx = (tc - r * QR) * RQ;    // the run's first quad
  let n = r / p.Ho;
  let oy = r - n * p.Ho;
  let a0 = (PW + 3u) / 4u;        // the segment starts a0 vec4s left of the quad
  let shift = 4u * a0 - PW;       // element 0 of the quad's first window in the segment
  let CKH = p.C * p.KH;
  var acc0: array<vec4f, 8>;
  var acc1: array<vec4f, 8>;
  var acc2: array<vec4f, 8>;
  var acc3: array<vec4f, 8>;
  // The second quad's rows (RQ = 2).
  var acc4: array<vec4f, 8>;
  var acc5: array<vec4f, 8>;
  var acc6: array<vec4f, 8>;
  var acc7: array<vec4f, 8>;
  var seg: array<vec4f, SEG_MAX>;
  var plane = n * p.C * p.H;
  var kr = 0u;
  for (var c = 0u; c < p.C; c++) {
    for (var ky = 0u; ky < select(p.KH, KHC, KHC > 0u); ky++) {
      let iy = i32(oy * p.sh + ky * p.dh) - i32(p.ph);
      let rowOk = iy >= 0 && iy < i32(p.H);
      loadseg(&seg, plane + u32(clamp(iy, 0, i32(p.H) - 1)), rowOk, i32(SW * qx) - i32(a0));
      var b: array<vec4f, 4>;
      var d: array<vec4f, 4>;
      for (var kx = 0u; kx < KW; kx++) {
        b[kx] = bquad(&seg, shift + kx * DW);
        if (RQ > 1u) { d[kx] = bquad(&seg, shift + 4u * SW + kx * DW); }
      }
      let w0 = wload(o0, 0u, l, kr, CKH);
      rows8(&acc0, w0, b[0], b[1], b[2], b[3]);
      if (RQ > 1u) { rows8(&acc4, w0, d[0], d[1], d[2], d[3]); }
      if (TM > 8u) {
        let w1 = wload(o0, 8u, l, kr, CKH);
        rows8(&acc1, w1, b[0], b[1], b[2], b[3]);
        if (RQ > 1u) { rows8(&acc5, w1, d[0], d[1], d[2], d[3]); }
      }
      if (TM > 16u) {
        let w2 = wload(o0, 16u, l, kr, CKH);
        rows8(&acc2, w2, b[0], b[1], b[2], b[3]);
        if (RQ > 1u) { rows8(&acc6, w2, d[0], d[1], d[2], d[3]); }
      }
      if (TM > 24u) {
        let w3 = wload(o0, 24u, l, kr, CKH);
        rows8(&acc3, w3, b[0], b[1], b[2], b[3]);
        if (RQ > 1u) { rows8(&acc7, w3, d[0], d[1], d[2], d[3]); }
      }
      kr++;
    }
    plane += p.H;
  }
  if (t >= p.total) { return; }
  storeq(&acc0, &acc1, &acc2, &acc3, n, oy, qx, o0);
  if (RQ > 1u && qx + 1u < Q) { storeq(&acc4, &acc5, &acc6, &acc7, n, oy, qx + 1u, o0); }
}

// The weight gradient, same gather, the reduction over output pixels:
//
//   dW[o, c, ky, kx] = Σ_{n, oy, ox} dy[n, o, oy, ox] · x[n, c, oy·sh + ky·dh − ph, ox·SW + kx·DW − PW]
//
// As a GEMM: rows = o, columns j = c·KH + ky with the KW ≤ 4 taps kx in one
// vec4 accumulator, k = output pixel q over the batch. A workgroup (one
// 8-lane subgroup) computes TM rows × 8 columns; lane l owns column
// wid.x·8 + l. Per quad of output pixels (4 consecutive ox of one row; all
// lanes step through the same quads, the (n, oy, ox) position is stepped,
// not divided) each lane loads the input row segment of its (c, ky) (NV
// aligned vec4s, as above) and ONE vec4 of dy per 8 rows — row 8·b + l's
// quad, vec4-aligned when Wo % 4 = 0, else 4 scalars with the pixels past
// the row's short last quad as 0 — shared by subgroupBroadcast — and
// does 4·TM vec4 FMAs (kx lanes past KW are computed and dropped). q
// ascending, one fma per product: the order of dy_t + im2col + matmul_sg8
// (NT, batch folded into k), so the results are bit-identical to that path.
// dW [O, C, KH, KW] is stored as scalars (ACCUMULATE: added to dw). Grid (⌈C·KH/8⌉, ⌈O/TM⌉).
fn gwtap(seg: ptr<function, array<vec4f, SEG_MAX>>, e: u32, kx: u32) -> f32 {
  if (kx >= KW) { return 0.0; }
  let f = e + kx * DW;
  return (*seg)[f / 4u][f % 4u];
}

fn gwpix(seg: ptr<function, array<vec4f, SEG_MAX>>, e: u32) -> vec4f {
  return vec4f(gwtap(seg, e, 0u), gwtap(seg, e, 1u), gwtap(seg, e, 2u), gwtap(seg, e, 3u));
}

fn gwrows8(acc: ptr<function, array<vec4f, 8>>, dl: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) {
  (*acc)[0] = tapsum4((*acc)[0], subgroupBroadcast(dl, 0u), b0, b1, b2, b3);
  (*acc)[1] = tapsum4((*acc)[1], subgroupBroadcast(dl, 1u), b0, b1, b2, b3);
  (*acc)[2] = tapsum4((*acc)[2], subgroupBroadcast(dl, 2u), b0, b1, b2, b3);
  (*acc)[3] = tapsum4((*acc)[3], subgroupBroadcast(dl, 3u), b0, b1, b2, b3);
  (*acc)[4] = tapsum4((*acc)[4], subgroupBroadcast(dl, 4u), b0, b1, b2, b3);
  (*acc)[5] = tapsum4((*acc)[5], subgroupBroadcast(dl, 5u), b0, b1, b2, b3);
  (*acc)[6] = tapsum4((*acc)[6], subgroupBroadcast(dl, 6u), b0, b1, b2, b3);
  (*acc)[7] = tapsum4((*acc)[7], subgroupBroadcast(dl, 7u), b0, b1, b2, b3);
}

fn tapsum4(acc: vec4f, v: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return fma(vec4f(v.w), b3, fma(vec4f(v.z), b2, fma(vec4f(v.y), b1, fma(vec4f(v.x), b0, acc))));
}

// dy's vec4 for row o0 + r + l (clamped; rows past O are never stored) at quad index dq of dy.
// ALIGNED: pq = the quad's index in its plane (plane4 quads a plane); else
// pq = the quad's first pixel oy·Wo + 4·qx, plane4 = Ho·Wo, and the pixels
// past the row (the short last quad) read as 0.
fn dyload(o0: u32, r: u32, l: u32, n: u32, pq: u32, plane4: u32, qx: u32) -> vec4f {
  let base = (n * p.O + min(o0 + r + l, p.O - 1u)) * plane4 + pq;
  if (ALIGNED) { return x4dy[base]; }
  let nv = p.Wo - 4u * qx;
  var v = vec4f(dy1[base], 0.0, 0.0, 0.0);
  if (nv > 1u) { v.y = dy1[base + 1u]; }
  if (nv > 2u) { v.z = dy1[base + 2u]; }
  if (nv > 3u) { v.w = dy1[base + 3u]; }
  return v;
}

// dw[i] = v, or dw[i] + v (ACCUMULATE).
fn gwput(i: u32, v: f32) {
  if (ACCUMULATE) { dw[i] = dw[i] + v; } else { dw[i] = v; }
}

fn gwstore8(acc: ptr<function, array<vec4f, 8>>, o: u32, j: u32, CKH: u32) {
  for (var i = 0u; i < 8u; i++) {
    if (o + i >= p.O) { break; }
    let v = (*acc)[i];
    let base = ((o + i) * CKH + j) * KW;
    gwput(base, v.x);
    if (KW > 1u) { gwput(base + 1u, v.y); }
    if (KW > 2u) { gwput(base + 2u, v.z); }
    if (KW > 3u) { gwput(base + 3u, v.w); }
  }
}

@group(0) @binding(7) var<storage, read> x4dy: array<vec4f>;
// x4dy's buffer as scalars (ALIGNED = false).
@group(0) @binding(12) var<storage, read> dy1: array<f32>;
@group(0) @binding(8) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(8, 1, 1)
fn conv2d_sg_gw(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let l = lid.x;
  let o0 = wid.y * TM;
  let CKH = p.C * p.KH;
  let j = wid.x * 8u + l;
  // Columns past the last compute a valid one; their results are not stored.
  let jc = min(j, CKH - 1u);
  let c = jc / p.KH;
  let ky = jc - c * p.KH;
  let Q = (p.Wo + 3u) / 4u;         // quads per row (ALIGNED: Wo / 4)
  let plane4 = select(p.Ho * p.Wo, p.Ho * Q, ALIGNED);
  let a0 = (PW + 3u) / 4u;
  let shift = 4u * a0 - PW;
  var acc0: array<vec4f, 8>;
  var acc1: array<vec4f, 8>;
  var acc2: array<vec4f, 8>;
  var acc3: array<vec4f, 8>;
  var seg: array<vec4f, SEG_MAX>;
  var n = 0u;
  var oy = 0u;
  var qx = 0u;
  for (var t = 0u; t < p.total; t++) {
    let iy = i32(oy * p.sh + ky * p.dh) - i32(p.ph);
    let rowOk = iy >= 0 && iy < i32(p.H);
    loadseg(&seg, (n * p.C + c) * p.H + u32(clamp(iy, 0, i32(p.H) - 1)), rowOk, i32(SW * qx) - i32(a0));
    let b0 = gwpix(&seg, shift);
    let b1 = gwpix(&seg, shift + SW);
    let b2 = gwpix(&seg, shift + 2u * SW);
    let b3 = gwpix(&seg, shift + 3u * SW);
    let pq = select(oy * p.Wo + 4u * qx, oy * Q + qx, ALIGNED);
    gwrows8(&acc0, dyload(o0, 0u, l, n, pq, plane4, qx), b0, b1, b2, b3);
    if (TM > 8u) { gwrows8(&acc1, dyload(o0, 8u, l, n, pq, plane4, qx), b0, b1, b2, b3); }
    if (TM > 16u) { gwrows8(&acc2, dyload(o0, 16u, l, n, pq, plane4, qx), b0, b1, b2, b3); }
    if (TM > 24u) { gwrows8(&acc3, dyload(o0, 24u, l, n, pq, plane4, qx), b0, b1, b2, b3); }
    // Step (n, oy, qx) to the next quad.
    qx++;
    let wrap = qx == Q;
    qx = select(qx, 0u, wrap);
    oy = select(oy, oy + 1u, wrap);
    let wrapy = oy == p.Ho;
    oy = select(oy, 0u, wrapy);
    n = select(n, n + 1u, wrapy);
  }
  if (j >= CKH) { return; }
  gwstore8(&acc0, o0, j, CKH);
  if (TM > 8u) { gwstore8(&acc1, o0 + 8u, j, CKH); }
  if (TM > 16u) { gwstore8(&acc2, o0 + 16u, j, CKH); }
  if (TM > 24u) { gwstore8(&acc3, o0 + 24u, j, CKH); }
}

// The input gradient of a strided conv, by output phase (no zero taps, no
// col2im): dx[n, c, iy, ix] = Σ_{o, ky, kx} w[o, c, ky, kx] · dy[n, o,
// (iy + ph − ky·dh)/sh, (ix + pw − kx·dw)/sw] over the taps where both
// divisions are exact and land inside dy. One dispatch per column phase RX
// (an override constant; for stride 2 one dispatch does both phases, PH2,
// so a lane owns 8 consecutive pixels and every tap kx feeds one of its
// phases): its pixels ix = RX + SW·(4·qx + j), j = 0..3, take
// the taps kx in KX_MASK, each reading the 4 consecutive dy columns
// 4·qx + j + (RX + PW − kx·DW)/SW — element E_kx of the lane's dy row
// segment (NV aligned vec4s from vec4 qx − ⌈·⌉, ONE_MASK as above; all
// constants from the host). The row phase ry = wid.z: rows iy = ry + sh·m
// take the ky with (ry + ph − ky·dh) mod sh = 0 (a uniform branch), dy row
// m + (ry + ph − ky·dh)/sh. Here p.C = the forward's O (dy channels),
// p.H × p.W = dy's Ho × Wo (rows read as scalars when Wo % 4 ≠ 0, ALIGNED = 0), p.O = the forward's C (rows),
// p.Ho × p.Wo = dx's H × W (any W: the 4 pixels are stored as scalars). The
// weight is `w_pack`ed with FLIP = 2 (channels swapped, taps not flipped):
// wp[c][o·KH + ky] = w[o, c, ky, 0..KW−1]. Grid (⌈N·⌈Ho/sh⌉·⌈⌈(Wo − RX)/SW⌉/4⌉ / 8⌉,
// ⌈p.O/TM⌉, sh). Summation: o, then ky, then kx ascending (im2col's col2im
// route sums taps of per-tap GEMMs: a different order).
override RX: u32 = 0u;
override KX_MASK: u32 = 1u;
override E0: u32 = 0u;
override E1: u32 = 0u;
override E2: u32 = 0u;
override E3: u32 = 0u;
override A0: u32 = 0u; // the segment starts A0 vec4s left of column 4·qx
// PH2: the lane also computes column phase RX + 1 (stride 2: both phases in
// one dispatch, 8 consecutive dx pixels per lane), its taps in KX_MASK2 at
// segment elements F0..F3 (the same dy row segment).
override PH2: bool = false;
override KX_MASK2: u32 = 0u;
override F0: u32 = 0u;
override F1: u32 = 0u;
override F2: u32 = 0u;
override F3: u32 = 0u;

fn tapsumm(acc: vec4f, v: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f, mask: u32) -> vec4f {
  var a = acc;
  if ((mask & 1u) != 0u) { a = fma(vec4f(v.x), b0, a); }
  if ((mask & 2u) != 0u) { a = fma(vec4f(v.y), b1, a); }
  if ((mask & 4u) != 0u) { a = fma(vec4f(v.z), b2, a); }
  if ((mask & 8u) != 0u) { a = fma(vec4f(v.w), b3, a); }
  return a;
}

fn rows8m(acc: ptr<function, array<vec4f, 8>>, al: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f, mask: u32) {
  (*acc)[0] = tapsumm((*acc)[0], subgroupBroadcast(al, 0u), b0, b1, b2, b3, mask);
  (*acc)[1] = tapsumm((*acc)[1], subgroupBroadcast(al, 1u), b0, b1, b2, b3, mask);
  (*acc)[2] = tapsumm((*acc)[2], subgroupBroadcast(al, 2u), b0, b1, b2, b3, mask);
  (*acc)[3] = tapsumm((*acc)[3], subgroupBroadcast(al, 3u), b0, b1, b2, b3, mask);
  (*acc)[4] = tapsumm((*acc)[4], subgroupBroadcast(al, 4u), b0, b1, b2, b3, mask);
  (*acc)[5] = tapsumm((*acc)[5], subgroupBroadcast(al, 5u), b0, b1, b2, b3, mask);
  (*acc)[6] = tapsumm((*acc)[6], subgroupBroadcast(al, 6u), b0, b1, b2, b3, mask);
  (*acc)[7] = tapsumm((*acc)[7], subgroupBroadcast(al, 7u), b0, b1, b2, b3, mask);
}

fn run4(seg: ptr<function, array<vec4f, SEG_MAX>>, e: u32) -> vec4f {
  return vec4f((*seg)[e / 4u][e % 4u], (*seg)[(e + 1u) / 4u][(e + 1u) % 4u], (*seg)[(e + 2u) / 4u][(e + 2u) % 4u], (*seg)[(e + 3u) / 4u][(e + 3u) % 4u]);
}

// Stores rows o.. of one phase's quad: pixels base + SW·j for j < n_ok.
fn dxstore8(acc: ptr<function, array<vec4f, 8>>, base: u32, o: u32, plane: u32, n_ok: u32) {
  for (var i = 0u; i < 8u; i++) {
    if (o + i >= p.O) { break; }
    let v = (*acc)[i];
    let b = base + (o + i) * plane;
    if (n_ok > 0u) { dxo[b] = v.x; }
    if (n_ok > 1u) { dxo[b + SW] = v.y; }
    if (n_ok > 2u) { dxo[b + 2u * SW] = v.z; }
    if (n_ok > 3u) { dxo[b + 3u * SW] = v.w; }
  }
}

@group(0) @binding(10) var<storage, read_write> dxo: array<f32>;

@compute @workgroup_size(8, 1, 1)
fn conv2d_sg_dx(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let l = lid.x;
  let o0 = wid.y * TM;
  let ry = wid.z;
  let t = wid.x * 8u + l;
  let Hm0 = (p.Ho + p.sh - 1u) / p.sh;                 // rows of the largest row phase
  let Wm = (p.Wo - min(RX, p.Wo) + SW - 1u) / SW;      // dx columns of column phase RX
  let Wm2 = (p.Wo - min(RX + 1u, p.Wo) + SW - 1u) / SW; // ... and of RX + 1 (PH2)
  let Qm = (Wm + 3u) / 4u;
  let Hm = (p.Ho - min(ry, p.Ho) + p.sh - 1u) / p.sh;   // rows of this row phase
  // Lanes past the last quad compute a valid one; their results are not stored.
  let lanes = p.N * Hm0 * Qm;
  let tc = min(t, max(lanes, 1u) - 1u);
  let r = tc / Qm;
  let qx = tc - r * Qm;
  let n = r / Hm0;
  let m = r - n * Hm0;
  let CKH = p.C * p.KH;
  var acc0: array<vec4f, 8>;
  var acc1: array<vec4f, 8>;
  var acc2: array<vec4f, 8>;
  var acc3: array<vec4f, 8>;
  var seg: array<vec4f, SEG_MAX>;
  var plane = n * p.C * p.H;
  var kr = 0u;
  for (var c = 0u; c < p.C; c++) {
    for (var ky = 0u; ky < select(p.KH, KHC, KHC > 0u); ky++) {
      let tyy = i32(ry + p.ph) - i32(ky * p.dh);
      let sh = i32(p.sh);
      if (((tyy % sh) + sh) % sh == 0) {
        let iy = i32(m) + tyy / sh;
        let rowOk = iy >= 0 && iy < i32(p.H);
        loadseg(&seg, plane + u32(clamp(iy, 0, i32(p.H) - 1)), rowOk, i32(qx) - i32(A0));
        let b0 = run4(&seg, E0);
        let b1 = run4(&seg, E1);
        let b2 = run4(&seg, E2);
        let b3 = run4(&seg, E3);
        var d0: vec4f;
        var d1: vec4f;
        var d2: vec4f;
        var d3: vec4f;
        if (PH2) {
          d0 = run4(&seg, F0);
          d1 = run4(&seg, F1);
          d2 = run4(&seg, F2);
          d3 = run4(&seg, F3);
        }
        let w0 = wload(o0, 0u, l, kr, CKH);
        rows8m(&acc0, w0, b0, b1, b2, b3, KX_MASK);
        if (PH2) { rows8m(&acc2, w0, d0, d1, d2, d3, KX_MASK2); }
        if (TM > 8u) {
          let w1 = wload(o0, 8u, l, kr, CKH);
          rows8m(&acc1, w1, b0, b1, b2, b3, KX_MASK);
          if (PH2) { rows8m(&acc3, w1, d0, d1, d2, d3, KX_MASK2); }
        }
      }
      kr++;
    }
    plane += p.H;
  }
  if (t >= lanes || m >= Hm) { return; }
  let iy = ry + p.sh * m;
  let ix0 = RX + SW * 4u * qx;
  let plane_dx = p.Ho * p.Wo;
  let base = n * p.O * plane_dx + iy * p.Wo + ix0;
  let n_ok = min(Wm - 4u * qx, 4u);
  dxstore8(&acc0, base, o0, plane_dx, n_ok);
  if (TM > 8u) { dxstore8(&acc1, base, o0 + 8u, plane_dx, n_ok); }
  if (PH2) {
    let n_ok2 = min(max(Wm2, 4u * qx) - 4u * qx, 4u);
    dxstore8(&acc2, base + 1u, o0, plane_dx, n_ok2);
    if (TM > 8u) { dxstore8(&acc3, base + 1u, o0 + 8u, plane_dx, n_ok2); }
  }
}

// wp[o][c·KH + ky] = (w[o, c, ky, kx] for kx < KW, then zeros) — or with FLIP
// (the weight of dx = conv(dy, ·) for stride 1; here O = the forward's C, C =
// the forward's O) w[c, o, KH − 1 − ky, KW − 1 − kx]. One invocation per vec4
// of wp (p.total = O·C·KH), 1-D, folded grid.
@group(0) @binding(5) var<storage, read> wsrc: array<f32>;
@group(0) @binding(6) var<storage, read_write> wdst: array<vec4f>;

@compute @workgroup_size(64)
fn w_pack(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * 64u + lid.x;
  if (i >= p.total) { return; }
  let o = i / (p.C * p.KH);
  let rem = i - o * p.C * p.KH;
  let c = rem / p.KH;
  let ky = rem - c * p.KH;
  var v = vec4f(0.0);
  for (var kx = 0u; kx < KW; kx++) {
    var src: u32;
    if (FLIP == 1u) {
      src = ((c * p.O + o) * p.KH + (p.KH - 1u - ky)) * KW + (KW - 1u - kx);
    } else if (FLIP == 2u) {
      src = ((c * p.O + o) * p.KH + ky) * KW + kx;
    } else {
      src = ((o * p.C + c) * p.KH + ky) * KW + kx;
    }
    v[kx] = wsrc[src];
  }
  wdst[i] = v;
}
