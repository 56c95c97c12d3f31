// Batched matmul for GPUs: workgroup-memory tiles, vec4 global loads and a
// register tile per thread. Same contract as matmul.wgsl:
//
//   C[b] = act(op(A[b]) · op(B[b]) + bias),   op(X) = X or Xᵀ
//
// Layout: row-major. A is [batch?, M, K] ([batch?, K, M] when TRANS_A), B is
// [batch?, K, N] ([batch?, N, K] when TRANS_B), C is [batch, M, N], bias [N].
// A batch stride of 0 broadcasts an operand over the batch. A, B and C are
// read and written as vec4, so the host uses this file only when N % 4 == 0
// and each operand's contiguous dimension is a multiple of 4 (K for A, M for
// Aᵀ, N for B, K for Bᵀ); every other edge (M, N, K not multiples of the
// tile) is bounds-checked. matmul_tiled.wgsl is the same kernel with scalar
// loads for any shape.
//
// Tiling (all override constants, chosen per adapter and shape by the
// autotuner in src/tune/, see docs/kernels/matmul.md):
//   * a workgroup computes a BM × BN tile of C; grid = (⌈N/BN⌉, ⌈M/BM⌉, batch);
//   * per step of BK along k, the workgroup copies op(A)[BM × BK] and
//     op(B)[BK × BN] into workgroup memory (tileA, tileB), one vec4 (or a
//     transposed 4 × 4 block) per invocation and item, through registers,
//     zero-filling past the edges; with PREFETCH the next step's copy is read
//     from global memory before this step's products;
//   * WG = (BM/TM)·(BN/TN) invocations; invocation (tx, ty) holds a TM × TN
//     register tile: rows ty + i·(BM/TM) (i < TM) and the vec4 columns
//     tx + j·(BN/TN) (j < TN/4) of the workgroup's tile. Strided ownership
//     keeps neighbouring invocations on neighbouring addresses, both in
//     workgroup memory (no bank conflicts on tileB) and in the stores of C;
//   * per 4 steps of k an invocation reads TM vec4 of tileA and TN vec4 of
//     tileB for 4·TM·TN FMAs.
// Constraints (checked by the host): TN % 4 == 0, BK % 4 == 0, BM % 4 == 0, BM % TM == 0,
// BN % TN == 0, TM ≤ 16, TM·TN ≤ 64, at most 16 vec4 of each tile per invocation
// (the ra, rb registers), WG = (BM/TM)·(BN/TN) within the
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
// Split-K (the 'splitk' variant): k values per chunk, a multiple of BK; 0 = the whole K. With
// S = ⌈K/KCHUNK⌉ chunks the grid's z is batch·S (z = batch·S + s) and workgroup (x, y, z) sums
// k in [s·KCHUNK, min(K, (s+1)·KCHUNK)) into part s of c, laid out [S, batch, M, N], with no
// epilogue; matmul_splitk_sum (below) sums the parts in order and applies bias, activation and
// ACCUMULATE.
override KCHUNK: u32 = 0u;
// Fetch the next tile from global memory into registers before the current tile's products
// (one workgroup buffer, the loads' latency hidden behind the FMAs; the same sums, the same bits).
override PREFETCH: bool = false;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  a_batch_stride: u32,
  b_batch_stride: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4f>;

// tileA[r·(BK/4) + q] = op(A)[m0 + r, k0 + 4q .. +3]
var<workgroup> tileA: array<vec4f, BM * BK / 4>;
// tileB[kk·(BN/4) + j] = op(B)[k0 + kk, n0 + 4j .. +3]
var<workgroup> tileB: array<vec4f, BK * BN / 4>;

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

// The tile loaders, in two halves: fetch_* reads an invocation's share of the next tile from
// global memory into registers (ra, rb: its vec4s in store order), store_* writes them to
// workgroup memory. Invocation tid takes items tid, tid + WG, … (NA_ITEMS, NB_ITEMS of them).
// Without PREFETCH one follows the other; with it the next tile's fetch is issued before the
// current tile's products, so its global loads are in flight while they run.
// Every store is a whole vec4 written by one invocation: a store to one component may rewrite
// the whole vector (the WGSL memory model counts it as an access to all four), so two
// invocations filling one vec4 would race.
// Items of op(A)'s tile: a vec4 along k (A is [M, K]), or a 4 × 4 block (Aᵀ: A is [K, M]).
fn a_items() -> u32 {
  if (TRANS_A) { return BM * BK / 16u; }
  return BM * BK / 4u;
}

fn b_items() -> u32 {
  if (TRANS_B) { return BK * BN / 16u; }
  return BK * BN / 4u;
}

// The 4 × 4 block c (one vec4 per row) transposed into r[at .. at + 3]: vector e of the result
// holds element e of each c — a transposed operand's loads become tile rows.
fn put_transposed(r: ptr<function, array<vec4f, 16>>, at: u32, c: array<vec4f, 4>) {
  let t = transpose(mat4x4f(c[0], c[1], c[2], c[3]));
  (*r)[at] = t[0];
  (*r)[at + 1u] = t[1];
  (*r)[at + 2u] = t[2];
  (*r)[at + 3u] = t[3];
}

// op(A)[m0 .. m0+BM, k0 .. k0+BK] (zeros past the edges) → ra.
fn fetch_a(tid: u32, abase: u32, m0: u32, k0: u32, ra: ptr<function, array<vec4f, 16>>) {
  for (var i = 0u; i < (a_items() + WG - 1u) / WG; i++) {
    let s = tid + i * WG;
    if (s >= a_items()) { break; }
    if (TRANS_A) {
      // A is [K, M]: four vec4 of A (rows m .. m+3 at k .. k+3; M % 4 == 0, so the four rows
      // are all inside or all outside), transposed in registers into four vec4 of tileA.
      let r = 4u * (s % (BM / 4u));
      let q = s / (BM / 4u);
      let m = m0 + r;
      var c: array<vec4f, 4>;
      for (var e = 0u; e < 4u; e++) {
        let k = k0 + 4u * q + e;
        if (k < p.K && m < p.M) { c[e] = a[abase + (k * p.M + m) / 4u]; }
      }
      put_transposed(ra, 4u * i, c);
    } else {
      // A is [M, K]: one vec4 along k; K % 4 == 0.
      let m = m0 + s / (BK / 4u);
      let k = k0 + 4u * (s % (BK / 4u));
      var v = vec4f(0.0);
      if (m < p.M && k < p.K) { v = a[abase + (m * p.K + k) / 4u]; }
      (*ra)[i] = v;
    }
  }
}

fn store_a(tid: u32, ra: ptr<function, array<vec4f, 16>>) {
  for (var i = 0u; i < (a_items() + WG - 1u) / WG; i++) {
    let s = tid + i * WG;
    if (s >= a_items()) { break; }
    if (TRANS_A) {
      let r = 4u * (s % (BM / 4u));
      let q = s / (BM / 4u);
      for (var e = 0u; e < 4u; e++) { tileA[(r + e) * (BK / 4u) + q] = (*ra)[4u * i + e]; }
    } else {
      tileA[s] = (*ra)[i];
    }
  }
}

// op(B)[k0 .. k0+BK, n0 .. n0+BN] (zeros past the edges) → rb.
fn fetch_b(tid: u32, bbase: u32, n0: u32, k0: u32, rb: ptr<function, array<vec4f, 16>>) {
  for (var i = 0u; i < (b_items() + WG - 1u) / WG; i++) {
    let s = tid + i * WG;
    if (s >= b_items()) { break; }
    if (TRANS_B) {
      // B is [N, K]: four vec4 of B (k .. k+3 of columns n .. n+3; K % 4 == 0), transposed in
      // registers into four vec4 of tileB.
      let j = s % (BN / 4u);
      let q = s / (BN / 4u);
      let k = k0 + 4u * q;
      var c: array<vec4f, 4>;
      for (var e = 0u; e < 4u; e++) {
        let n = n0 + 4u * j + e;
        if (n < p.N && k < p.K) { c[e] = b[bbase + (n * p.K + k) / 4u]; }
      }
      put_transposed(rb, 4u * i, c);
    } else {
      // B is [K, N]: one vec4 along n; N % 4 == 0.
      let k = k0 + s / (BN / 4u);
      let n = n0 + 4u * (s % (BN / 4u));
      var v = vec4f(0.0);
      if (k < p.K && n < p.N) { v = b[bbase + (k * p.N + n) / 4u]; }
      (*rb)[i] = v;
    }
  }
}

fn store_b(tid: u32, rb: ptr<function, array<vec4f, 16>>) {
  for (var i = 0u; i < (b_items() + WG - 1u) / WG; i++) {
    let s = tid + i * WG;
    if (s >= b_items()) { break; }
    if (TRANS_B) {
      let j = s % (BN / 4u);
      let q = s / (BN / 4u);
      for (var e = 0u; e < 4u; e++) { tileB[(4u * q + e) * (BN / 4u) + j] = (*rb)[4u * i + e]; }
    } else {
      tileB[s] = (*rb)[i];
    }
  }
}

@compute @workgroup_size(WG)
fn matmul_tiled_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let WGX = BN / TN; // invocations along n
  let WGY = BM / TM; // invocations along m
  let tx = tid % WGX;
  let ty = tid / WGX;
  var batch = wid.z;
  var kbeg = 0u;
  var kend = p.K;
  if (KCHUNK > 0u) {
    let S = (p.K + KCHUNK - 1u) / max(KCHUNK, 1u); // (KCHUNK > 0 here; max keeps the divisor nonzero for the compiler)
    batch = wid.z / S;
    kbeg = (wid.z % S) * KCHUNK;
    kend = min(p.K, kbeg + KCHUNK);
  }
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let abase = batch * p.a_batch_stride / 4u;
  let bbase = batch * p.b_batch_stride / 4u;

  // acc[i·(TN/4) + j]: row ty + i·WGY, vec4 column tx + j·WGX. Fixed-size
  // arrays (TM ≤ 16, TM·TN/4 ≤ 16): the loops below have override bounds,
  // which are constants at pipeline creation, so they unroll and the arrays
  // stay in registers.
  var acc: array<vec4f, 16>;
  var av: array<vec4f, 16>;
  var ra: array<vec4f, 16>;
  var rb: array<vec4f, 16>;
  // kbeg and kend are uniform across the workgroup, so the barriers are too. A chunk ends on a
  // multiple of BK (or at K), so no tile straddles two chunks.
  if (PREFETCH && kbeg < kend) {
    fetch_a(tid, abase, m0, kbeg, &ra);
    fetch_b(tid, bbase, n0, kbeg, &rb);
  }
  for (var k0 = kbeg; k0 < kend; k0 += BK) {
    if (PREFETCH) {
      // This tile's values are in registers already (fetched during the last tile's products).
      store_a(tid, &ra);
      store_b(tid, &rb);
      workgroupBarrier();
      if (k0 + BK < kend) {
        fetch_a(tid, abase, m0, k0 + BK, &ra);
        fetch_b(tid, bbase, n0, k0 + BK, &rb);
      }
    } else {
      fetch_a(tid, abase, m0, k0, &ra);
      fetch_b(tid, bbase, n0, k0, &rb);
      store_a(tid, &ra);
      store_b(tid, &rb);
      workgroupBarrier();
    }
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

  let N4 = p.N / 4u;
  // Split-K: part s of batch b sits at (s·batch + b); wid.z = b·S + s.
  var cbase = batch * p.M * N4;
  if (KCHUNK > 0u) {
    let S = (p.K + KCHUNK - 1u) / max(KCHUNK, 1u); // (KCHUNK > 0 here; max keeps the divisor nonzero for the compiler)
    cbase = ((wid.z % S) * p.batch + batch) * p.M * N4;
  }
  for (var i = 0u; i < TM; i++) {
    let m = m0 + ty + i * WGY;
    if (m >= p.M) { break; }
    for (var j = 0u; j < TN / 4u; j++) {
      let n4 = n0 / 4u + tx + j * WGX;
      if (n4 >= N4) { break; }
      var v = acc[i * (TN / 4u) + j];
      let ci = cbase + m * N4 + n4;
      if (KCHUNK == 0u) {
        if (HAS_BIAS) { v += vec4f(bias[4u * n4], bias[4u * n4 + 1u], bias[4u * n4 + 2u], bias[4u * n4 + 3u]); }
        v = activate4(v);
        if (ACCUMULATE) { v = c[ci] + v; }
      }
      c[ci] = v;
    }
  }
}

// The second pass of split-K (KCHUNK > 0): the S parts that matmul_tiled_v4 wrote, bound here as
// `a` ([S, batch·M·N] as vec4), summed in order, s ascending (deterministic, no atomics), then the
// epilogue of the single pass:
//   C[i] = act(Σ_s part[s, i] + bias[i mod N])      (+ C[i] first when ACCUMULATE)
// One invocation per vec4 of C; the engine folds a grid past 65 535 workgroups into x·y.
@compute @workgroup_size(WG)
fn matmul_splitk_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let total4 = p.batch * p.M * (p.N / 4u);
  let i = (wid.x + wid.y * nwg.x) * WG + tid;
  if (i >= total4) { return; }
  let S = (p.K + KCHUNK - 1u) / max(KCHUNK, 1u);
  var v = a[i];
  for (var s = 1u; s < S; s++) { v += a[s * total4 + i]; }
  if (HAS_BIAS) {
    let n = (4u * i) % p.N;
    v += vec4f(bias[n], bias[n + 1u], bias[n + 2u], bias[n + 3u]);
  }
  v = activate4(v);
  if (ACCUMULATE) { v = c[i] + v; }
  c[i] = v;
}
