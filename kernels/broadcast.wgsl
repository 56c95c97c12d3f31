// Broadcasting add and mul over an output collapsed to rank 3.
//
//   binary_bc, binary_bc_v4: out = alpha·a' + beta·b'  (override MUL false: add, axpby)
//                            out = a'·b'                (MUL true)
// where a', b' are a and b broadcast to the output's shape. The arithmetic is
// that of elementwise.wgsl's add_bcast / mul_bcast, so the results are
// bit-identical to theirs; only the indexing differs.
//
// Layout: the host (src/ops/broadcast.ts) drops the output's size-1
// dimensions and merges neighbours that each input either spans or
// broadcasts alike. The common broadcasts collapse to rank ≤ 3, [d0, d1, d2]:
//   per-channel bias [C, 1, 1] over [N, C, H, W]: [N, C, H·W], b strides (0, 1, 0)
//   a row vector [D] over [M, D]:                 [1, M, D],   b strides (0, 0, 1)
//   [N, 1, …] over [N, …]:                        [1, N, rest], b strides (0, 1, 0)
//   a scalar over anything:                       [1, 1, n],   b strides (0, 0, 0)
// Output element (i0, i1, i2), row-major, reads a[i0·as.x + i1·as.y +
// i2·as.z] and b likewise (stride 0 on a broadcast dimension). Higher ranks
// take elementwise.wgsl's general path.
//
// Coordinates: a thread computes its first item's (i0, i1, i2) with a
// division by d2 and one by d1 (uniform divisors, but still one division per
// lane on lavapipe); on CPU adapters (CONTIGUOUS) its next VPT − 1 items are
// the following ones, reached by counting i2 up with carries, so divisions
// are paid once per 4 vec4s. The general path pays a division and a modulo
// per dimension per element and reads the shape through a dynamically
// indexed vector.
//
// binary_bc_v4 (d2 % 4 == 0): each item is 4 neighbouring outputs
// along the innermost axis, written as one vec4. An input that spans that
// axis (override A_VEC / B_VEC true: stride 1) is read as one vec4 through
// its vec4 view (a4 / b4; its row offsets are multiples of d2, hence of 4);
// one that is broadcast along it (stride 0) is read as one scalar and
// splatted. The host binds the scalar view of each input and the vec4 view
// of those read as vec4 (read-only aliases of one buffer); an unread one
// gets a placeholder.
//
// Grid: 1-D, WG threads per workgroup, VPT items per thread (outputs in
// binary_bc, vec4s of outputs in binary_bc_v4), numbered from the
// workgroup's first item w·WG·VPT (w = wid.x + wid.y·nwg.x: the host folds
// more than 65535 workgroups into (x, y)). Thread t takes items t·VPT + k
// (CONTIGUOUS, CPU adapters) or t + k·WG (GPUs: coalesced), as in
// elementwise_vec4.wgsl.

override WG: u32 = 256;
override VPT: u32 = 1;
override CONTIGUOUS: bool = false;
override A_VEC: bool = true;
override B_VEC: bool = true;
override MUL: bool = false;

struct Params {
  // Items (outputs, or output vec4s in the _v4 entries), and the output's
  // dims d1 and d2 (in the _v4 entries d2 counts vec4s). d0 is implied.
  n: u32,
  d1: u32,
  d2: u32,
  alpha: f32,
  beta: f32,
  // Element strides of a and b along (d0, d1, d2); w unused.
  a_str: vec4u,
  b_str: vec4u,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> a4: array<vec4f>;
@group(0) @binding(4) var<storage, read> b4: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> out4: array<vec4f>;

// Index of this thread's k-th item.
fn item(wid: vec3u, nwg: vec3u, lid: vec3u, k: u32) -> u32 {
  let first = (wid.x + wid.y * nwg.x) * WG * VPT;
  if (CONTIGUOUS) { return first + lid.x * VPT + k; }
  return first + lid.x + k * WG;
}

// (i0, i1, i2) of item o.
fn coords(o: u32) -> vec3u {
  let row = o / p.d2;
  return vec3u(row / p.d1, row % p.d1, o % p.d2);
}

// The coordinates of this thread's k-th item, given those of its (k−1)-th.
fn advance(c: vec3u, o: u32) -> vec3u {
  if (!CONTIGUOUS) { return coords(o); }
  var n = c;
  n.z += 1u;
  if (n.z == p.d2) {
    n.z = 0u;
    n.y += 1u;
    if (n.y == p.d1) {
      n.y = 0u;
      n.x += 1u;
    }
  }
  return n;
}

// Element offsets into a (x) and b (y) of the outputs at c; `width` outputs per item.
fn offsets(c: vec3u, width: u32) -> vec2u {
  let e = vec3u(c.x, c.y, c.z * width);
  return vec2u(dot(e, p.a_str.xyz), dot(e, p.b_str.xyz));
}

fn load_a4(off: u32) -> vec4f {
  if (A_VEC) { return a4[off / 4u]; }
  return vec4f(a[off]);
}

fn load_b4(off: u32) -> vec4f {
  if (B_VEC) { return b4[off / 4u]; }
  return vec4f(b[off]);
}

// The one line in which add and mul differ (a compile-time branch).
fn combine(x: f32, y: f32) -> f32 {
  if (MUL) { return x * y; }
  return p.alpha * x + p.beta * y;
}

fn combine4(x: vec4f, y: vec4f) -> vec4f {
  if (MUL) { return x * y; }
  return p.alpha * x + p.beta * y;
}

@compute @workgroup_size(WG)
fn binary_bc(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var o = item(wid, nwg, lid, 0u);
  var c = coords(o);
  for (var k = 0u; k < VPT; k++) {
    if (k > 0u) {
      o = item(wid, nwg, lid, k);
      c = advance(c, o);
    }
    if (o < p.n) {
      let off = offsets(c, 1u);
      out[o] = combine(a[off.x], b[off.y]);
    }
  }
}

@compute @workgroup_size(WG)
fn binary_bc_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var o = item(wid, nwg, lid, 0u);
  var c = coords(o);
  for (var k = 0u; k < VPT; k++) {
    if (k > 0u) {
      o = item(wid, nwg, lid, k);
      c = advance(c, o);
    }
    if (o < p.n) {
      let off = offsets(c, 4u);
      out4[o] = combine4(load_a4(off.x), load_b4(off.y));
    }
  }
}
