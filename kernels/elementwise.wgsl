// Elementwise kernels over flat f32 arrays, one element per thread: the
// scalar forms. The host runs the same-shape entries on vec4 first
// (elementwise_vec4.wgsl computes the same thing, bit for bit) and these
// only over what a vec4 pass leaves; broadcasts of rank ≤ 3 after collapsing
// go to broadcast.wgsl; `fill` is used directly by other ops.
//
// Layout: any; the kernels see flat arrays of `n` elements. The binary ops
// `add`/`mul` have a same-shape form (`*_same`) and the general broadcasting
// form (`*_bcast`) that maps each output index to the inputs through
// per-dimension strides (stride 0 on a broadcast dimension, up to 8 dims).
//
// Grid: 1-D, WG threads per workgroup, each thread handles one element.
// The host folds more than 65535 workgroups into (x, y); the linear
// workgroup index is wid.x + wid.y * nwg.x. Thread k handles element
// base + k: the host runs the same-shape entries on vec4 first
// (elementwise_vec4.wgsl, bit-identical) and these over the 1–3 elements
// left, from base = 4·⌊n/4⌋; base is 0 otherwise.

override WG: u32 = 256;

struct Params {
  n: u32,
  base: u32,
  ndim: u32,
  alpha: f32,
  beta: f32,
  // Output shape and input strides for broadcasting, dims 0..3 and 4..7.
  shape_lo: vec4u,
  shape_hi: vec4u,
  a_str_lo: vec4u,
  a_str_hi: vec4u,
  b_str_lo: vec4u,
  b_str_hi: vec4u,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn index(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return p.base + (wid.x + wid.y * nwg.x) * WG + lid.x;
}

fn dim(v_lo: vec4u, v_hi: vec4u, d: u32) -> u32 {
  if (d < 4u) { return v_lo[d]; }
  return v_hi[d - 4u];
}

// Offsets into a and b of output element i under broadcasting.
fn bcast_offsets(i: u32) -> vec2u {
  var rem = i;
  var oa = 0u;
  var ob = 0u;
  for (var k = 0u; k < p.ndim; k++) {
    let d = p.ndim - 1u - k;
    let s = dim(p.shape_lo, p.shape_hi, d);
    let c = rem % s;
    rem = rem / s;
    oa += c * dim(p.a_str_lo, p.a_str_hi, d);
    ob += c * dim(p.b_str_lo, p.b_str_hi, d);
  }
  return vec2u(oa, ob);
}

// out = alpha * a + beta * b (same shapes)
@compute @workgroup_size(WG)
fn add_same(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = p.alpha * a[i] + p.beta * b[i];
}

// out = alpha * a + beta * b (broadcast)
@compute @workgroup_size(WG)
fn add_bcast(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let o = bcast_offsets(i);
  out[i] = p.alpha * a[o.x] + p.beta * b[o.y];
}

// out = a * b (same shapes)
@compute @workgroup_size(WG)
fn mul_same(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = a[i] * b[i];
}

// out = a * b (broadcast)
@compute @workgroup_size(WG)
fn mul_bcast(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let o = bcast_offsets(i);
  out[i] = a[o.x] * b[o.y];
}

// out = max(a, 0), written as a select so a NaN input stays NaN (as in
// PyTorch): WGSL's max() may return the other operand for NaN, which would
// hide a diverged run behind finite losses.
@compute @workgroup_size(WG)
fn relu_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = select(a[i], 0.0, a[i] < 0.0);
}

// out = dy * (y > 0), with a = y (the forward output), b = dy
@compute @workgroup_size(WG)
fn relu_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = select(0.0, b[i], a[i] > 0.0);
}

// out = relu(alpha * a + beta * b) (same shapes): add_same then relu_fwd in one pass.
@compute @workgroup_size(WG)
fn add_relu(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let v = p.alpha * a[i] + p.beta * b[i];
  out[i] = select(v, 0.0, v < 0.0);
}

// out = alpha * a + beta (scale and shift; also copies with alpha=1, beta=0)
@compute @workgroup_size(WG)
fn affine(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = p.alpha * a[i] + p.beta;
}

// out = alpha (fill)
@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = p.alpha;
}

// out += alpha * a (in-place accumulation, e.g. gradients into a parameter's .grad)
@compute @workgroup_size(WG)
fn acc_add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = out[i] + p.alpha * a[i];
}
