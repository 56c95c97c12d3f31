// Sum reductions.
//
// sum_rows: x viewed as [rows, cols] row-major; out[r] = alpha * Σ_c x[r, c].
//   One workgroup per row (grid folded into x·y): WG threads stride over the
//   row, then a tree reduction in workgroup memory. For a full sum the host
//   first views x as [rows, CHUNK] partial rows, then sums the partials.
//
// sum_to_shape: reverses broadcasting. x has shape S (ndim ≤ 8); out has the
//   same rank with some dimensions 1. out[o] = Σ over the reduced dimensions
//   of x. One thread per output element, looping over the reduced elements:
//   used for gradients of broadcast operands, where few outputs each sum many.

override WG: u32 = 256;

struct Params {
  rows: u32,
  cols: u32,
  alpha: f32,
  ndim: u32,
  // sum_to_shape: x's shape, x's strides, and 1 where a dimension is reduced.
  shape_lo: vec4u,
  shape_hi: vec4u,
  red_lo: vec4u,
  red_hi: vec4u,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn sum_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  // All threads of a workgroup share `row`, so this early exit is uniform.
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var acc = 0.0;
  for (var c = lid.x; c < p.cols; c += WG) {
    acc += x[base + c];
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) { partial[lid.x] += partial[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[row] = p.alpha * partial[0]; }
}

fn dim(v_lo: vec4u, v_hi: vec4u, d: u32) -> u32 {
  if (d < 4u) { return v_lo[d]; }
  return v_hi[d - 4u];
}

@compute @workgroup_size(WG)
fn sum_to_shape(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let o = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (o >= p.rows) { return; }
  // Coordinates of o in the kept dimensions -> base offset into x.
  var rem = o;
  var base = 0u;
  var stride = 1u;
  var strides: array<u32, 8>;
  for (var k = 0u; k < p.ndim; k++) {
    let d = p.ndim - 1u - k;
    strides[d] = stride;
    stride *= dim(p.shape_lo, p.shape_hi, d);
  }
  for (var k = 0u; k < p.ndim; k++) {
    let d = p.ndim - 1u - k;
    if (dim(p.red_lo, p.red_hi, d) == 0u) {
      let s = dim(p.shape_lo, p.shape_hi, d);
      base += (rem % s) * strides[d];
      rem = rem / s;
    }
  }
  // Walk all combinations of the reduced coordinates (p.cols of them).
  var acc = 0.0;
  for (var r = 0u; r < p.cols; r++) {
    var rr = r;
    var off = base;
    for (var k = 0u; k < p.ndim; k++) {
      let d = p.ndim - 1u - k;
      if (dim(p.red_lo, p.red_hi, d) == 1u) {
        let s = dim(p.shape_lo, p.shape_hi, d);
        off += (rr % s) * strides[d];
        rr = rr / s;
      }
    }
    acc += x[off];
  }
  out[o] = p.alpha * acc;
}

// sum_tail: out[0] = Σ x[rows .. rows + cols) — the ragged end of a long
// vector whose full CHUNK-sized rows went through sum_rows. One workgroup.
@compute @workgroup_size(WG)
fn sum_tail(@builtin(local_invocation_id) lid: vec3u) {
  var acc = 0.0;
  for (var c = lid.x; c < p.cols; c += WG) {
    acc += x[p.rows + c];
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) { partial[lid.x] += partial[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[0] = p.alpha * partial[0]; }
}
