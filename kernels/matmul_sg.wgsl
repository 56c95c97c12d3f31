// Batched matmul for adapters with 8-wide subgroups (CPU adapters such as
// lavapipe/llvmpipe with 256-bit vectors), same contract as matmul.wgsl:
//
//   C[b] = act(op(A[b]) · op(B[b]) + bias),   op(X) = X or Xᵀ
//
// Layout: row-major, A [batch?, M, K] ([batch?, K, M] when TRANS_A), B
// [batch?, K, N] ([batch?, N, K] when TRANS_B), C [batch, M, N], bias [N]; a
// batch stride of 0 broadcasts an operand. Everything is read as vec4, so the
// host uses this kernel only when N % 4 == 0 and the contiguous dimension of
// each operand is a multiple of 4 (K for A, N for B; M for Aᵀ, K for Bᵀ).
//
// Why this shape: on llvmpipe one 8-lane subgroup is one SIMD register, and
// every storage-buffer load whose address is not a compile-time constant is
// scalarised lane by lane (dozens of cycles per load instruction, whatever
// its width), while FMAs are cheap. So the cost is the number of load
// instructions per FMA, and the kernel minimises it:
//   * a workgroup is one subgroup of 8 lanes and computes a TM × 32 tile of C;
//     lane l owns the 4 columns 4·(8·wid.x + l) .. +3 (one vec4 accumulator
//     per row, TM rows);
//   * per step of 4 k, each lane loads its 4×4 block of op(B) (4 vec4 loads)
//     and ONE vec4 of op(A) per 8 rows: lane l fetches row 8q + l (k..k+3);
//     the 8 rows then reach every lane through subgroupBroadcast, a register
//     shuffle, instead of 8 more loads;
//   * that is TM/8 + 4 load instructions for 16·TM FMAs per lane.
// TM (rows per workgroup: 8, 16, 24 or 32) is an override constant,
// chosen by measurement (docs/kernels/matmul.md). No workgroup memory and no
// barriers (barriers are coroutine switches on llvmpipe).
// ACCUMULATE (override): C = C + act(…), in place, after the full sum over
// k (one f32 add per output, as acc_add: the bits of matmul then acc_add),
// as in matmul.wgsl.

enable subgroups;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// 0: none, 1: ReLU, 2: GELU (erf form)
override ACT: u32 = 0u;
override ACCUMULATE: bool = false;
override TM: u32 = 16u;

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

// acc += a_row[0]·bk0 + a_row[1]·bk1 + a_row[2]·bk2 + a_row[3]·bk3
// (a_row holds A[m, k..k+3]; bkj holds B[k+j, n..n+3]).
fn step(acc: vec4f, a_row: vec4f, bk0: vec4f, bk1: vec4f, bk2: vec4f, bk3: vec4f) -> vec4f {
  return fma(vec4f(a_row.w), bk3, fma(vec4f(a_row.z), bk2, fma(vec4f(a_row.y), bk1, fma(vec4f(a_row.x), bk0, acc))));
}

// This lane's vec4 of op(A) for rows r .. r+7 of the tile (r = 8q), k = 4·k4 .. +3.
fn load_a(abase: u32, m0: u32, r: u32, k4: u32, l: u32) -> vec4f {
  if (TRANS_A) {
    // A is [K, M]: lane l loads rows m0 + r + 4·(l/4) .. +3 at k = 4·k4 + l%4.
    let M4 = p.M / 4u;
    return a[abase + (4u * k4 + (l & 3u)) * M4 + min((m0 + r) / 4u + (l >> 2u), M4 - 1u)];
  }
  // A is [M, K]: lane l loads row m0 + r + l, k = 4·k4 .. +3.
  return a[abase + min(m0 + r + l, p.M - 1u) * (p.K / 4u) + k4];
}

// Eight rows of the tile: shares `al` across the subgroup and accumulates.
fn rows8(acc: ptr<function, array<vec4f, 8>>, al: vec4f, bk0: vec4f, bk1: vec4f, bk2: vec4f, bk3: vec4f) {
  let v0 = subgroupBroadcast(al, 0u);
  let v1 = subgroupBroadcast(al, 1u);
  let v2 = subgroupBroadcast(al, 2u);
  let v3 = subgroupBroadcast(al, 3u);
  let v4 = subgroupBroadcast(al, 4u);
  let v5 = subgroupBroadcast(al, 5u);
  let v6 = subgroupBroadcast(al, 6u);
  let v7 = subgroupBroadcast(al, 7u);
  if (TRANS_A) {
    // lane j holds rows 4·(j/4) .. +3 at k-offset j%4: transpose in registers.
    (*acc)[0] = step((*acc)[0], vec4f(v0.x, v1.x, v2.x, v3.x), bk0, bk1, bk2, bk3);
    (*acc)[1] = step((*acc)[1], vec4f(v0.y, v1.y, v2.y, v3.y), bk0, bk1, bk2, bk3);
    (*acc)[2] = step((*acc)[2], vec4f(v0.z, v1.z, v2.z, v3.z), bk0, bk1, bk2, bk3);
    (*acc)[3] = step((*acc)[3], vec4f(v0.w, v1.w, v2.w, v3.w), bk0, bk1, bk2, bk3);
    (*acc)[4] = step((*acc)[4], vec4f(v4.x, v5.x, v6.x, v7.x), bk0, bk1, bk2, bk3);
    (*acc)[5] = step((*acc)[5], vec4f(v4.y, v5.y, v6.y, v7.y), bk0, bk1, bk2, bk3);
    (*acc)[6] = step((*acc)[6], vec4f(v4.z, v5.z, v6.z, v7.z), bk0, bk1, bk2, bk3);
    (*acc)[7] = step((*acc)[7], vec4f(v4.w, v5.w, v6.w, v7.w), bk0, bk1, bk2, bk3);
  } else {
    // lane j holds row j.
    (*acc)[0] = step((*acc)[0], v0, bk0, bk1, bk2, bk3);
    (*acc)[1] = step((*acc)[1], v1, bk0, bk1, bk2, bk3);
    (*acc)[2] = step((*acc)[2], v2, bk0, bk1, bk2, bk3);
    (*acc)[3] = step((*acc)[3], v3, bk0, bk1, bk2, bk3);
    (*acc)[4] = step((*acc)[4], v4, bk0, bk1, bk2, bk3);
    (*acc)[5] = step((*acc)[5], v5, bk0, bk1, bk2, bk3);
    (*acc)[6] = step((*acc)[6], v6, bk0, bk1, bk2, bk3);
    (*acc)[7] = step((*acc)[7], v7, bk0, bk1, bk2, bk3);
  }
}

fn store8(acc: ptr<function, array<vec4f, 8>>, cbase: u32, m: u32, N4: u32, bv: vec4f) {
  for (var i = 0u; i < 8u; i++) {
    if (m + i >= p.M) { break; }
    let ci = cbase + (m + i) * N4;
    var r = activate4((*acc)[i] + bv);
    if (ACCUMULATE) { r = c[ci] + r; }
    c[ci] = r;
  }
}

@compute @workgroup_size(8, 1, 1)
fn matmul_sg8(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let l = lid.x;
  let batch = wid.z;
  let m0 = wid.y * TM;
  let N4 = p.N / 4u;
  let K4 = p.K / 4u;
  let n4 = wid.x * 8u + l;
  // Columns past the edge load a valid quad; their results are not stored.
  let n4c = min(n4, N4 - 1u);
  let abase = batch * p.a_batch_stride / 4u;
  let bbase = batch * p.b_batch_stride / 4u;
  // Four blocks of 8 rows, written out (not a loop) so that every index is a
  // constant and the accumulators stay in registers; blocks past TM are
  // removed at pipeline creation (TM is an override constant).
  var acc0: array<vec4f, 8>;
  var acc1: array<vec4f, 8>;
  var acc2: array<vec4f, 8>;
  var acc3: array<vec4f, 8>;
  for (var k4 = 0u; k4 < K4; k4++) {
    // This lane's 4×4 block of op(B): bkj = B[4·k4 + j, 4·n4c .. +3].
    var bk0: vec4f;
    var bk1: vec4f;
    var bk2: vec4f;
    var bk3: vec4f;
    if (TRANS_B) {
      // B is [N, K]: one vec4 along k per column, transposed in registers.
      let r0 = b[bbase + (4u * n4c + 0u) * K4 + k4];
      let r1 = b[bbase + (4u * n4c + 1u) * K4 + k4];
      let r2 = b[bbase + (4u * n4c + 2u) * K4 + k4];
      let r3 = b[bbase + (4u * n4c + 3u) * K4 + k4];
      bk0 = vec4f(r0.x, r1.x, r2.x, r3.x);
      bk1 = vec4f(r0.y, r1.y, r2.y, r3.y);
      bk2 = vec4f(r0.z, r1.z, r2.z, r3.z);
      bk3 = vec4f(r0.w, r1.w, r2.w, r3.w);
    } else {
      let kb = bbase + 4u * k4 * N4 + n4c;
      bk0 = b[kb];
      bk1 = b[kb + N4];
      bk2 = b[kb + 2u * N4];
      bk3 = b[kb + 3u * N4];
    }
    rows8(&acc0, load_a(abase, m0, 0u, k4, l), bk0, bk1, bk2, bk3);
    if (TM > 8u) { rows8(&acc1, load_a(abase, m0, 8u, k4, l), bk0, bk1, bk2, bk3); }
    if (TM > 16u) { rows8(&acc2, load_a(abase, m0, 16u, k4, l), bk0, bk1, bk2, bk3); }
    if (TM > 24u) { rows8(&acc3, load_a(abase, m0, 24u, k4, l), bk0, bk1, bk2, bk3); }
  }
  if (n4 >= N4) { return; }
  var bv = vec4f(0.0);
  if (HAS_BIAS) { bv = vec4f(bias[4u * n4], bias[4u * n4 + 1u], bias[4u * n4 + 2u], bias[4u * n4 + 3u]); }
  let cbase = batch * p.M * N4 + n4;
  store8(&acc0, cbase, m0, N4, bv);
  if (TM > 8u) { store8(&acc1, cbase, m0 + 8u, N4, bv); }
  if (TM > 16u) { store8(&acc2, cbase, m0 + 16u, N4, bv); }
  if (TM > 24u) { store8(&acc3, cbase, m0 + 24u, N4, bv); }
}
