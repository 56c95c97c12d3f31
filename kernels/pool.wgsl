// Pooling over NCHW (row-major). A "plane" is one (n, c) image of H×W;
// outputs are planes of OH×OW.
//
// General entries (any window, stride, padding; the reference behaviour):
// 1-D grid, one element per thread (WG threads per workgroup; the host folds
// more than 65535 workgroups into (x, y), linearised as wid.x + wid.y·nwg.x).
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
//
// 2×2 stride-2 entries without padding, W % 8 == 0 (the *_k2v4 entries; the
// host picks them when they apply). Each item is 4 neighbouring outputs of
// one output row, stored as one vec4 (its index is the item's index: outputs
// are written contiguously), computed from two vec4 loads of each of its two
// input rows (8 contiguous inputs per row). Windows do not overlap, so the
// backward entries write each input exactly once from the item whose window
// holds it (no gather over windows); when H is odd the items of the last
// output row also write the uncovered input row's zeros. The per-output
// arithmetic is that of the general entries, in the same order (the window
// scanned row-major with a strict >; the sum 0 + e00 + e01 + e10 + e11; a
// gradient 0 + g), so results are bit-identical to theirs.
// Work per thread as in elementwise_vec4.wgsl (src/ops/memory-bound.ts): VPT
// items, consecutive on CPU adapters (CONTIGUOUS: one item's coordinates
// cost two divisions, the next ones count up with carries) or WG apart on
// GPUs (coalesced: neighbouring lanes read neighbouring 32-byte spans).

override WG: u32 = 256;
override VPT: u32 = 1;
override CONTIGUOUS: bool = false;

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
// vec4 views for the *_k2v4 entries (n counts items of 4 outputs there).
@group(0) @binding(6) var<storage, read> x4: array<vec4f>;
@group(0) @binding(7) var<storage, read> g4: array<vec4f>;
@group(0) @binding(8) var<storage, read> idx_in4: array<vec4i>;
@group(0) @binding(9) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> idx4: array<vec4i>;

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

// ---- 2×2 stride-2 entries (W % 8 == 0, no padding) ----

// An item: 4 outputs (ow = 4c … 4c + 3) of output row oh of a plane; i is its
// index, which is also the index of its vec4 of outputs.
struct Item {
  i: u32,
  c: u32,
  oh: u32,
  plane: u32,
}

// Index of this thread's k-th item.
fn item_index(wid: vec3u, nwg: vec3u, lid: vec3u, k: u32) -> u32 {
  let first = (wid.x + wid.y * nwg.x) * WG * VPT;
  if (CONTIGUOUS) { return first + lid.x * VPT + k; }
  return first + lid.x + k * WG;
}

// The thread's k-th item given its (k − 1)-th, t: two divisions for the
// first (or every one, strided), a carry for the next consecutive ones.
fn k2_item(wid: vec3u, nwg: vec3u, lid: vec3u, k: u32, t: Item) -> Item {
  let ow4 = p.OW >> 2u;
  if (CONTIGUOUS && k > 0u) {
    var u = Item(t.i + 1u, t.c + 1u, t.oh, t.plane);
    if (u.c == ow4) {
      u.c = 0u;
      u.oh += 1u;
      if (u.oh == p.OH) {
        u.oh = 0u;
        u.plane += 1u;
      }
    }
    return u;
  }
  let i = item_index(wid, nwg, lid, k);
  let row = i / ow4;
  let plane = row / p.OH;
  return Item(i, i - row * ow4, row - plane * p.OH, plane);
}

// First vec4 of the item's top input row (the second is next to it, the
// bottom row's W/4 further).
fn k2_in(t: Item) -> u32 {
  return (t.plane * p.H + 2u * t.oh) * (p.W >> 2u) + 2u * t.c;
}

// n = items = planes·OH·OW/4
@compute @workgroup_size(WG)
fn maxpool_fwd_k2v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var t = Item(0u, 0u, 0u, 0u);
  for (var k = 0u; k < VPT; k++) {
    t = k2_item(wid, nwg, lid, k, t);
    if (t.i >= p.n) { return; }
    let j = k2_in(t);
    let w4 = p.W >> 2u;
    let a = x4[j];
    let b = x4[j + 1u];
    let c = x4[j + w4];
    let d = x4[j + w4 + 1u];
    // The window's elements in row-major order, one lane per output.
    let e01 = vec4f(a.y, a.w, b.y, b.w);
    let e10 = vec4f(c.x, c.z, d.x, d.z);
    let e11 = vec4f(c.y, c.w, d.y, d.w);
    var best = vec4f(a.x, a.z, b.x, b.z);
    let i00 = vec4i(i32(2u * t.oh * p.W + 8u * t.c)) + vec4i(0, 2, 4, 6);
    let W = i32(p.W);
    var bi = i00;
    var m = e01 > best;
    best = select(best, e01, m);
    bi = select(bi, i00 + 1, m);
    m = e10 > best;
    best = select(best, e10, m);
    bi = select(bi, i00 + W, m);
    m = e11 > best;
    best = select(best, e11, m);
    bi = select(bi, i00 + W + 1, m);
    out4[t.i] = best;
    idx4[t.i] = bi;
  }
}

// n = items of g (planes·OH·OW/4); out4 is dx, [planes, H, W]
@compute @workgroup_size(WG)
fn maxpool_bwd_k2v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var t = Item(0u, 0u, 0u, 0u);
  for (var k = 0u; k < VPT; k++) {
    t = k2_item(wid, nwg, lid, k, t);
    if (t.i >= p.n) { return; }
    let j = k2_in(t);
    let w4 = p.W >> 2u;
    let z = vec4f(0.0);
    // dx is the gather's 0 + g where the saved argmax is this input, +0
    // elsewhere. 0 + g is written as a select (g, but +0 where g == 0; a
    // NaN compares unequal and stays): lavapipe folds a literal 0 + g to g,
    // which would keep a −0 that the gather's sum turns into +0.
    let g0 = g4[t.i];
    let gv = select(g0, z, g0 == z);
    let id = idx_in4[t.i];
    // Input (h, w) has index h·W + w.
    let top = i32(2u * t.oh * p.W + 8u * t.c) + vec4i(0, 1, 2, 3);
    let bot = top + i32(p.W);
    let g_lo = gv.xxyy;
    let g_hi = gv.zzww;
    let id_lo = id.xxyy;
    let id_hi = id.zzww;
    out4[j] = select(z, g_lo, id_lo == top);
    out4[j + 1u] = select(z, g_hi, id_hi == top + 4);
    out4[j + w4] = select(z, g_lo, id_lo == bot);
    out4[j + w4 + 1u] = select(z, g_hi, id_hi == bot + 4);
    if (t.oh + 1u == p.OH && 2u * p.OH < p.H) {
      out4[j + 2u * w4] = z;
      out4[j + 2u * w4 + 1u] = z;
    }
  }
}

// n = items = planes·OH·OW/4; inv = 1/4
@compute @workgroup_size(WG)
fn avgpool_fwd_k2v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var t = Item(0u, 0u, 0u, 0u);
  for (var k = 0u; k < VPT; k++) {
    t = k2_item(wid, nwg, lid, k, t);
    if (t.i >= p.n) { return; }
    let j = k2_in(t);
    let w4 = p.W >> 2u;
    let a = x4[j];
    let b = x4[j + 1u];
    let c = x4[j + w4];
    let d = x4[j + w4 + 1u];
    var s = vec4f(0.0);
    s += vec4f(a.x, a.z, b.x, b.z);
    s += vec4f(a.y, a.w, b.y, b.w);
    s += vec4f(c.x, c.z, d.x, d.z);
    s += vec4f(c.y, c.w, d.y, d.w);
    out4[t.i] = s * p.inv;
  }
}

// n = items of g (planes·OH·OW/4); out4 is dx; inv = 1/4
@compute @workgroup_size(WG)
fn avgpool_bwd_k2v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var t = Item(0u, 0u, 0u, 0u);
  for (var k = 0u; k < VPT; k++) {
    t = k2_item(wid, nwg, lid, k, t);
    if (t.i >= p.n) { return; }
    let j = k2_in(t);
    let w4 = p.W >> 2u;
    // (0 + g)·inv, as the gather's single-window sum; 0 + g as in
    // maxpool_bwd_k2v4 (g, but +0 for ±0).
    let z = vec4f(0.0);
    let g0 = g4[t.i];
    let v = select(g0, z, g0 == z) * p.inv;
    out4[j] = v.xxyy;
    out4[j + 1u] = v.zzww;
    out4[j + w4] = v.xxyy;
    out4[j + w4 + 1u] = v.zzww;
    if (t.oh + 1u == p.OH && 2u * p.OH < p.H) {
      out4[j + 2u * w4] = vec4f(0.0);
      out4[j + 2u * w4 + 1u] = vec4f(0.0);
    }
  }
}
