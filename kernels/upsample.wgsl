// Upsampling of NCHW (row-major) by an integer factor f: H×W planes become
// OH×OW = fH×fW planes. All entries: 1-D grid, one element per thread (WG
// threads per workgroup, more than 65535 workgroups folded into (x, y) and
// linearised as wid.x + wid.y·nwg.x).
//
// nearest_fwd:  out[oh, ow] = x[oh / f, ow / f]
// nearest_bwd:  dx[h, w] = Σ_{i, j < f} g[h·f + i, w·f + j]      (gather, one thread per input)
// bilinear_fwd: align_corners = False, PyTorch semantics: the source
//               coordinate of output o is max((o + 0.5)/f − 0.5, 0); i0 = ⌊src⌋,
//               i1 = min(i0 + 1, n − 1), λ = src − i0; out blends the 2×2
//               neighbours with (1 − λ, λ) per axis.
// bilinear_bwd: dx[h, w] = Σ g[oh, ow]·wh(oh, h)·ww(ow, w), where wh(oh, h) is
//               the weight output row oh gives input row h (both neighbour
//               weights when i0 = i1 = h at the edge). Only outputs
//               oh ∈ [(h − 1)f, (h + 2)f) can reach row h, so a gather with
//               ≤ 3f×3f terms; no atomics, deterministic.

override WG: u32 = 256;

struct Params {
  n: u32,
  H: u32,
  W: u32,
  f: u32,
  // 1/f as f32 (as PyTorch's scale)
  inv_f: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn index(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid.x;
}

// Source neighbours (i0, i1) and weight λ of i1 for output coordinate o along an axis of n inputs.
struct Src {
  i0: u32,
  i1: u32,
  lam: f32,
}

fn source(o: u32, n: u32) -> Src {
  let src = max((f32(o) + 0.5) * p.inv_f - 0.5, 0.0);
  let i0 = min(u32(floor(src)), n - 1u);
  let i1 = min(i0 + 1u, n - 1u);
  return Src(i0, i1, src - f32(i0));
}

// Weight that output coordinate o gives input coordinate i.
fn weight_of(o: u32, i: u32, n: u32) -> f32 {
  let s = source(o, n);
  return select(0.0, 1.0 - s.lam, s.i0 == i) + select(0.0, s.lam, s.i1 == i);
}

// n = planes·OH·OW
@compute @workgroup_size(WG)
fn nearest_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let OW = p.W * p.f;
  let ohw = p.H * p.f * OW;
  let plane = i / ohw;
  let o = i - plane * ohw;
  let oh = o / OW;
  let ow = o - oh * OW;
  out[i] = x[plane * p.H * p.W + (oh / p.f) * p.W + ow / p.f];
}

// n = planes·H·W
@compute @workgroup_size(WG)
fn nearest_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let hw = p.H * p.W;
  let plane = i / hw;
  let j = i - plane * hw;
  let h = j / p.W;
  let w = j - h * p.W;
  let OW = p.W * p.f;
  let base = plane * hw * p.f * p.f + h * p.f * OW + w * p.f;
  var acc = 0.0;
  for (var a = 0u; a < p.f; a++) {
    for (var b = 0u; b < p.f; b++) { acc += g[base + a * OW + b]; }
  }
  out[i] = acc;
}

// n = planes·OH·OW
@compute @workgroup_size(WG)
fn bilinear_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let OW = p.W * p.f;
  let ohw = p.H * p.f * OW;
  let plane = i / ohw;
  let o = i - plane * ohw;
  let oh = o / OW;
  let ow = o - oh * OW;
  let sh = source(oh, p.H);
  let sw = source(ow, p.W);
  let base = plane * p.H * p.W;
  let r0 = base + sh.i0 * p.W;
  let r1 = base + sh.i1 * p.W;
  let top = (1.0 - sw.lam) * x[r0 + sw.i0] + sw.lam * x[r0 + sw.i1];
  let bot = (1.0 - sw.lam) * x[r1 + sw.i0] + sw.lam * x[r1 + sw.i1];
  out[i] = (1.0 - sh.lam) * top + sh.lam * bot;
}

// n = planes·H·W
@compute @workgroup_size(WG)
fn bilinear_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let hw = p.H * p.W;
  let plane = i / hw;
  let j = i - plane * hw;
  let h = j / p.W;
  let w = j - h * p.W;
  let OH = p.H * p.f;
  let OW = p.W * p.f;
  let oh0 = select(0u, (h - 1u) * p.f, h > 0u);
  let oh1 = min((h + 2u) * p.f, OH);
  let ow0 = select(0u, (w - 1u) * p.f, w > 0u);
  let ow1 = min((w + 2u) * p.f, OW);
  let gbase = plane * OH * OW;
  var acc = 0.0;
  for (var oh = oh0; oh < oh1; oh++) {
    let wh = weight_of(oh, h, p.H);
    if (wh == 0.0) { continue; }
    var row = 0.0;
    for (var ow = ow0; ow < ow1; ow++) {
      row += weight_of(ow, w, p.W) * g[gbase + oh * OW + ow];
    }
    acc += wh * row;
  }
  out[i] = acc;
}
