// Batched matmul for GPUs with subgroups of any fixed width SGW (32 on NVIDIA
// and Apple GPUs, 8 on lavapipe), same contract as matmul.wgsl:
//
//   C[b] = act(op(A[b]) · op(B[b]) + bias),   op(X) = X or Xᵀ
//
// Layout: row-major, A [batch?, M, K] ([batch?, K, M] when TRANS_A), B
// [batch?, K, N] ([batch?, N, K] when TRANS_B), C [batch, M, N], bias [N]; a
// batch stride of 0 broadcasts an operand. A is read as scalars (any layout);
// B and C as vec4, so the host uses this kernel only when N % 4 == 0 and, for
// Bᵀ, K % 4 == 0. Edges (M, N, K not multiples of the tile) are checked.
//
// Tiling (override constants, chosen per adapter and shape by the autotuner,
// docs/kernels/matmul.md):
//   * a workgroup of WG invocations (a multiple of SGW, so every subgroup is
//     full) computes TM rows × 4·CN·WG columns of C; every invocation holds
//     all TM rows, for its CN vec4 columns tid + j·WG (neighbouring
//     invocations on neighbouring addresses: coalesced loads of B, stores of C);
//   * per SGW steps of k, lane s of each subgroup loads op(A)[m0 + i, k0 + s]
//     for the TM rows: one scalar per row, and the SGW values of a row reach
//     every lane of the subgroup through subgroupShuffle — no workgroup memory,
//     no barriers. Because every invocation of the workgroup holds the same
//     rows, which invocations share a subgroup does not matter;
//   * per 4 steps of k an invocation loads a 4 × 4 block of op(B) per vec4
//     column (4 vec4 loads; Bᵀ's block is transposed in registers) and does
//     4·TM·CN vec4 FMAs, with 4·TM shuffles.
// Constraints (checked by the host): the adapter's subgroups are exactly SGW
// wide (min = max), SGW a power of two ≥ 4, WG % SGW == 0, TM·CN ≤ 32, CN ≤ 4.
// Summation order: k ascending, one fma per product.
// ACCUMULATE (override): C = C + act(…), in place, after the full sum over k
// (the bits of matmul then acc_add), as in matmul.wgsl.

enable subgroups;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// 0: none, 1: ReLU, 2: GELU (erf form)
override ACT: u32 = 0u;
override ACCUMULATE: bool = false;
override TM: u32 = 16u;
override CN: u32 = 1u;
override WG: u32 = 64u;
override SGW: u32 = 32u;

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
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4f>;

// Abramowitz & Stegun 7.1.26, |error| < 1.5e-7 (as matmul.wgsl), on vec4.
fn erf4(x: vec4f) -> vec4f {
  let s = sign(x);
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
  return s * y;
}

fn activate4(v: vec4f) -> vec4f {
  if (ACT == 1u) { return select(v, vec4f(0.0), v < vec4f(0.0)); } // NaN-preserving ReLU
  if (ACT == 2u) { return 0.5 * v * (1.0 + erf4(v * 0.70710678118654752)); }
  return v;
}

// op(B)[k .. k+3, 4·n4 .. 4·n4+3] as four vec4 rows (zeros past K and N).
fn load_b(bbase: u32, k: u32, n4: u32) -> array<vec4f, 4> {
  var r: array<vec4f, 4>;
  let N4 = p.N / 4u;
  if (n4 >= N4) { return r; }
  if (TRANS_B) {
    // B is [N, K]: one vec4 along k per column n; K % 4 == 0, so k .. k+3 are all inside or all outside.
    if (k >= p.K) { return r; }
    let K4 = p.K / 4u;
    let c0 = b[bbase + (4u * n4 + 0u) * K4 + k / 4u];
    let c1 = b[bbase + (4u * n4 + 1u) * K4 + k / 4u];
    let c2 = b[bbase + (4u * n4 + 2u) * K4 + k / 4u];
    let c3 = b[bbase + (4u * n4 + 3u) * K4 + k / 4u];
    r[0] = vec4f(c0.x, c1.x, c2.x, c3.x);
    r[1] = vec4f(c0.y, c1.y, c2.y, c3.y);
    r[2] = vec4f(c0.z, c1.z, c2.z, c3.z);
    r[3] = vec4f(c0.w, c1.w, c2.w, c3.w);
  } else {
    // B is [K, N]: one vec4 along n per row k.
    for (var q = 0u; q < 4u; q++) {
      if (k + q < p.K) { r[q] = b[bbase + (k + q) * N4 + n4]; }
    }
  }
  return r;
}

@compute @workgroup_size(WG)
fn matmul_subgroup(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let batch = wid.z;
  let m0 = wid.y * TM;
  let col0 = wid.x * CN * WG + tid; // this invocation's first vec4 column; then + j·WG
  let abase = batch * p.a_batch_stride;
  let bbase = batch * p.b_batch_stride / 4u;

  // acc[i·CN + j]: row m0 + i, vec4 column col0 + j·WG. Fixed-size arrays whose
  // loops have override bounds: they unroll at pipeline creation and stay in registers.
  var acc: array<vec4f, 32>;
  var av: array<f32, 32>;
  for (var k0 = 0u; k0 < p.K; k0 += SGW) {
    // This lane's column of A for the chunk: op(A)[m0 + i, k0 + lane].
    let k = k0 + lane;
    for (var i = 0u; i < TM; i++) {
      let m = m0 + i;
      var v = 0.0;
      if (m < p.M && k < p.K) { v = a[abase + select(m * p.K + k, k * p.M + m, TRANS_A)]; }
      av[i] = v;
    }
    let kn = min(SGW, p.K - k0);
    for (var kq = 0u; kq < kn; kq += 4u) {
      var bq: array<array<vec4f, 4>, 4>; // CN ≤ 4 column blocks
      for (var j = 0u; j < CN; j++) { bq[j] = load_b(bbase, k0 + kq, col0 + j * WG); }
      for (var i = 0u; i < TM; i++) {
        // Past K the lanes hold 0 and load_b's rows are 0: a short last quad adds exact zeros.
        // The four shuffles of a row serve all CN column blocks.
        let x0 = vec4f(subgroupShuffle(av[i], kq));
        let x1 = vec4f(subgroupShuffle(av[i], kq + 1u));
        let x2 = vec4f(subgroupShuffle(av[i], kq + 2u));
        let x3 = vec4f(subgroupShuffle(av[i], kq + 3u));
        for (var j = 0u; j < CN; j++) {
          let t = i * CN + j;
          acc[t] = fma(x3, bq[j][3], fma(x2, bq[j][2], fma(x1, bq[j][1], fma(x0, bq[j][0], acc[t]))));
        }
      }
    }
  }

  let N4 = p.N / 4u;
  let cbase = batch * p.M * N4;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < CN; j++) {
      let n4 = col0 + j * WG;
      if (n4 >= N4) { continue; }
      var v = acc[i * CN + j];
      if (HAS_BIAS) { v += vec4f(bias[4u * n4], bias[4u * n4 + 1u], bias[4u * n4 + 2u], bias[4u * n4 + 3u]); }
      let ci = cbase + m * N4 + n4;
      var r = activate4(v);
      if (ACCUMULATE) { r = c[ci] + r; }
      c[ci] = r;
    }
  }
}
