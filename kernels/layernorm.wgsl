// Layer normalisation over the last axis.
//
// Layout: x, dy, out are [R, D] row-major (all leading dims flattened into
// R rows); weight, bias are [D]; stats is [2, R] (row 0: mean, row 1:
// rstd = 1/sqrt(var_biased + eps)), saved by the forward for the backward.
//
// ln_fwd / ln_bwd_input: one workgroup per row (grid folded into x·y, the
//   row is wid.x + wid.y·nwg.x). WG threads stride over the row (contiguous
//   across lanes) and reduce in workgroup memory with a tree. The forward
//   makes two passes (mean, then Σ(x − mean)²) so the variance has no
//   E[x²] − E[x]² cancellation; the row is small and stays in cache. The host
//   picks WG (64..256) from D so short rows do not idle most lanes.
//   ACCUMULATE (ln_bwd_input): dx is added to out in place (out = out + dx,
//   the same f32 add as the autograd's add of two gradients): out is the sum
//   so far of x's gradient in the running backward pass
//   (src/autograd/pending.ts), so the residual stream's two gradients take
//   no separate add. Bit for bit the separate add where the compiler keeps
//   the final multiply and this add apart (lavapipe does; tested); one that
//   contracts them into an FMA rounds once instead of twice — a correctly
//   rounded sum either way, to be checked on the first GPU lent.
// ln_param_partial / ln_param_final: dweight = Σ_rows dy·x̂, dbias = Σ_rows dy.
//   Column sums in two stages: grid (⌈D/WG⌉, ⌈R/ROWS⌉), each thread owns a
//   column and sums ROWS rows (loads contiguous across lanes), writing
//   part[chunk, 0..2D); then one thread per output sums the chunks and writes
//   dweight to wgrad, dbias to bgrad, each as W_GRAD / B_GRAD says: 0 not
//   wanted, 1 written, 2 added in place (wgrad = wgrad + Σ, the same f32 add
//   as elementwise.wgsl's acc_add: the parameter's .grad, so no separate add;
//   src/autograd/leaf-grad.ts). With chunks = 0 (no rows) the sums are 0.

override WG: u32 = 256;
override HAS_WEIGHT: bool = false;
override HAS_BIAS: bool = false;
override ROWS: u32 = 64u;
override W_GRAD: u32 = 1u;
override B_GRAD: u32 = 1u;
override ACCUMULATE: bool = false;

struct Params {
  R: u32,
  D: u32,
  chunks: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read_write> part: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> wgrad: array<f32>;
@group(0) @binding(9) var<storage, read_write> bgrad: array<f32>;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;

fn w_of(d: u32) -> f32 {
  if (HAS_WEIGHT) { return weight[d]; }
  return 1.0;
}

fn b_of(d: u32) -> f32 {
  if (HAS_BIAS) { return bias[d]; }
  return 0.0;
}

// Tree-sums red_a and red_b (totals in element 0, visible to all threads).
fn tree_reduce(t: u32) {
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) {
      red_a[t] += red_a[t + s];
      red_b[t] += red_b[t + s];
    }
    workgroupBarrier();
  }
}

// out = (x − mean)·rstd·weight + bias; stats = (mean, rstd)
@compute @workgroup_size(WG)
fn ln_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.R) { return; }
  let t = lid.x;
  let base = row * p.D;
  var s = 0.0;
  for (var d = t; d < p.D; d += WG) { s += x[base + d]; }
  red_a[t] = s;
  red_b[t] = 0.0;
  tree_reduce(t);
  let mean = red_a[0] / f32(p.D);
  workgroupBarrier();
  var q = 0.0;
  for (var d = t; d < p.D; d += WG) {
    let v = x[base + d] - mean;
    q = fma(v, v, q);
  }
  red_a[t] = 0.0;
  red_b[t] = q;
  tree_reduce(t);
  let rstd = 1.0 / sqrt(red_b[0] / f32(p.D) + p.eps);
  for (var d = t; d < p.D; d += WG) {
    out[base + d] = (x[base + d] - mean) * rstd * w_of(d) + b_of(d);
  }
  if (t == 0u) {
    stats[row] = mean;
    stats[p.R + row] = rstd;
  }
}

// out = dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·weight
@compute @workgroup_size(WG)
fn ln_bwd_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.R) { return; }
  let t = lid.x;
  let base = row * p.D;
  let mean = stats[row];
  let rstd = stats[p.R + row];
  var sa = 0.0;
  var sb = 0.0;
  for (var d = t; d < p.D; d += WG) {
    let g = dy[base + d] * w_of(d);
    sa += g;
    sb = fma(g, (x[base + d] - mean) * rstd, sb);
  }
  red_a[t] = sa;
  red_b[t] = sb;
  tree_reduce(t);
  let ma = red_a[0] / f32(p.D);
  let mb = red_b[0] / f32(p.D);
  for (var d = t; d < p.D; d += WG) {
    let xhat = (x[base + d] - mean) * rstd;
    let v = rstd * (dy[base + d] * w_of(d) - ma - xhat * mb);
    if (ACCUMULATE) { out[base + d] = out[base + d] + v; } else { out[base + d] = v; }
  }
}

// part[chunk, d] = Σ dy·x̂, part[chunk, D + d] = Σ dy over the chunk's rows.
@compute @workgroup_size(WG)
fn ln_param_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let d = wid.x * WG + lid.x;
  let chunk = wid.y;
  if (d >= p.D) { return; }
  let r0 = chunk * ROWS;
  let r1 = min(r0 + ROWS, p.R);
  var sw = 0.0;
  var sb = 0.0;
  for (var r = r0; r < r1; r++) {
    let g = dy[r * p.D + d];
    sb += g;
    sw = fma(g, (x[r * p.D + d] - stats[r]) * stats[p.R + r], sw);
  }
  part[chunk * 2u * p.D + d] = sw;
  part[chunk * 2u * p.D + p.D + d] = sb;
}

// Σ_chunks part[chunk, i] for i < 2D: i < D to wgrad[i] (dweight), the rest
// to bgrad[i − D] (dbias), as W_GRAD / B_GRAD say.
@compute @workgroup_size(WG)
fn ln_param_final(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  // The engine folds a grid past the per-dimension limit into (x, y).
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= 2u * p.D) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.chunks; k++) { s += part[k * 2u * p.D + i]; }
  if (i < p.D) {
    if (W_GRAD == 2u) {
      wgrad[i] = wgrad[i] + s;
    } else if (W_GRAD == 1u) {
      wgrad[i] = s;
    }
  } else {
    let j = i - p.D;
    if (B_GRAD == 2u) {
      bgrad[j] = bgrad[j] + s;
    } else if (B_GRAD == 1u) {
      bgrad[j] = s;
    }
  }
}
