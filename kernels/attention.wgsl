// Row softmax for multi-head attention with stored probabilities
// (src/ops/attention.ts): the score and value products are batched matmuls
// (kernels/matmul.wgsl); these two kernels are the part between them.
//
// softmax_fwd: x viewed as [rows, cols] row-major;
//   out[r, j] = exp(scale·x[r, j] − m_r) / Σ_j' exp(scale·x[r, j'] − m_r),
//   m_r = max_j scale·x[r, j]  (max-subtracted, so no overflow).
// softmax_bwd: given the probabilities P and their gradient dP,
//   out[r, j] = scale · P[r, j] · (dP[r, j] − Σ_j' P[r, j']·dP[r, j'])
//   i.e. the gradient w.r.t. the unscaled scores x.
//
// Grid: one thread per row, 1-D (folded past 65535 workgroups). Rows are
// short (L ≤ a few hundred for a small ViT) and there are B·H·L of them, so
// a thread per row keeps every lane busy without workgroup barriers, which
// lavapipe runs as coroutine switches. A row is read 3 times (max, sum,
// write); it stays in cache.

override WG: u32 = 64;

struct Params {
  rows: u32,
  cols: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dp: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn row_index(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid.x;
}

@compute @workgroup_size(WG)
fn softmax_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = row_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var m = -3.402823e38;
  for (var j = 0u; j < p.cols; j++) { m = max(m, p.scale * x[base + j]); }
  var l = 0.0;
  for (var j = 0u; j < p.cols; j++) {
    let e = exp(p.scale * x[base + j] - m);
    out[base + j] = e;
    l += e;
  }
  let inv = 1.0 / l;
  for (var j = 0u; j < p.cols; j++) { out[base + j] *= inv; }
}

// x holds P here.
@compute @workgroup_size(WG)
fn softmax_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = row_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var dot = 0.0;
  for (var j = 0u; j < p.cols; j++) { dot += x[base + j] * dp[base + j]; }
  for (var j = 0u; j < p.cols; j++) { out[base + j] = p.scale * x[base + j] * (dp[base + j] - dot); }
}
