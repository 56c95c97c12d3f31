// Experiment (bench/scratch/matmul-packed.ts, not a product kernel): panel
// packing for matmul_sg8 patched to read packed operands (PACK_A / PACK_B). Copies op(A) or op(B) into the order
// in which one matmul_sg8 workgroup reads it, so that each workgroup streams
// contiguous memory instead of TM rows (A) or 4 rows per k step (B) that are
// K·4 or N·4 bytes apart: at power-of-two strides (K, N = 512, 1024, …) those
// rows all fall into the same few L1 sets and every line is evicted before
// it is used again — the hypothesis it tested; measured: no gain
// (docs/kernels/matmul.md, "Large sizes on lavapipe").
//
// pack_a: op(A) [M, K] (A stored [M, K], or [K, M] when TRANS) →
//   Ap[batch][⌈M/P⌉ panels][K/4][P] as vec4: Ap[.., t, k4, r] = op(A)[t·P + r, 4·k4 .. +3]
//   (the P rows of one workgroup's tile at four k, contiguous), P = the
//   matmul's TM; rows past M are zero.
// pack_b: op(B) [K, N] (B stored [K, N], or [N, K] when TRANS) →
//   Bp[batch][⌈N/32⌉ panels][K][8] as vec4: Bp[.., s, k, q] = op(B)[k, 32·s + 4·q .. +3]
//   (one workgroup's 32 columns at one k, contiguous); columns past N are zero.
//
// One invocation writes one vec4 (the grid may be folded into x·y past the
// per-dimension limit). Both read K/4, N/4 (and M/4 for Aᵀ) vec4 per row,
// so the host packs only the vec4 shapes matmul_sg8 accepts.

override TRANS: bool = false;
// Rows per A panel (the matmul's TM); B panels are 32 columns (8 vec4).
override P: u32 = 32u;
override WG: u32 = 64u;

struct Params {
  // op(X) is rows × cols (A: M × K, B: K × N)
  rows: u32,
  cols: u32,
  batch: u32,
  // floats between two batch entries of the source (packing only batched operands; 1 for a shared one)
  src_batch_stride: u32,
  // vec4 elements written
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;

@compute @workgroup_size(WG)
fn pack_a(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.n) { return; }
  let M = p.rows;
  let K4 = p.cols / 4u;
  let r = i % P;
  let t = i / P;
  let k4 = t % K4;
  let t2 = t / K4;
  let panels = (M + P - 1u) / P;
  let panel = t2 % panels;
  let bt = t2 / panels;
  let m = panel * P + r;
  var v = vec4f(0.0);
  if (m < M) {
    let base = bt * p.src_batch_stride;
    if (TRANS) {
      // A is [K, M]: four rows of A, one column.
      let s = base + 4u * k4 * M + m;
      v = vec4f(x[s], x[s + M], x[s + 2u * M], x[s + 3u * M]);
    } else {
      v = x4[base / 4u + m * K4 + k4];
    }
  }
  out[i] = v;
}

@compute @workgroup_size(WG)
fn pack_b(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.n) { return; }
  let K = p.rows;
  let N = p.cols;
  let N4 = N / 4u;
  let q = i % 8u;
  let t = i / 8u;
  let k = t % K;
  let t2 = t / K;
  let panels = (N + 31u) / 32u;
  let panel = t2 % panels;
  let bt = t2 / panels;
  let n4 = panel * 8u + q;
  var v = vec4f(0.0);
  if (n4 < N4) {
    let base = bt * p.src_batch_stride;
    if (TRANS) {
      // B is [N, K]: one element of each of four rows of B.
      let s = base + 4u * n4 * K + k;
      v = vec4f(x[s], x[s + K], x[s + 2u * K], x[s + 3u * K]);
    } else {
      v = x4[base / 4u + k * N4 + n4];
    }
  }
  out[i] = v;
}
