// Batched matmul for GPUs, any shape: workgroup-memory tiles and a register
// tile per thread, with scalar global loads. Same contract as matmul.wgsl:
//
//   C[b] = act(op(A[b]) · op(B[b]) + bias),   op(X) = X or Xᵀ
//
// Layout: row-major. A is [batch?, M, K] ([batch?, K, M] when TRANS_A), B is
// [batch?, K, N] ([batch?, N, K] when TRANS_B), C is [batch, M, N], bias [N].
// A batch stride of 0 broadcasts an operand over the batch. This is
// matmul_tiled_v4.wgsl for shapes whose contiguous dimensions are not
// multiples of 4: the global loads and stores are scalar (each element
// bounds-checked), everything else — workgroup tiles held as vec4 along k
// (tileA) and n (tileB), the register tile, the vec4 FMAs — is the same.
//
// Tiling (all override constants, chosen per adapter and shape by the
// autotuner in src/tune/, see docs/kernels/matmul.md):
//   * a workgroup computes a BM × BN tile of C; grid = (⌈N/BN⌉, ⌈M/BM⌉, batch);
//   * per step of BK along k, the workgroup copies op(A)[BM × BK] and
//     op(B)[BK × BN] into workgroup memory (tileA, tileB), four scalars per
//     invocation and loop turn, zero-filling past the edges;
//   * WG = (BM/TM)·(BN/TN) invocations; invocation (tx, ty) holds a TM × TN
//     register tile: rows ty + i·(BM/TM) (i < TM) and the 4-column groups
//     tx + j·(BN/TN) (j < TN/4) of the workgroup's tile;
//   * per 4 steps of k an invocation reads TM vec4 of tileA and TN vec4 of
//     tileB for 4·TM·TN FMAs.
// Constraints (checked by the host): TN % 4 == 0, BK % 4 == 0, BM % TM == 0,
// BN % TN == 0, TM ≤ 16, TM·TN ≤ 64, WG = (BM/TM)·(BN/TN) within the
// adapter's workgroup limits, 4·(BM + BN)·BK bytes within its workgroup
// memory. Transposition, bias and activation are override constants too.
// ACCUMULATE (override): C = C + act(…), in place, after the full sum over
// k (one f32 add per output, as acc_add: the bits of matmul then acc_add),
// as in matmul.wgsl.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// 0: none, 1: ReLU, 2: GELU (erf form)
override ACT: u32 = 0u;
override ACCUMULATE: bool = false;
override BM: u32 = 64u;
override BN: u32 = 64u;
override BK: u32 = 16u;
override TM: u32 = 8u;
override TN: u32 = 8u;
override WG: u32 = 64u;

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

// tileA[r·(BK/4) + q] = op(A)[m0 + r, k0 + 4q .. +3]
var<workgroup> tileA: array<vec4f, BM * BK / 4>;
// tileB[kk·(BN/4) + j] = op(B)[k0 + kk, n0 + 4j .. +3]
var<workgroup> tileB: array<vec4f, BK * BN / 4>;

// Abramowitz & Stegun 7.1.26, |error| < 1.5e-7 (as matmul.wgsl).
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

// op(A)[m, k] and op(B)[k, n], 0 past the edges.
fn load_a(abase: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return a[abase + k * p.M + m]; }
  return a[abase + m * p.K + k];
}

fn load_b(bbase: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (TRANS_B) { return b[bbase + n * p.K + k]; }
  return b[bbase + k * p.N + n];
}

// Copies op(A)[m0 .. m0+BM, k0 .. k0+BK] into tileA (zeros past the edges).
// Slot s holds 4 consecutive k of one row; with Aᵀ (A is [K, M]) consecutive
// invocations take consecutive rows, so the scalar loads stay coalesced.
fn load_tile_a(tid: u32, abase: u32, m0: u32, k0: u32) {
  for (var s = tid; s < BM * BK / 4u; s += WG) {
    var r: u32;
    var q: u32;
    if (TRANS_A) {
      r = s % BM;
      q = s / BM;
    } else {
      r = s / (BK / 4u);
      q = s % (BK / 4u);
    }
    let m = m0 + r;
    let k = k0 + 4u * q;
    tileA[r * (BK / 4u) + q] = vec4f(load_a(abase, m, k), load_a(abase, m, k + 1u), load_a(abase, m, k + 2u), load_a(abase, m, k + 3u));
  }
}

// Copies op(B)[k0 .. k0+BK, n0 .. n0+BN] into tileB (zeros past the edges).
// Slot s holds 4 consecutive n of one k; with Bᵀ (B is [N, K]) consecutive
// invocations take consecutive k, so the scalar loads stay coalesced.
fn load_tile_b(tid: u32, bbase: u32, n0: u32, k0: u32) {
  for (var s = tid; s < BK * BN / 4u; s += WG) {
    var kk: u32;
    var j: u32;
    if (TRANS_B) {
      kk = s % BK;
      j = s / BK;
    } else {
      kk = s / (BN / 4u);
      j = s % (BN / 4u);
    }
    let k = k0 + kk;
    let n = n0 + 4u * j;
    tileB[kk * (BN / 4u) + j] = vec4f(load_b(bbase, k, n), load_b(bbase, k, n + 1u), load_b(bbase, k, n + 2u), load_b(bbase, k, n + 3u));
  }
}

@compute @workgroup_size(WG)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let WGX = BN / TN; // invocations along n
  let WGY = BM / TM; // invocations along m
  let tx = tid % WGX;
  let ty = tid / WGX;
  let batch = wid.z;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let abase = batch * p.a_batch_stride;
  let bbase = batch * p.b_batch_stride;

  // acc[i·(TN/4) + j]: row ty + i·WGY, vec4 column tx + j·WGX. Fixed-size
  // arrays (TM ≤ 16, TM·TN/4 ≤ 16): the loops below have override bounds,
  // which are constants at pipeline creation, so they unroll and the arrays
  // stay in registers.
  var acc: array<vec4f, 16>;
  var av: array<vec4f, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    load_tile_a(tid, abase, m0, k0);
    load_tile_b(tid, bbase, n0, k0);
    workgroupBarrier();
    for (var q = 0u; q < BK / 4u; q++) {
      for (var i = 0u; i < TM; i++) { av[i] = tileA[(ty + i * WGY) * (BK / 4u) + q]; }
      for (var j = 0u; j < TN / 4u; j++) {
        let col = tx + j * WGX;
        let b0 = tileB[(4u * q + 0u) * (BN / 4u) + col];
        let b1 = tileB[(4u * q + 1u) * (BN / 4u) + col];
        let b2 = tileB[(4u * q + 2u) * (BN / 4u) + col];
        let b3 = tileB[(4u * q + 3u) * (BN / 4u) + col];
        for (var i = 0u; i < TM; i++) {
          let x = av[i];
          let t = i * (TN / 4u) + j;
          acc[t] = fma(vec4f(x.w), b3, fma(vec4f(x.z), b2, fma(vec4f(x.y), b1, fma(vec4f(x.x), b0, acc[t]))));
        }
      }
    }
    workgroupBarrier();
  }

  let cbase = batch * p.M * p.N;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + ty + i * WGY;
    if (m >= p.M) { break; }
    for (var j = 0u; j < TN / 4u; j++) {
      let n = n0 + 4u * (tx + j * WGX);
      if (n >= p.N) { break; }
      var v = acc[i * (TN / 4u) + j];
      for (var e = 0u; e < 4u; e++) {
        if (n + e >= p.N) { break; }
        var x = v[e];
        if (HAS_BIAS) { x += bias[n + e]; }
        let ci = cbase + m * p.N + n + e;
        var r = activate(x);
        if (ACCUMULATE) { r = c[ci] + r; }
        c[ci] = r;
      }
    }
  }
}
