// Fused log-softmax + cross-entropy, plain and mixed (two labels per sample).
//
// Layout: logits x [N, C] row-major; labels la, lb: i32 [N]; per-sample
// mixing weights lamv: f32 [N] (or the scalar p.lam when LAM_PER_SAMPLE is
// false).
//
// fwd_*: one pass per row computes the log-sum-exp with the online
//   (max, rescaled sum) recurrence of softmax.wgsl, then
//     lse[n]  = m_n + log(s_n)                               (saved for bwd)
//     loss[n] = lse[n] − x[n, la[n]]                          (MIXED = false)
//     loss[n] = λ_n·(lse[n] − x[n, la[n]]) + (1 − λ_n)·(lse[n] − x[n, lb[n]])
//   The host then averages loss[] over the batch (reduce.wgsl sum_rows).
// bwd: one thread per logit (1-D grid, folded into x·y):
//     dx[n, c] = g·scale·(exp(x[n, c] − lse[n]) − λ_n·[c = la[n]] − (1 − λ_n)·[c = lb[n]])
//   with g the upstream scalar gradient and scale = 1/N (the mean).
//
// Labels are not checked on the host (that would need a GPU read-back). A
// label outside [0, C) is never used as an index: the row's loss (and so the
// batch mean) and the row's gradient are written as NaN, so the error shows
// up in the loss instead of reading another row's logit or out of bounds.
//
// Launch shapes for the forward, chosen by the host from C like softmax:
//   fwd_wg: a workgroup of WG threads per row (long rows), tree reduction in
//           workgroup memory; fwd_thread: one thread per row (short rows).

override WG: u32 = 64u;
override MIXED: bool = false;
override LAM_PER_SAMPLE: bool = false;

struct Params {
  rows: u32,
  cols: u32,
  lam: f32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> la: array<i32>;
@group(0) @binding(3) var<storage, read> lb: array<i32>;
@group(0) @binding(4) var<storage, read> lamv: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse_out: array<f32>;
@group(0) @binding(7) var<storage, read> lse: array<f32>;
@group(0) @binding(8) var<storage, read> g: array<f32>;
@group(0) @binding(9) var<storage, read_write> dx: array<f32>;

const NEG_BIG: f32 = -3.4028234e38;

var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;

// A quiet NaN built at run time (a constant NaN is not a valid WGSL constant).
fn nan() -> f32 {
  return bitcast<f32>(0x7fc00000u | (p.rows & 0u));
}

fn label_ok(l: i32) -> bool {
  return l >= 0 && u32(l) < p.cols;
}

fn mix_weight(row: u32) -> f32 {
  if (LAM_PER_SAMPLE) { return lamv[row]; }
  return p.lam;
}

// Writes loss[row] and lse_out[row] from the row's (max, sum).
fn finish_row(row: u32, m: f32, s: f32) {
  let base = row * p.cols;
  let l = m + log(s);
  lse_out[row] = l;
  let ya = la[row];
  // Clamped index: never out of bounds; the result is replaced by NaN anyway.
  var v = l - x[base + u32(clamp(ya, 0, i32(p.cols) - 1))];
  var ok = label_ok(ya);
  if (MIXED) {
    let yb = lb[row];
    let lam = mix_weight(row);
    v = lam * v + (1.0 - lam) * (l - x[base + u32(clamp(yb, 0, i32(p.cols) - 1))]);
    ok = ok && label_ok(yb);
  }
  loss[row] = select(nan(), v, ok);
}

fn combine(m1: f32, s1: f32, m2: f32, s2: f32) -> vec2f {
  let m = max(m1, m2);
  return vec2f(m, s1 * exp(m1 - m) + s2 * exp(m2 - m));
}

@compute @workgroup_size(WG)
fn fwd_wg(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let t = lid.x;
  var m = NEG_BIG;
  var s = 0.0;
  for (var c = t; c < p.cols; c += WG) {
    let v = x[base + c];
    let mn = max(m, v);
    s = s * exp(m - mn) + exp(v - mn);
    m = mn;
  }
  red_m[t] = m;
  red_s[t] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h / 2u) {
    if (t < h) {
      let r = combine(red_m[t], red_s[t], red_m[t + h], red_s[t + h]);
      red_m[t] = r.x;
      red_s[t] = r.y;
    }
    workgroupBarrier();
  }
  if (t == 0u) { finish_row(row, red_m[0], red_s[0]); }
}

@compute @workgroup_size(WG)
fn fwd_thread(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var m = NEG_BIG;
  var s = 0.0;
  for (var c = 0u; c < p.cols; c++) {
    let v = x[base + c];
    let mn = max(m, v);
    s = s * exp(m - mn) + exp(v - mn);
    m = mn;
  }
  finish_row(row, m, s);
}

@compute @workgroup_size(WG)
fn bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.rows * p.cols) { return; }
  let row = i / p.cols;
  let c = i - row * p.cols;
  let ya = la[row];
  var d = exp(x[i] - lse[row]);
  var ok = label_ok(ya);
  if (MIXED) {
    let yb = lb[row];
    let lam = mix_weight(row);
    d -= select(0.0, lam, i32(c) == ya) + select(0.0, 1.0 - lam, i32(c) == yb);
    ok = ok && label_ok(yb);
  } else {
    d -= select(0.0, 1.0, i32(c) == ya);
  }
  dx[i] = select(nan(), g[0] * p.scale * d, ok);
}
