// Mask spread: how far a batch of masks is from uniform.
//
// m is [N, S] (a mask [N, 1, H, W] with S = H·W positions per mask).
//
// mask_std: one workgroup per mask n (grid folded into x·y). Two passes over
//   the row, each a strided per-thread sum and a tree reduction in workgroup
//   memory: the mean μ_n, then Σ_s (m[n, s] − μ_n)². std[n] = sqrt(that / S),
//   the population standard deviation. Subtracting the mean before squaring
//   keeps f32 exact enough for near-uniform masks (no E[x²] − E[x]²
//   cancellation).
//
// mask_spread: one workgroup reads the N standard deviations and writes
//   out = [mean_n std[n], min_n std[n], max_n std[n]].
//
// Nothing here changes from call to call but the buffers' contents: Params
// holds only the shape, so a captured step replays it as recorded.

override WG: u32 = 256;

struct Params {
  n: u32,
  s: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> acc: array<f32, WG>;
var<workgroup> lo: array<f32, WG>;
var<workgroup> hi: array<f32, WG>;

fn tree_sum(lid: u32) {
  for (var k = WG / 2u; k > 0u; k = k / 2u) {
    if (lid < k) { acc[lid] += acc[lid + k]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn mask_std(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  // Uniform per workgroup: every thread of it has the same row.
  if (row >= p.n) { return; }
  let lid = lid3.x;
  let base = row * p.s;
  var t = 0.0;
  for (var j = lid; j < p.s; j += WG) { t += m[base + j]; }
  acc[lid] = t;
  workgroupBarrier();
  tree_sum(lid);
  let mu = acc[0] / f32(p.s);
  workgroupBarrier(); // everyone has read acc[0] before it is overwritten
  var q = 0.0;
  for (var j = lid; j < p.s; j += WG) {
    let d = m[base + j] - mu;
    q += d * d;
  }
  acc[lid] = q;
  workgroupBarrier();
  tree_sum(lid);
  if (lid == 0u) { out[row] = sqrt(acc[0] / f32(p.s)); }
}

@compute @workgroup_size(WG)
fn mask_spread(@builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  var t = 0.0;
  var a = 3.0e38;
  var b = -3.0e38;
  for (var j = lid; j < p.n; j += WG) {
    let v = m[j];
    t += v;
    a = min(a, v);
    b = max(b, v);
  }
  acc[lid] = t;
  lo[lid] = a;
  hi[lid] = b;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k / 2u) {
    if (lid < k) {
      acc[lid] += acc[lid + k];
      lo[lid] = min(lo[lid], lo[lid + k]);
      hi[lid] = max(hi[lid], hi[lid + k]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[0] = acc[0] / f32(p.n);
    out[1] = lo[0];
    out[2] = hi[0];
  }
}
