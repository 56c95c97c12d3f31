// 2-D convolution (PyTorch semantics): forward, gradient w.r.t. the input,
// gradient w.r.t. the weight, gradient w.r.t. the bias.
//
// Layouts: x NCHW, weight OIHW = [O, C/groups, KH, KW], bias [O], y NCHW.
//
// These are the "direct" path of src/ops/conv2d.ts: used for grouped and
// depthwise convs, on adapters without 8-lane subgroups (GPUs), and when an
// im2col buffer would not fit; otherwise kernels/im2col.wgsl + matmul_sg is
// used (several times faster on lavapipe, docs/kernels/conv2d.md). On GPUs
// the gradient w.r.t. the weight uses kernels/conv2d_grad_weight.wgsl
// (split-K) instead of conv2d_bwd_weight below, which has only O·CK/16
// invocations, each looping over the whole N·Ho·Wo reduction.
//
// Every pass is an implicit GEMM whose inner loop reads aligned operands and
// needs no bounds or padding checks. Two re-layout passes make that possible:
//
// shift_pad      xs[kx][n][c][r][q] = V(r, q·sw + kx·dw) for q < Q8
//                V(y, x) = src[n, c, (y − off_y)/up_y, (x − off_x)/up_x] when the
//                division is exact and in range, else 0. With up = 1 and
//                off = padding this is the zero-padded input with the column
//                taps (stride, dilation, kx) already applied, so for 8
//                consecutive output columns the values a tap needs are two
//                aligned vec4s. With up = stride and off = d·(K−1) − p it is the
//                zero-inserted, padded dy of the transposed convolution
//                (gradient w.r.t. the input). Rows stay un-shifted (R rows);
//                the conv kernel applies row stride and dilation itself.
//                Q8 = Wo rounded up to 8; columns past Wo are computed, not stored.
// weight_layout  wt[g][c][ky][kx][o4] = w[g·Og + o4, c, ky, kx] (FLIP = 0), the
//                output channels innermost, padded to a multiple of 4 with zeros;
//                for the gradient w.r.t. the input (FLIP = 1) the roles of the
//                channels swap and the taps are flipped:
//                wt[g][o][ky][kx][c4] = w[g·Og + o, c4, KH−1−ky, KW−1−kx].
//
// conv2d_fwd / conv2d_bwd_input (same core): one invocation computes a
//   4 (output channels: 4 consecutive floats of wt) × 8 (consecutive output
//   columns of one row: two vec4s of xs) block in 8 vec4 accumulators. Per tap:
//   4 + 8 values loaded, 32 FMAs. Grid: 1-D over (n, group, oy, column tile,
//   channel quad), channel quad fastest, WG invocations per workgroup, folded
//   into x·y.
// conv2d_bwd_weight: one invocation computes a 4 (output channels) × 4
//   (flattened (c, ky, kx) columns) block of dW; the reduction over (n, oy,
//   4 columns) reads one vec4 of zero-padded dy per channel and one vec4 of xs
//   per column: 8 vec4 loads, 64 multiply-adds.
// conv2d_bwd_bias: one workgroup per output channel, strided sum then a tree
//   reduction in workgroup memory.
// ACCUMULATE (override; conv2d_bwd_weight, conv2d_bwd_bias): the result is
//   added to dst in place (dst = dst + Σ, after the full sum: the same f32 add
//   as elementwise.wgsl's acc_add with alpha 1), so a parameter's gradient
//   lands in its .grad without a separate add (src/autograd/leaf-grad.ts,
//   src/ops/conv2d.ts).
//
// Why register blocking and no workgroup memory: on lavapipe (Mesa 25.0) every
// storage-buffer load whose offset is not a constant or uniform-buffer value
// runs a per-lane loop (mask test, bounds check, scalar load, insert), even
// when all lanes use the same address; such a load costs tens of times an FMA.
// Workgroup memory reads take the same per-lane path and barriers are coroutine
// switches. So the kernels load each value once per invocation and reuse it
// from registers (32 FMAs per 12 loaded values; larger tiles spill). On GPUs
// the same blocking gives 3-4 loads per 32 FMAs from L1; WG is an override so
// it can be tuned per adapter. Measurements: docs/kernels/conv2d.md.

override WG: u32 = 64;
override HAS_BIAS: bool = false;
override FLIP: bool = false;
override ACCUMULATE: bool = false;

struct Params {
  N: u32,
  Ct: u32,      // channels of the tensor shift_pad reads / the conv reads (xs)
  R: u32,       // rows of xs
  Q8: u32,      // columns of xs (multiple of 8)
  KH: u32,
  KW: u32,
  sw: u32,      // shift_pad: column stride
  dw: u32,      // shift_pad: column dilation
  Hs: u32,      // shift_pad: source height
  Ws: u32,      // shift_pad: source width
  up_y: u32,    // shift_pad: zero insertion (transposed conv), 1 otherwise
  up_x: u32,
  off_y: i32,   // shift_pad: padding offset
  off_x: i32,
  total: u32,   // invocations of a 1-D entry; shift_pad: number of (kx, n, c) planes
  groups: u32,
  Cg: u32,      // conv: input channels per group; weight_layout: inner channels
  Og: u32,      // conv: output channels per group; weight_layout: outer channels
  OQ: u32,      // ⌈Og/4⌉ (conv, weight_layout), output-channel quads
  Ot: u32,      // total output channels
  Ho: u32,
  Wo: u32,
  sh: u32,      // conv: row stride
  dh: u32,      // conv: row dilation
  JQ: u32,      // bwd_weight: ⌈Cg·KH·KW/4⌉
  HWo: u32,     // bwd_bias: Ho·Wo
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> xs4: array<vec4f>;
@group(0) @binding(3) var<storage, read> wt: array<f32>;
@group(0) @binding(4) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> dst: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn linear_id(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid.x;
}

// Grid: x covers one (kx, n, c) plane of R·Q8 elements, (y, z) index the
// plane, so per-invocation integer division is one /Q8 (integer division is
// scalarised per lane on CPU adapters).
@compute @workgroup_size(WG)
fn shift_pad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let plane = wid.y + wid.z * nwg.y;
  let lin = wid.x * WG + lid.x;
  if (lin >= p.R * p.Q8 || plane >= p.total) { return; }
  let q = lin % p.Q8;
  let r = lin / p.Q8;
  let c = plane % p.Ct;
  let t = plane / p.Ct;
  let n = t % p.N;
  let kx = t / p.N;
  let y = i32(r) - p.off_y;
  let x = i32(q * p.sw + kx * p.dw) - p.off_x;
  var v = 0.0;
  if (y >= 0 && x >= 0) {
    var sy = u32(y);
    var sx = u32(x);
    var ok = true;
    if (p.up_y != 1u) { ok = ok && sy % p.up_y == 0u; sy = sy / p.up_y; }
    if (p.up_x != 1u) { ok = ok && sx % p.up_x == 0u; sx = sx / p.up_x; }
    if (ok && sy < p.Hs && sx < p.Ws) {
      v = src[((n * p.Ct + c) * p.Hs + sy) * p.Ws + sx];
    }
  }
  dst[plane * p.R * p.Q8 + lin] = v;
}

@compute @workgroup_size(WG)
fn weight_layout(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = linear_id(wid, nwg, lid);
  if (i >= p.total) { return; }
  let o4 = i % (p.OQ * 4u);
  var t = i / (p.OQ * 4u);
  let kx = t % p.KW;
  t = t / p.KW;
  let ky = t % p.KH;
  t = t / p.KH;
  let c = t % p.Cg;
  let g = t / p.Cg;
  var v = 0.0;
  if (o4 < p.Og) {
    let kk = p.KH * p.KW;
    if (FLIP) {
      v = src[((g * p.Cg + c) * p.Og + o4) * kk + (p.KH - 1u - ky) * p.KW + (p.KW - 1u - kx)];
    } else {
      v = src[((g * p.Og + o4) * p.Cg + c) * kk + ky * p.KW + kx];
    }
  }
  dst[i] = v;
}

fn store4(acc: vec4f, n: u32, g: u32, oq: u32, oy: u32, ox: u32) {
  if (ox >= p.Wo) { return; }
  for (var k = 0u; k < 4u; k++) {
    let o = oq * 4u + k;
    if (o < p.Og) {
      let oc = g * p.Og + o;
      var v = acc[k];
      if (HAS_BIAS) { v += bias[oc]; }
      dst[((n * p.Ot + oc) * p.Ho + oy) * p.Wo + ox] = v;
    }
  }
}

fn conv_core(i: u32) {
  let tiles_x = p.Q8 / 8u;
  if (i >= p.total) { return; }
  let oq = i % p.OQ;
  var t = i / p.OQ;
  let tx = t % tiles_x;
  t = t / tiles_x;
  let oy = t % p.Ho;
  t = t / p.Ho;
  let g = t % p.groups;
  let n = t / p.groups;

  let q4 = p.Q8 / 4u;
  let kk = p.KH * p.KW;
  // xs row of (kx, n, c, r): ((kx·N + n)·Ct + c)·R + r, in vec4 units ×q4.
  let kx_step = p.N * p.Ct * p.R * q4;
  let c_step = p.R * q4;
  var xrow = ((n * p.Ct + g * p.Cg) * p.R + oy * p.sh) * q4 + tx * 2u;
  var widx = g * p.Cg * kk * p.OQ + oq;

  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var a4 = vec4f(0.0);
  var a5 = vec4f(0.0);
  var a6 = vec4f(0.0);
  var a7 = vec4f(0.0);
  for (var c = 0u; c < p.Cg; c++) {
    for (var ky = 0u; ky < p.KH; ky++) {
      var xi = xrow + ky * p.dh * q4;
      for (var kx = 0u; kx < p.KW; kx++) {
        let wb = widx * 4u;
        let w = vec4f(wt[wb], wt[wb + 1u], wt[wb + 2u], wt[wb + 3u]);
        let xa = xs4[xi];
        let xb = xs4[xi + 1u];
        a0 = fma(w, vec4f(xa.x), a0);
        a1 = fma(w, vec4f(xa.y), a1);
        a2 = fma(w, vec4f(xa.z), a2);
        a3 = fma(w, vec4f(xa.w), a3);
        a4 = fma(w, vec4f(xb.x), a4);
        a5 = fma(w, vec4f(xb.y), a5);
        a6 = fma(w, vec4f(xb.z), a6);
        a7 = fma(w, vec4f(xb.w), a7);
        widx += p.OQ;
        xi += kx_step;
      }
    }
    xrow += c_step;
  }
  let ox = tx * 8u;
  store4(a0, n, g, oq, oy, ox);
  store4(a1, n, g, oq, oy, ox + 1u);
  store4(a2, n, g, oq, oy, ox + 2u);
  store4(a3, n, g, oq, oy, ox + 3u);
  store4(a4, n, g, oq, oy, ox + 4u);
  store4(a5, n, g, oq, oy, ox + 5u);
  store4(a6, n, g, oq, oy, ox + 6u);
  store4(a7, n, g, oq, oy, ox + 7u);
}

// y = conv(x, w) + bias, reading xs = shift_pad(x) and wt = weight_layout(w).
@compute @workgroup_size(WG)
fn conv2d_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  conv_core(linear_id(wid, nwg, lid));
}

// dx = conv_transpose(dy, w): the same core over xs = shift_pad(dy) with zero
// insertion, stride 1, and wt = weight_layout(w) with FLIP (channels swapped,
// taps flipped). Launched without bias.
@compute @workgroup_size(WG)
fn conv2d_bwd_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  conv_core(linear_id(wid, nwg, lid));
}

// dW[g·Og + o, j] = Σ_{n, oy, q} dy[n, g·Og + o, oy, q] · xs[kx][n][g·Cg + c][oy·sh + ky·dh][q]
// with j = (c·KH + ky)·KW + kx. dy4 is dy zero-padded to Q8 columns
// (shift_pad with KW = 1), so padded columns contribute nothing.
@compute @workgroup_size(WG)
fn conv2d_bwd_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = linear_id(wid, nwg, lid);
  if (i >= p.total) { return; }
  let jq = i % p.JQ;
  var t = i / p.JQ;
  let oq = t % p.OQ;
  let g = t / p.OQ;
  let kk = p.KH * p.KW;
  let cols = p.Cg * kk;
  let q4 = p.Q8 / 4u;

  // Rows (in vec4 units) of the 4 output channels in dy4 and the 4 columns in xs4, at n = 0, oy = 0.
  var dbase: array<u32, 4>;
  var xbase: array<u32, 4>;
  for (var k = 0u; k < 4u; k++) {
    let o = min(oq * 4u + k, p.Og - 1u);
    dbase[k] = (g * p.Og + o) * p.Ho * q4;
    let j = min(jq * 4u + k, cols - 1u);
    let c = j / kk;
    let ky = (j % kk) / p.KW;
    let kx = j % p.KW;
    xbase[k] = ((kx * p.N * p.Ct + g * p.Cg + c) * p.R + ky * p.dh) * q4;
  }
  let d0 = dbase[0]; let d1 = dbase[1]; let d2 = dbase[2]; let d3 = dbase[3];
  let x0 = xbase[0]; let x1 = xbase[1]; let x2 = xbase[2]; let x3 = xbase[3];
  let dn = p.Ot * p.Ho * q4;
  let xn = p.Ct * p.R * q4;
  let xr = p.sh * q4;

  var a00 = 0.0; var a01 = 0.0; var a02 = 0.0; var a03 = 0.0;
  var a10 = 0.0; var a11 = 0.0; var a12 = 0.0; var a13 = 0.0;
  var a20 = 0.0; var a21 = 0.0; var a22 = 0.0; var a23 = 0.0;
  var a30 = 0.0; var a31 = 0.0; var a32 = 0.0; var a33 = 0.0;
  for (var n = 0u; n < p.N; n++) {
    for (var oy = 0u; oy < p.Ho; oy++) {
      let doff = n * dn + oy * q4;
      let xoff = n * xn + oy * xr;
      for (var q = 0u; q < q4; q++) {
        let e0 = dy4[d0 + doff + q];
        let e1 = dy4[d1 + doff + q];
        let e2 = dy4[d2 + doff + q];
        let e3 = dy4[d3 + doff + q];
        let f0 = xs4[x0 + xoff + q];
        let f1 = xs4[x1 + xoff + q];
        let f2 = xs4[x2 + xoff + q];
        let f3 = xs4[x3 + xoff + q];
        a00 += dot(e0, f0); a01 += dot(e0, f1); a02 += dot(e0, f2); a03 += dot(e0, f3);
        a10 += dot(e1, f0); a11 += dot(e1, f1); a12 += dot(e1, f2); a13 += dot(e1, f3);
        a20 += dot(e2, f0); a21 += dot(e2, f1); a22 += dot(e2, f2); a23 += dot(e2, f3);
        a30 += dot(e3, f0); a31 += dot(e3, f1); a32 += dot(e3, f2); a33 += dot(e3, f3);
      }
    }
  }
  var rows = array<vec4f, 4>(vec4f(a00, a01, a02, a03), vec4f(a10, a11, a12, a13), vec4f(a20, a21, a22, a23), vec4f(a30, a31, a32, a33));
  for (var k = 0u; k < 4u; k++) {
    let o = oq * 4u + k;
    if (o >= p.Og) { break; }
    for (var b = 0u; b < 4u; b++) {
      let j = jq * 4u + b;
      if (j < cols) {
        let di = (g * p.Og + o) * cols + j;
        if (ACCUMULATE) { dst[di] = dst[di] + rows[k][b]; } else { dst[di] = rows[k][b]; }
      }
    }
  }
}

// dbias[o] = Σ_{n, y, x} dy[n, o, y, x]; one workgroup per o (grid folded), dy read from src.
@compute @workgroup_size(WG)
fn conv2d_bwd_bias(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let o = wid.x + wid.y * nwg.x;
  // Uniform per workgroup, so the early exit keeps barriers uniform.
  if (o >= p.Ot) { return; }
  var acc = 0.0;
  let per = p.N * p.HWo;
  for (var k = lid.x; k < per; k += WG) {
    let n = k / p.HWo;
    let r = k % p.HWo;
    acc += src[(n * p.Ot + o) * p.HWo + r];
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) { partial[lid.x] += partial[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    if (ACCUMULATE) { dst[o] = dst[o] + partial[0]; } else { dst[o] = partial[0]; }
  }
}
