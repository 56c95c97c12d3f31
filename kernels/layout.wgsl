// Data movement without arithmetic.
//
// permute: out = x.permute(axes) for up to 8 dims, row-major. Each thread
//   writes one output element and gathers its source through the permuted
//   input strides (in_str[d] = stride of x along the axis that lands at output
//   dim d). Writes are contiguous; reads are strided, which is the cheaper
//   side to make irregular on both GPUs and CPU adapters.
//
// permute_v4: the same gather in vec4 units, for a permutation that keeps the
//   innermost axis in place and a last dimension that is a multiple of 4 (the
//   ViT's head split [B, L, H, dh] → [B, H, L, dh]): the host passes the
//   shapes and strides with the last dimension divided by 4, so each thread
//   decomposes its index once per four elements and moves one vec4. Same
//   values as permute, in the same places.

override WG: u32 = 256;

struct Params {
  n: u32,
  ndim: u32,
  out_shape_lo: vec4u,
  out_shape_hi: vec4u,
  in_str_lo: vec4u,
  in_str_hi: vec4u,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> x4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out4: array<vec4f>;

fn dim(v_lo: vec4u, v_hi: vec4u, d: u32) -> u32 {
  if (d < 4u) { return v_lo[d]; }
  return v_hi[d - 4u];
}

/** Where output element i (of p.n, row-major in out_shape) reads from. */
fn source(i: u32) -> u32 {
  var rem = i;
  var src = 0u;
  for (var k = 0u; k < p.ndim; k++) {
    let d = p.ndim - 1u - k;
    let s = dim(p.out_shape_lo, p.out_shape_hi, d);
    src += (rem % s) * dim(p.in_str_lo, p.in_str_hi, d);
    rem = rem / s;
  }
  return src;
}

@compute @workgroup_size(WG)
fn permute(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.n) { return; }
  out[i] = x[source(i)];
}

@compute @workgroup_size(WG)
fn permute_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.n) { return; }
  out4[i] = x4[source(i)];
}
