// Batched matrix multiply with an optional bias and activation epilogue.
//
//   C[b] = act(op(A[b]) · op(B[b]) + bias),   op(X) = X or Xᵀ
//
// Layout: row-major. A is [batch?, M, K] ([batch?, K, M] when TRANS_A),
// B is [batch?, K, N] ([batch?, N, K] when TRANS_B), C is [batch, M, N],
// bias is [N]. A batch stride of 0 broadcasts an operand over the batch.
//
// Tiling: each invocation computes a TM×TN = 4×4 block of C in registers;
// an 8×8 workgroup covers a 32×32 tile; grid = (⌈N/32⌉, ⌈M/32⌉, batch).
// Register blocking without workgroup memory: on CPU adapters (lavapipe)
// barriers are coroutine switches and cost more than the reuse they buy,
// and on GPUs the 4×4 block already gives 8 loads per 16 FMAs.
// Transposition, bias and activation are override constants, so each
// combination compiles to straight-line code without runtime branches.
//
// ACCUMULATE (override): C = C + act(op(A)·op(B) + bias), in place, after the
// full sum over k: one f32 add per output, the same as elementwise.wgsl's
// acc_add, so the bits equal a matmul followed by a separate acc_add. The
// backward uses it to add a parameter's gradient straight into its .grad
// (src/autograd/leaf-grad.ts).

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// 0: none, 1: ReLU, 2: GELU (erf form, as PyTorch's default)
override ACT: u32 = 0u;
override ACCUMULATE: bool = false;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

const TM: u32 = 4u;
const TN: u32 = 4u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  a_batch_stride: u32,
  b_batch_stride: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn load_a(base: u32, m: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[base + k * p.M + m]; }
  return a[base + m * p.K + k];
}

fn load_b(base: u32, k: u32, n: u32) -> f32 {
  if (TRANS_B) { return b[base + n * p.K + k]; }
  return b[base + k * p.N + n];
}

// Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: WGSL has no erf.
fn erf_approx(x: f32) -> f32 {
  let s = sign(x);
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
  return s * y;
}

fn activate(v: f32) -> f32 {
  if (ACT == 1u) { return select(v, 0.0, v < 0.0); } // NaN-preserving ReLU
  if (ACT == 2u) { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }
  return v;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let batch = wid.z;
  let m0 = (wid.y * WG_Y + lid.y) * TM;
  let n0 = (wid.x * WG_X + lid.x) * TN;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let abase = batch * p.a_batch_stride;
  let bbase = batch * p.b_batch_stride;
  // Clamp the rows/columns past the edge to valid ones; their results are
  // computed but never stored.
  var mi: array<u32, TM>;
  var ni: array<u32, TN>;
  for (var i = 0u; i < TM; i++) { mi[i] = min(m0 + i, p.M - 1u); }
  for (var j = 0u; j < TN; j++) { ni[j] = min(n0 + j, p.N - 1u); }
  var acc: array<array<f32, TN>, TM>;
  for (var k = 0u; k < p.K; k++) {
    var av: array<f32, TM>;
    var bv: array<f32, TN>;
    for (var i = 0u; i < TM; i++) { av[i] = load_a(abase, mi[i], k); }
    for (var j = 0u; j < TN; j++) { bv[j] = load_b(bbase, k, ni[j]); }
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) {
        acc[i][j] = fma(av[i], bv[j], acc[i][j]);
      }
    }
  }
  let cbase = batch * p.M * p.N;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + j;
      if (n >= p.N) { break; }
      var v = acc[i][j];
      if (HAS_BIAS) { v += bias[n]; }
      let ci = cbase + m * p.N + n;
      var r = activate(v);
      if (ACCUMULATE) { r = c[ci] + r; }
      c[ci] = r;
    }
  }
}
