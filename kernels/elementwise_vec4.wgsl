// Same-shape elementwise kernels on vec4: the fast path of elementwise.wgsl.
//
// Each entry computes what its namesake in elementwise.wgsl computes, with
// the same operations in the same order on each component, so the results
// are bit-identical (test/ops/elementwise-vec4.test.ts checks this). The host
// (src/ops/elementwise.ts) runs an entry here over the first ⌊n/4⌋ vec4s and
// the scalar entry over the 1–3 elements left, if any.
//
//   add_same:     out = alpha·a + beta·b
//   mul_same:     out = a·b
//   relu_fwd:     out = a where a ≥ 0 (or NaN), else 0 — a select, so NaN stays NaN
//   relu_bwd:     out = b where a > 0, else 0        (a = y, b = dy)
//   add_relu:     out = relu(alpha·a + beta·b)
//   affine:       out = alpha·a + beta
//   acc_add:      out += alpha·a (in place)
//
// Layout: flat f32 arrays read as array<vec4f>; `n4` counts vec4s. Every
// bound tensor starts at a multiple of 4 floats (bindings sit at 256-byte
// offsets), so vec4 i is elements 4i..4i+3 of each tensor.
//
// Grid: 1-D, WG threads per workgroup, VPT vec4s per thread, numbered from
// the workgroup's first vec4 w·WG·VPT (w = wid.x + wid.y·nwg.x: the host
// folds more than 65535 workgroups into (x, y)). Thread t takes
//   CONTIGUOUS (CPU adapters): vec4s t·VPT + k — with VPT 4 one 64-byte
//     cache line per lane per array (lavapipe: 24 % less CPU than VPT 1);
//   otherwise (GPUs): vec4s t + k·WG — each load instruction of a warp reads
//     one contiguous span (coalesced).
// The host picks both (src/ops/memory-bound.ts).
//
// Why vec4: on lavapipe every storage load or store whose address differs
// per lane is one instruction per lane whatever its width, so a vec4 moves 4×
// the data per instruction; on GPUs 16-byte accesses per lane coalesce as
// well as 4-byte ones and cut the instruction count by 4.

override WG: u32 = 256;
override VPT: u32 = 1;
override CONTIGUOUS: bool = false;

struct Params {
  n4: u32,
  alpha: f32,
  beta: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;

// Index of this thread's k-th vec4.
fn item(wid: vec3u, nwg: vec3u, lid: vec3u, k: u32) -> u32 {
  let first = (wid.x + wid.y * nwg.x) * WG * VPT;
  if (CONTIGUOUS) { return first + lid.x * VPT + k; }
  return first + lid.x + k * WG;
}

@compute @workgroup_size(WG)
fn add_same(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) { out[i] = p.alpha * a[i] + p.beta * b[i]; }
  }
}

@compute @workgroup_size(WG)
fn mul_same(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) { out[i] = a[i] * b[i]; }
  }
}

@compute @workgroup_size(WG)
fn relu_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) {
      let v = a[i];
      out[i] = select(v, vec4f(0.0), v < vec4f(0.0));
    }
  }
}

@compute @workgroup_size(WG)
fn relu_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) { out[i] = select(vec4f(0.0), b[i], a[i] > vec4f(0.0)); }
  }
}

@compute @workgroup_size(WG)
fn add_relu(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) {
      let v = p.alpha * a[i] + p.beta * b[i];
      out[i] = select(v, vec4f(0.0), v < vec4f(0.0));
    }
  }
}

@compute @workgroup_size(WG)
fn affine(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) { out[i] = p.alpha * a[i] + p.beta; }
  }
}

@compute @workgroup_size(WG)
fn acc_add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var k = 0u; k < VPT; k++) {
    let i = item(wid, nwg, lid, k);
    if (i < p.n4) { out[i] = out[i] + p.alpha * a[i]; }
  }
}
