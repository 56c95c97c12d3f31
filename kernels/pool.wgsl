// Pooling over NCHW (row-major). A "plane" is one (n, c) image of H×W;
// outputs are planes of OH×OW. All entries: 1-D grid, one output element
// per thread (WG threads per workgroup; the host folds more than 65535
// workgroups into (x, y), linearised as wid.x + wid.y·nwg.x).
//
// gap_fwd:      out[plane] = mean of x's plane (one thread per plane: used for
//               small planes, ≤ 64 elements; larger ones go through
//               reduce.wgsl's sum_rows, one workgroup per plane).
// gap_bwd:      dx[plane, i] = g[plane] / HW.
// maxpool_fwd:  out = max over the k×k window at (oh·s − pad, ow·s − pad),
//               padding never wins (it is −∞ in PyTorch); idx = h·W + w of
//               the first maximum in row-major window order (PyTorch's choice).
// maxpool_bwd:  dx[h, w] = Σ g[oh, ow] over the windows containing (h, w)
//               whose idx is h·W + w. A gather (one thread per input element)
//               instead of a scatter: overlapping windows (s < k) would need
//               float atomics, which WGSL lacks; this is also deterministic.
// avgpool_fwd:  out = mean over the k×k window (no padding).
// avgpool_bwd:  dx[h, w] = Σ g[oh, ow] / k² over the windows containing (h, w).

override WG: u32 = 256;

struct Params {
  n: u32,
  H: u32,
  W: u32,
  OH: u32,
  OW: u32,
  k: u32,
  s: u32,
  pad: u32,
  inv: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> idx_in: array<i32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> idx: array<i32>;

fn index(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid.x;
}

// n = planes; HW = H·W
@compute @workgroup_size(WG)
fn gap_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let hw = p.H * p.W;
  var s = 0.0;
  for (var j = 0u; j < hw; j++) { s += x[i * hw + j]; }
  out[i] = s * p.inv;
}

// n = planes·H·W
@compute @workgroup_size(WG)
fn gap_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = g[i / (p.H * p.W)] * p.inv;
}

// n = planes·OH·OW
@compute @workgroup_size(WG)
fn maxpool_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let ohw = p.OH * p.OW;
  let plane = i / ohw;
  let o = i - plane * ohw;
  let oh = o / p.OW;
  let ow = o - oh * p.OW;
  let h0 = i32(oh * p.s) - i32(p.pad);
  let w0 = i32(ow * p.s) - i32(p.pad);
  let hs = max(h0, 0);
  let ws = max(w0, 0);
  let he = min(h0 + i32(p.k), i32(p.H));
  let we = min(w0 + i32(p.k), i32(p.W));
  let base = plane * p.H * p.W;
  var best_i = hs * i32(p.W) + ws;
  var best = x[base + u32(best_i)];
  for (var h = hs; h < he; h++) {
    for (var w = ws; w < we; w++) {
      let j = h * i32(p.W) + w;
      let v = x[base + u32(j)];
      if (v > best) {
        best = v;
        best_i = j;
      }
    }
  }
  out[i] = best;
  idx[i] = best_i;
}

// Output rows (or columns) whose window [o·s − pad, o·s − pad + k) contains h.
fn window_range(h: u32, n_out: u32) -> vec2i {
  let hp = i32(h + p.pad);
  let lo = max((hp - i32(p.k) + i32(p.s)) / i32(p.s), 0);
  let hi = min(hp / i32(p.s) + 1, i32(n_out));
  // (hp − k + s)/s rounds toward zero; for hp − k + 1 ≥ 0 this is ceil((hp − k + 1)/s),
  // otherwise lo is clamped to 0 anyway.
  return vec2i(lo, hi);
}

// n = planes·H·W; g is [planes, OH, OW], idx_in the forward's argmax
@compute @workgroup_size(WG)
fn maxpool_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let hw = p.H * p.W;
  let plane = i / hw;
  let j = i - plane * hw;
  let h = j / p.W;
  let w = j - h * p.W;
  let rh = window_range(h, p.OH);
  let rw = window_range(w, p.OW);
  let obase = plane * p.OH * p.OW;
  var acc = 0.0;
  for (var oh = rh.x; oh < rh.y; oh++) {
    for (var ow = rw.x; ow < rw.y; ow++) {
      let o = obase + u32(oh) * p.OW + u32(ow);
      if (idx_in[o] == i32(j)) { acc += g[o]; }
    }
  }
  out[i] = acc;
}

// n = planes·OH·OW; inv = 1/k²
@compute @workgroup_size(WG)
fn avgpool_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let ohw = p.OH * p.OW;
  let plane = i / ohw;
  let o = i - plane * ohw;
  let oh = o / p.OW;
  let ow = o - oh * p.OW;
  let base = plane * p.H * p.W + oh * p.s * p.W + ow * p.s;
  var s = 0.0;
  for (var h = 0u; h < p.k; h++) {
    for (var w = 0u; w < p.k; w++) { s += x[base + h * p.W + w]; }
  }
  out[i] = s * p.inv;
}

// n = planes·H·W; inv = 1/k²
@compute @workgroup_size(WG)
fn avgpool_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let hw = p.H * p.W;
  let plane = i / hw;
  let j = i - plane * hw;
  let h = j / p.W;
  let w = j - h * p.W;
  let rh = window_range(h, p.OH);
  let rw = window_range(w, p.OW);
  let obase = plane * p.OH * p.OW;
  var acc = 0.0;
  for (var oh = rh.x; oh < rh.y; oh++) {
    for (var ow = rw.x; ow < rw.y; ow++) { acc += g[obase + u32(oh) * p.OW + u32(ow)]; }
  }
  out[i] = acc * p.inv;
}
