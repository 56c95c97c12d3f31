// Pointwise activations and their gradients over flat f32 arrays.
//
//   gelu_fwd:    out = x·Φ(x) = 0.5·x·(1 + erf(x/√2))        (PyTorch's default, erf form)
//   gelu_bwd:    out = dy·(Φ(x) + x·φ(x)),  φ(x) = exp(−x²/2)/√(2π);  a = x, b = dy
//   sigmoid_fwd: out = 1/(1 + exp(−x)), evaluated as e/(1 + e) with e = exp(−|x|)
//                for x < 0 so exp never overflows
//   sigmoid_bwd: out = dy·y·(1 − y) from the forward output;  a = y, b = dy
//
// Layout: any (flat arrays of n elements).
//
// Each op is one function on vec4f (gelu4, gelu_grad4, sigmoid4,
// sigmoid_grad4) and two entries call it:
//   *_v4: flat arrays read as array<vec4f> (a4, b4, out4; n4 vec4s), VPT
//     vec4s per thread — consecutive on CPU adapters (CONTIGUOUS), WG apart
//     on GPUs — as in elementwise_vec4.wgsl (src/ops/memory-bound.ts);
//   the scalar entries: one element per thread from element `base`, run by
//     the host over the 1–3 elements a vec4 pass leaves (or all of a tensor
//     of fewer than 4); each widens its element to a vec4f and keeps .x.
// One function for both makes the two bit-identical by construction: every
// component goes through the same operations.
//
// Grid: 1-D, WG threads per workgroup; the host folds more than 65535
// workgroups into (x, y) and the kernels linearise wid.x + wid.y·nwg.x.
//
// erf: WGSL has none. |x| < 0.8: Maclaurin series to x¹⁷ (truncation < 3e-9,
// and relative accuracy near 0, where 1 − (…) would cancel); otherwise
// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7 in exact arithmetic). Measured
// in f32 on lavapipe against f64 erf over [−6, 6] step 1e-5: see
// docs/kernels/norms-pooling.md.

override WG: u32 = 256;
override VPT: u32 = 1;
override CONTIGUOUS: bool = false;

struct Params {
  n: u32,
  base: u32,
  n4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> a4: array<vec4f>;
@group(0) @binding(5) var<storage, read> b4: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> out4: array<vec4f>;

// The scalar entries' element.
fn index(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return p.base + (wid.x + wid.y * nwg.x) * WG + lid.x;
}

// The _v4 entries' k-th vec4 of this thread.
fn item(wid: vec3u, nwg: vec3u, lid: vec3u, k: u32) -> u32 {
  let first = (wid.x + wid.y * nwg.x) * WG * VPT;
  if (CONTIGUOUS) { return first + lid.x * VPT + k; }
  return first + lid.x + k * WG;
}

fn erf_approx(x: vec4f) -> vec4f {
  let z = abs(x);
  // Small |x|: 2/√π·Σₙ₌₀..₈ (−1)ⁿ x^(2n+1)/(n!(2n+1)), truncation < 3e-9 for |x| < 0.8
  let x2 = x * x;
  var q = vec4f(1.0 / 685440.0);
  q = fma(q, x2, vec4f(-1.0 / 75600.0));
  q = fma(q, x2, vec4f(1.0 / 9360.0));
  q = fma(q, x2, vec4f(-1.0 / 1320.0));
  q = fma(q, x2, vec4f(1.0 / 216.0));
  q = fma(q, x2, vec4f(-1.0 / 42.0));
  q = fma(q, x2, vec4f(0.1));
  q = fma(q, x2, vec4f(-1.0 / 3.0));
  q = fma(q, x2, vec4f(1.0));
  let series = 1.1283791670955126 * x * q;
  // Large |x|: A&S 7.1.26
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  let tail = sign(x) * (1.0 - poly * exp(-z * z));
  return select(tail, series, z < vec4f(0.8));
}

// x·Φ(x)
fn gelu4(v: vec4f) -> vec4f {
  return 0.5 * v * (1.0 + erf_approx(v * 0.7071067811865476));
}

// dy·(Φ(x) + x·φ(x))
fn gelu_grad4(v: vec4f, dy: vec4f) -> vec4f {
  let cdf = 0.5 * (1.0 + erf_approx(v * 0.7071067811865476));
  let pdf = 0.3989422804014327 * exp(-0.5 * v * v);
  return dy * (cdf + v * pdf);
}

// 1/(1 + exp(−x)), as e/(1 + e) with e = exp(−|x|) for x < 0
fn sigmoid4(v: vec4f) -> vec4f {
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= vec4f(0.0));
}

// dy·y·(1 − y)
fn sigmoid_grad4(y: vec4f, dy: vec4f) -> vec4f {
  return dy * y * (1.0 - y);
}

@compute @workgroup_size(WG)
fn gelu_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = gelu4(vec4f(a[i])).x;
}

@compute @workgroup_size(WG)
fn gelu_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = gelu_grad4(vec4f(a[i]), vec4f(b[i])).x;
}

@compute @workgroup_size(WG)
fn sigmoid_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = sigmoid4(vec4f(a[i])).x;
}

@compute @workgroup_size(WG)
fn sigmoid_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = sigmoid_grad4(vec4f(a[i]), vec4f(b[i])).x;
}

@compute @workgroup_size(WG)
fn gelu_fwd_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) { out4[i] = gelu4(a4[i]); }
  }
}

@compute @workgroup_size(WG)
fn gelu_bwd_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) { out4[i] = gelu_grad4(a4[i], b4[i]); }
  }
}

@compute @workgroup_size(WG)
fn sigmoid_fwd_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) { out4[i] = sigmoid4(a4[i]); }
  }
}

@compute @workgroup_size(WG)
fn sigmoid_bwd_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) { out4[i] = sigmoid_grad4(a4[i], b4[i]); }
  }
}
