// Sum reductions.
//
// The host (src/ops/reduce.ts) drops size-1 dimensions and merges
// neighbouring dimensions that are both reduced or both kept, then picks:
//
// sum_split, sum_split_v4: x as [outer, mid, inner], reducing outer and inner:
//   out[k] = alpha·Σ_{r0 < outer, r1 < inner} x[r0, k, r1]. Full sums
//   (outer = mid = 1), long rows ([mid, inner]) and per-channel sums of NCHW
//   ([N, C, H·W]); in _v4 inner counts vec4s. Output k's [outer, inner] block
//   is cut into splits = splits_outer × splits_inner tiles of chunk_outer ×
//   chunk_inner; workgroup g = k·splits + s sums tile s and writes alpha·Σ to
//   out[g]. With splits > 1 the host passes alpha = 1 and sums each output's
//   partials with this kernel again ([mid, splits], one tile each). Inside a
//   tile the WG threads form 2^tc_shift columns × the rest rows: thread
//   (rr, cc) sums rows rr, rr + rows, … and in each the elements cc,
//   cc + cols, … — plain nested loops (a flattened index stepped by a
//   carry measured 2× slower on lavapipe), and a tile row narrower than WG
//   still keeps every thread busy. Then a tree over the workgroup.
//
// sum_cols, sum_cols_v4: x as [outer, mid, inner], reducing mid:
//   out[s, k0, k1] = alpha·Σ_{r ∈ chunk s} x[k0, r, k1]. Column sums
//   ([mid, inner], e.g. a bias gradient) and [N, L, D] → [N, D]. One thread
//   per output (per 4 neighbouring outputs along inner in _v4, where inner
//   counts vec4s), looping over its chunk of `chunk` rows: neighbouring
//   threads read neighbouring columns (coalesced on GPUs). With splits > 1
//   the rows are cut into `splits` chunks so that there are enough threads;
//   the host sums the [splits, outer·inner] partials with this kernel again.
//
// sum_short_rows_v4: x as [mid, inner] with short rows (inner counts vec4s):
//   out[k] = alpha·Σ_r x[k, r], one thread per row — a workgroup per row
//   would leave most of its threads idle (e.g. global average pooling over
//   4×4 maps). Short rows that are not vec4s take sum_cols (inner = 1).
//
// sum_to_shape: any other reduction (x of rank ≤ 8, `red` = 1 on reduced
//   dimensions): one thread per output, looping over the reduced elements,
//   each located by a division and a modulo per dimension.
//
// Order of summation: each thread accumulates its elements in order (in
// _v4 one running sum per component, added as (x + y) + (z + w)), then the
// tree adds pairs. So the rounding differs from a sequential f64 sum by about
// √(terms)·eps·Σ|x| at most, and is fixed for a given shape (replays repeat
// it bit for bit).
//
// ACCUMULATE (override): every entry adds its results into out (out4)
//   instead of writing them — out[k] = out[k] + alpha·Σ, the same f32 add as
//   elementwise.wgsl's acc_add with alpha 1 — so a parameter's gradient (a
//   bias's, a shared matmul operand's) lands in its .grad in the pass that
//   finishes it, without a separate acc_add (src/autograd/leaf-grad.ts). The
//   host sets it only on the final pass of a reduction, never on partials.
//
// Grid: 1-D, folded into (x, y) by the host above 65535 workgroups; the
// linear workgroup index is wid.x + wid.y·nwg.x. WG threads per workgroup
// (override); the tree takes log2(WG) barriers, so WG is a power of 2.

override WG: u32 = 256;
override ACCUMULATE: bool = false;

struct Params {
  outer: u32,
  mid: u32,
  inner: u32,
  splits: u32,
  alpha: f32,
  // sum_split: the tiles (above); sum_cols: rows per chunk.
  splits_inner: u32,
  chunk_outer: u32,
  chunk_inner: u32,
  tc_shift: u32,
  chunk: u32,
  // sum_to_shape: outputs, reduced elements per output, rank, x's shape and
  // 1 where a dimension is reduced.
  rows: u32,
  cols: u32,
  ndim: u32,
  shape_lo: vec4u,
  shape_hi: vec4u,
  red_lo: vec4u,
  red_hi: vec4u,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> out4: array<vec4f>;

var<workgroup> partial: array<f32, WG>;

// Sums `partial` over the workgroup into partial[0].
fn tree(t: u32) {
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
}

fn hsum(v: vec4f) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

// The final write of output k: out[k] = v, or out[k] + v with ACCUMULATE.
fn put(k: u32, v: f32) {
  if (ACCUMULATE) {
    out[k] = out[k] + v;
  } else {
    out[k] = v;
  }
}

fn put4(k: u32, v: vec4f) {
  if (ACCUMULATE) {
    out4[k] = out4[k] + v;
  } else {
    out4[k] = v;
  }
}

// The rectangle of output k's [outer, inner] block that thread lid of
// workgroup g sums, as (first row, end row, row step, first col, end col,
// col step); k = g / splits.
fn tile(g: u32, lid: u32) -> array<u32, 6> {
  let s = g % p.splits;
  let so = s / p.splits_inner;
  let si = s % p.splits_inner;
  let cols = 1u << p.tc_shift;
  let r_begin = so * p.chunk_outer + (lid >> p.tc_shift);
  let c_begin = si * p.chunk_inner + (lid & (cols - 1u));
  let r_end = min(p.outer, (so + 1u) * p.chunk_outer);
  let c_end = min(p.inner, (si + 1u) * p.chunk_inner);
  return array<u32, 6>(r_begin, r_end, WG >> p.tc_shift, c_begin, c_end, cols);
}

@compute @workgroup_size(WG)
fn sum_split(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  // g is the same for the whole workgroup, so this exit is uniform.
  if (g >= p.mid * p.splits) { return; }
  let k = g / p.splits;
  let t = tile(g, lid.x);
  var acc = 0.0;
  for (var r0 = t[0]; r0 < t[1]; r0 += t[2]) {
    let row = (r0 * p.mid + k) * p.inner;
    for (var r1 = t[3]; r1 < t[4]; r1 += t[5]) {
      acc += x[row + r1];
    }
  }
  partial[lid.x] = acc;
  tree(lid.x);
  if (lid.x == 0u) { put(g, p.alpha * partial[0]); }
}

@compute @workgroup_size(WG)
fn sum_split_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.mid * p.splits) { return; }
  let k = g / p.splits;
  let t = tile(g, lid.x);
  var acc = vec4f(0.0);
  for (var r0 = t[0]; r0 < t[1]; r0 += t[2]) {
    let row = (r0 * p.mid + k) * p.inner;
    for (var r1 = t[3]; r1 < t[4]; r1 += t[5]) {
      acc += x4[row + r1];
    }
  }
  partial[lid.x] = hsum(acc);
  tree(lid.x);
  if (lid.x == 0u) { put(g, p.alpha * partial[0]); }
}

@compute @workgroup_size(WG)
fn sum_cols(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let o = (wid.x + wid.y * nwg.x) * WG + lid.x;
  let per_split = p.outer * p.inner;
  if (o >= per_split * p.splits) { return; }
  let s = o / per_split;
  let q = o % per_split;
  let k0 = q / p.inner;
  let k1 = q % p.inner;
  let r_end = min(p.mid, (s + 1u) * p.chunk);
  var acc = 0.0;
  for (var r = s * p.chunk; r < r_end; r++) {
    acc += x[(k0 * p.mid + r) * p.inner + k1];
  }
  put(o, p.alpha * acc);
}

@compute @workgroup_size(WG)
fn sum_cols_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let o = (wid.x + wid.y * nwg.x) * WG + lid.x;
  let per_split = p.outer * p.inner;
  if (o >= per_split * p.splits) { return; }
  let s = o / per_split;
  let q = o % per_split;
  let k0 = q / p.inner;
  let k1 = q % p.inner;
  let r_end = min(p.mid, (s + 1u) * p.chunk);
  var acc = vec4f(0.0);
  for (var r = s * p.chunk; r < r_end; r++) {
    acc += x4[(k0 * p.mid + r) * p.inner + k1];
  }
  put4(o, p.alpha * acc);
}

@compute @workgroup_size(WG)
fn sum_short_rows_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (k >= p.mid) { return; }
  var acc = vec4f(0.0);
  for (var r = 0u; r < p.inner; r++) {
    acc += x4[k * p.inner + r];
  }
  put(k, p.alpha * hsum(acc));
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
  put(o, p.alpha * acc);
}
