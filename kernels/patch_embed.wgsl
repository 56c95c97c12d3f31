// Patch embedding (a conv with kernel = stride = P, no padding) and its
// backward, as GEMMs over patch tokens.
//
// Layout: x NCHW [N, C, H, W]; weight [D, C, P, P] (PyTorch Conv2d), seen as
// [D, K] with K = C·P·P, k = (c·P + i)·P + j; bias [D]; tokens [N, L, D] with
// L = (H/P)·(W/P), token t = n·L + py·(W/P) + px, T = N·L.
//
// Every product is one GEMM shape, C[m, n] = Σ_k A[k, m] · B[k, n] with both
// operands k-major and padded to a multiple of 4 along m and n (A [K, M4],
// B [K, N4]), so the inner loop reads aligned vec4s only:
//   forward          tokens[t, d]  A = patchesᵀ [K, T4]  B = wᵀ  [K, D4]  (+ bias[d])
//   grad input       dpatch[t, k]  A = dtᵀ      [D, T4]  B = w   [D, K4]  (scattered back to NCHW)
//   grad weight      dw[d, k]      A = dt       [T, D4]  B = patches [T, K4]
// The k-major, padded operands are made by `patchify` (from x) and `relayout`
// (a padded copy or a padded transpose of a row-major matrix).
//
// Tiling (gemm core): one invocation computes a 4 (m) × 8 (n) block in 8 vec4
// accumulators: per k, 3 vec4 loads and 32 FMAs. Register blocking without
// workgroup memory for the same reason as conv2d.wgsl (on lavapipe every
// storage load is a per-lane loop, so loads are what to minimise). 1-D grid
// over (m quad, n octet), folded into x·y. patch_embed_bwd_bias: one
// invocation per d, looping over tokens.
//
// ACCUMULATE (override; patch_embed_bwd_weight, patch_embed_bwd_bias): the
// result is added to dst in place (dst = dst + Σ, after the full sum: the same
// f32 add as elementwise.wgsl's acc_add), so the weight's and the bias's
// gradients land in their .grad without a separate add
// (src/autograd/leaf-grad.ts).

override WG: u32 = 64;
override HAS_BIAS: bool = false;
override TRANS: bool = false;
override ACCUMULATE: bool = false;

struct Params {
  N: u32,
  C: u32,
  H: u32,
  W: u32,
  P: u32,
  rows: u32,    // relayout: source rows
  cols: u32,    // relayout: source columns
  M: u32,       // gemm: rows of the result
  Nc: u32,      // gemm: columns of the result
  K: u32,       // gemm: reduction length
  M4: u32,      // gemm: A row stride (M padded to 4)
  N8: u32,      // gemm: B row stride (Nc padded to 8)
  total: u32,
  D: u32,       // bwd_bias
  T: u32,       // bwd_bias
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> a4: array<vec4f>;
@group(0) @binding(3) var<storage, read> b4: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;

fn linear_id(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid.x;
}

// Index in x of element k of token t.
fn x_index(t: u32, k: u32) -> u32 {
  let lw = p.W / p.P;
  let L = (p.H / p.P) * lw;
  let n = t / L;
  let l = t % L;
  let py = l / lw;
  let px = l % lw;
  let j = k % p.P;
  let i = (k / p.P) % p.P;
  let c = k / (p.P * p.P);
  return ((n * p.C + c) * p.H + py * p.P + i) * p.W + px * p.P + j;
}

// Patches of x as a padded matrix: TRANS = false → [T, K4] (row stride p.cols),
// TRANS = true → [K, T4] (row stride p.cols). dst has p.total elements, with
// p.rows rows of p.cols; entries outside [T, K] are 0.
@compute @workgroup_size(WG)
fn patchify(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = linear_id(wid, nwg, lid);
  if (e >= p.total) { return; }
  let r = e / p.cols;
  let q = e % p.cols;
  let kk = p.C * p.P * p.P;
  let tt = p.N * (p.H / p.P) * (p.W / p.P);
  var t = r;
  var k = q;
  if (TRANS) { t = q; k = r; }
  var v = 0.0;
  if (t < tt && k < kk) { v = src[x_index(t, k)]; }
  dst[e] = v;
}

// src [rows, cols] row-major → dst [rows, pad(cols)] (TRANS = false) or
// [cols, pad(rows)] (TRANS = true); the padded width is p.M4, zeros past the data.
@compute @workgroup_size(WG)
fn relayout(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = linear_id(wid, nwg, lid);
  if (e >= p.total) { return; }
  let r = e / p.M4;
  let q = e % p.M4;
  var sr = r;
  var sc = q;
  if (TRANS) { sr = q; sc = r; }
  var v = 0.0;
  if (sr < p.rows && sc < p.cols) { v = src[sr * p.cols + sc]; }
  dst[e] = v;
}

// C[m, n] for the 4 × 8 block at (mq·4, no·8).
struct Block { r0: vec4f, r1: vec4f, r2: vec4f, r3: vec4f, s0: vec4f, s1: vec4f, s2: vec4f, s3: vec4f }

fn gemm_block(mq: u32, no: u32) -> Block {
  var ai = mq;
  var bi = no * 2u;
  let astep = p.M4 / 4u;
  let bstep = p.N8 / 4u;
  // r_i: row m = 4mq + i, columns 8no..8no+3; s_i: columns 8no+4..8no+7.
  var b: Block;
  b.r0 = vec4f(0.0); b.r1 = vec4f(0.0); b.r2 = vec4f(0.0); b.r3 = vec4f(0.0);
  b.s0 = vec4f(0.0); b.s1 = vec4f(0.0); b.s2 = vec4f(0.0); b.s3 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let a = a4[ai];
    let u = b4[bi];
    let v = b4[bi + 1u];
    b.r0 = fma(vec4f(a.x), u, b.r0);
    b.r1 = fma(vec4f(a.y), u, b.r1);
    b.r2 = fma(vec4f(a.z), u, b.r2);
    b.r3 = fma(vec4f(a.w), u, b.r3);
    b.s0 = fma(vec4f(a.x), v, b.s0);
    b.s1 = fma(vec4f(a.y), v, b.s1);
    b.s2 = fma(vec4f(a.z), v, b.s2);
    b.s3 = fma(vec4f(a.w), v, b.s3);
    ai += astep;
    bi += bstep;
  }
  return b;
}

// MODE 0: dst[m·Nc + n] (+ bias[n]); MODE 1: dst[x_index(m, n)] (grad input).
fn store_row(mode: u32, m: u32, n0: u32, lo: vec4f, hi: vec4f) {
  if (m >= p.M) { return; }
  for (var j = 0u; j < 8u; j++) {
    let n = n0 + j;
    if (n >= p.Nc) { return; }
    var v = lo[min(j, 3u)];
    if (j >= 4u) { v = hi[j - 4u]; }
    if (mode == 1u) {
      dst[x_index(m, n)] = v;
    } else {
      if (HAS_BIAS) { v += bias[n]; }
      let di = m * p.Nc + n;
      if (ACCUMULATE) { v = dst[di] + v; }
      dst[di] = v;
    }
  }
}

fn gemm(i: u32, mode: u32) {
  if (i >= p.total) { return; }
  let nO = p.N8 / 8u;
  let no = i % nO;
  let mq = i / nO;
  let b = gemm_block(mq, no);
  let m = mq * 4u;
  let n0 = no * 8u;
  store_row(mode, m, n0, b.r0, b.s0);
  store_row(mode, m + 1u, n0, b.r1, b.s1);
  store_row(mode, m + 2u, n0, b.r2, b.s2);
  store_row(mode, m + 3u, n0, b.r3, b.s3);
}

// tokens[t, d] = Σ_k patches[t, k] · w[d, k] + bias[d]   (a4 = patchesᵀ, b4 = wᵀ)
@compute @workgroup_size(WG)
fn patch_embed_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  gemm(linear_id(wid, nwg, lid), 0u);
}

// dx[x_index(t, k)] = Σ_d dt[t, d] · w[d, k]   (a4 = dtᵀ, b4 = w padded)
@compute @workgroup_size(WG)
fn patch_embed_bwd_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  gemm(linear_id(wid, nwg, lid), 1u);
}

// dw[d, k] = Σ_t dt[t, d] · patches[t, k]   (a4 = dt padded, b4 = patches)
@compute @workgroup_size(WG)
fn patch_embed_bwd_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  gemm(linear_id(wid, nwg, lid), 0u);
}

// dbias[d] = Σ_t dt[t, d]   (dt read from src)
@compute @workgroup_size(WG)
fn patch_embed_bwd_bias(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let d = linear_id(wid, nwg, lid);
  if (d >= p.D) { return; }
  var acc = 0.0;
  for (var t = 0u; t < p.T; t++) { acc += src[t * p.D + d]; }
  if (ACCUMULATE) { acc = dst[d] + acc; }
  dst[d] = acc;
}
