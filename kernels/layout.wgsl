// Data movement without arithmetic.
//
// permute: out = x.permute(axes) for up to 8 dims, row-major. Each thread
//   writes one output element and gathers its source through the permuted
//   input strides (in_str[d] = stride of x along the axis that lands at output
//   dim d). Writes are contiguous; reads are strided, which is the cheaper
//   side to make irregular on both GPUs and CPU adapters.

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

fn dim(v_lo: vec4u, v_hi: vec4u, d: u32) -> u32 {
  if (d < 4u) { return v_lo[d]; }
  return v_hi[d - 4u];
}

@compute @workgroup_size(WG)
fn permute(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.n) { return; }
  var rem = i;
  var src = 0u;
  for (var k = 0u; k < p.ndim; k++) {
    let d = p.ndim - 1u - k;
    let s = dim(p.out_shape_lo, p.out_shape_hi, d);
    src += (rem % s) * dim(p.in_str_lo, p.in_str_hi, d);
    rem = rem / s;
  }
  out[i] = x[src];
}
