// Softmax and log-softmax along the last axis, forward and backward.
//
// Layout: x viewed as [rows, cols] row-major (the last axis is contiguous).
//
//   fwd:  y[r, c] = exp(x[r, c] − m_r) / s_r              (LOG = false)
//         y[r, c] = x[r, c] − m_r − log(s_r)                (LOG = true)
//         with m_r = max_c x[r, c] and s_r = Σ_c exp(x[r, c] − m_r), so no
//         exp overflows whatever the logits (stable for |x| ≫ 88).
//   bwd:  dx = y ⊙ (g − Σ_c g ⊙ y)                          (LOG = false)
//         dx = g − exp(y) ⊙ Σ_c g                           (LOG = true)
//         both from the saved forward output y only.
//
// (m, s) is computed in ONE pass over the row ("online softmax"): each
// thread keeps a running max and a sum rescaled whenever the max grows;
// two partial pairs combine as m = max(m1, m2), s = s1·e^(m1−m) + s2·e^(m2−m).
// So the forward reads x twice (reduce, then write y) and needs a single
// tree reduction; the backward reads (y, g) twice and writes dx once.
//
// Two launch shapes, chosen by the host from the row length:
//  *_wg:     one workgroup of WG threads per row (grid folded into x·y,
//            row = wid.x + wid.y·nwg.x); threads stride over the row, then
//            a log2(WG)-step tree reduction in workgroup memory. For long
//            rows; WG is an override constant (a power of two).
//  *_wg4:    as *_wg for rows whose length is a multiple of 4, reading and
//            writing vec4: on CPU adapters each load instruction is
//            scalarised per lane, so 4 floats per instruction cut the cost.
//  *_thread: one thread per row, a sequential loop over the row, no
//            workgroup memory and no barriers. For short rows (classes of a
//            classifier), where a workgroup per row would idle most threads
//            and barriers (coroutine switches on CPU adapters) dominate.

override WG: u32 = 64u;
override LOG: bool = false;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// The same buffers as vec4, for the *_wg4 entries (cols % 4 == 0).
@group(0) @binding(4) var<storage, read> x4: array<vec4f>;
@group(0) @binding(5) var<storage, read> g4: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> y4: array<vec4f>;

// Smallest finite f32: the (max, sum) identity; exp(−3.4e38 − m) is 0.
const NEG_BIG: f32 = -3.4028234e38;

var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;

// Combines two (max, rescaled sum) pairs.
fn combine(m1: f32, s1: f32, m2: f32, s2: f32) -> vec2f {
  let m = max(m1, m2);
  return vec2f(m, s1 * exp(m1 - m) + s2 * exp(m2 - m));
}

// Tree reduction of (red_m, red_s) over the workgroup; the result is in slot 0.
fn reduce_ms(t: u32) {
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h / 2u) {
    if (t < h) {
      let r = combine(red_m[t], red_s[t], red_m[t + h], red_s[t + h]);
      red_m[t] = r.x;
      red_s[t] = r.y;
    }
    workgroupBarrier();
  }
}

// Tree sum of red_s over the workgroup; the result is in slot 0.
fn reduce_s(t: u32) {
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h / 2u) {
    if (t < h) { red_s[t] += red_s[t + h]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn fwd_wg(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  // `row` is the same for the whole workgroup: a uniform early exit.
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
  reduce_ms(t);
  let rm = red_m[0];
  let rs = red_s[0];
  if (LOG) {
    let shift = rm + log(rs);
    for (var c = t; c < p.cols; c += WG) { y[base + c] = x[base + c] - shift; }
  } else {
    let inv = 1.0 / rs;
    for (var c = t; c < p.cols; c += WG) { y[base + c] = exp(x[base + c] - rm) * inv; }
  }
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
  if (LOG) {
    let shift = m + log(s);
    for (var c = 0u; c < p.cols; c++) { y[base + c] = x[base + c] - shift; }
  } else {
    let inv = 1.0 / s;
    for (var c = 0u; c < p.cols; c++) { y[base + c] = exp(x[base + c] - m) * inv; }
  }
}

// Backward: here x holds the saved forward output y, g the upstream gradient,
// and the result dx is written to y (the read-write binding).
@compute @workgroup_size(WG)
fn bwd_wg(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let t = lid.x;
  var d = 0.0;
  for (var c = t; c < p.cols; c += WG) {
    if (LOG) { d += g[base + c]; } else { d += g[base + c] * x[base + c]; }
  }
  red_s[t] = d;
  reduce_s(t);
  let dot = red_s[0];
  for (var c = t; c < p.cols; c += WG) {
    let i = base + c;
    if (LOG) { y[i] = g[i] - exp(x[i]) * dot; } else { y[i] = x[i] * (g[i] - dot); }
  }
}

@compute @workgroup_size(WG)
fn bwd_thread(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var dot = 0.0;
  for (var c = 0u; c < p.cols; c++) {
    if (LOG) { dot += g[base + c]; } else { dot += g[base + c] * x[base + c]; }
  }
  for (var c = 0u; c < p.cols; c++) {
    let i = base + c;
    if (LOG) { y[i] = g[i] - exp(x[i]) * dot; } else { y[i] = x[i] * (g[i] - dot); }
  }
}

@compute @workgroup_size(WG)
fn fwd_wg4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) { return; }
  let c4 = p.cols / 4u;
  let base = row * c4;
  let t = lid.x;
  var m = NEG_BIG;
  var s = 0.0;
  for (var c = t; c < c4; c += WG) {
    let v = x4[base + c];
    let mn = max(m, max(max(v.x, v.y), max(v.z, v.w)));
    let e = exp(v - mn);
    s = s * exp(m - mn) + (e.x + e.y) + (e.z + e.w);
    m = mn;
  }
  red_m[t] = m;
  red_s[t] = s;
  reduce_ms(t);
  let rm = red_m[0];
  let rs = red_s[0];
  if (LOG) {
    let shift = rm + log(rs);
    for (var c = t; c < c4; c += WG) { y4[base + c] = x4[base + c] - shift; }
  } else {
    let inv = 1.0 / rs;
    for (var c = t; c < c4; c += WG) { y4[base + c] = exp(x4[base + c] - rm) * inv; }
  }
}

// Backward on vec4 (x4 = saved output, g4 = upstream gradient, y4 = dx).
@compute @workgroup_size(WG)
fn bwd_wg4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) { return; }
  let c4 = p.cols / 4u;
  let base = row * c4;
  let t = lid.x;
  var d = vec4f(0.0);
  for (var c = t; c < c4; c += WG) {
    if (LOG) { d += g4[base + c]; } else { d += g4[base + c] * x4[base + c]; }
  }
  red_s[t] = (d.x + d.y) + (d.z + d.w);
  reduce_s(t);
  let dot = red_s[0];
  for (var c = t; c < c4; c += WG) {
    let i = base + c;
    if (LOG) { y4[i] = g4[i] - exp(x4[i]) * dot; } else { y4[i] = x4[i] * (g4[i] - dot); }
  }
}
