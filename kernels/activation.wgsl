// Pointwise activations and their gradients over flat f32 arrays.
//
//   gelu_fwd:    out = x·Φ(x) = 0.5·x·(1 + erf(x/√2))        (PyTorch's default, erf form)
//   gelu_bwd:    out = dy·(Φ(x) + x·φ(x)),  φ(x) = exp(−x²/2)/√(2π);  a = x, b = dy
//   sigmoid_fwd: out = 1/(1 + exp(−x)), evaluated as e/(1 + e) with e = exp(−|x|)
//                for x < 0 so exp never overflows
//   sigmoid_bwd: out = dy·y·(1 − y) from the forward output;  a = y, b = dy
//
// Layout: any (flat arrays of n elements). Grid: 1-D, WG threads per
// workgroup, one element per thread; the host folds more than 65535
// workgroups into (x, y) and the kernels linearise wid.x + wid.y·nwg.x.
//
// erf: WGSL has none. |x| < 0.8: Maclaurin series to x¹⁷ (truncation < 3e-9,
// and relative accuracy near 0, where 1 − (…) would cancel); otherwise
// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7 in exact arithmetic). Measured
// in f32 on lavapipe against f64 erf over [−6, 6] step 1e-5: see
// docs/kernels/norms-pooling.md.

override WG: u32 = 256;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn index(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid.x;
}

fn erf_approx(x: f32) -> f32 {
  let z = abs(x);
  // Small |x|: 2/√π·Σₙ₌₀..₈ (−1)ⁿ x^(2n+1)/(n!(2n+1)), truncation < 3e-9 for |x| < 0.8
  let x2 = x * x;
  var q = 1.0 / 685440.0;
  q = fma(q, x2, -1.0 / 75600.0);
  q = fma(q, x2, 1.0 / 9360.0);
  q = fma(q, x2, -1.0 / 1320.0);
  q = fma(q, x2, 1.0 / 216.0);
  q = fma(q, x2, -1.0 / 42.0);
  q = fma(q, x2, 0.1);
  q = fma(q, x2, -1.0 / 3.0);
  q = fma(q, x2, 1.0);
  let series = 1.1283791670955126 * x * q;
  // Large |x|: A&S 7.1.26
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  let tail = sign(x) * (1.0 - poly * exp(-z * z));
  return select(tail, series, z < 0.8);
}

@compute @workgroup_size(WG)
fn gelu_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let v = a[i];
  out[i] = 0.5 * v * (1.0 + erf_approx(v * 0.7071067811865476));
}

@compute @workgroup_size(WG)
fn gelu_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let v = a[i];
  let cdf = 0.5 * (1.0 + erf_approx(v * 0.7071067811865476));
  let pdf = 0.3989422804014327 * exp(-0.5 * v * v);
  out[i] = b[i] * (cdf + v * pdf);
}

@compute @workgroup_size(WG)
fn sigmoid_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let v = a[i];
  let e = exp(-abs(v));
  out[i] = select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

@compute @workgroup_size(WG)
fn sigmoid_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let y = a[i];
  out[i] = b[i] * y * (1.0 - y);
}
