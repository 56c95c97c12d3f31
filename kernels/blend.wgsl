// Batch mixing: x[π] and the blends Mixup, CutMix, FMix and the Mix Block's
// masked blend, forward and backward.
//
// Every op here is one "blend" of a sample with its partner:
//
//   out[n, c, s] = a(n, s) · x[n, c, s] + b(n, s) · x[π[n], c, s]
//
// with x viewed as [N, C, S] (NCHW: S = H·W; C = 1 and S = the rest for
// gather and mixup) and the coefficients chosen by the MODE override:
//
//   MODE 0  gather      a = 0,             b = 1            (x[π], π may be any length M)
//   MODE 1  mixup       a = λ,             b = 1 − λ
//   MODE 2  box         a = 1 − inside,    b = inside       (CutMix: inside the box [y0,y1)×[x0,x1))
//   MODE 3  shared mask a = mask[s],       b = 1 − mask[s]  (FMix: one [H, W] mask for the batch)
//   MODE 4  sample mask a = 1 − m[n, s],   b = m[n, s]      (Mix Block: m_b of shape [N, 1, H, W])
//
// Gradient to x (blend_bwd_x): x[n'] receives its own term a·G[n'] and the
// partner terms b·G[m] of every m with π[m] = n'. The partner sum is a
// scatter-add; to keep it deterministic (no float atomics) it is written as a
// gather over an inverse-permutation list (perm_csr): offsets[n'] ..
// offsets[n'+1] index the m's with π[m] = n', in increasing m. Repeated
// indices in π accumulate.
//
// Gradient to the coefficients (blend_bwd_coef): t[n, s] = Σ_c (x[π[n]] − x[n])·G
// is ∂L/∂m_b for MODE 4; −Σ_n t is ∂L/∂mask for MODE 3 (the host reduces).
//
// Values of π outside [0, N) contribute nothing (forward reads 0 for the
// partner, backward skips them): the host cannot check them without a readback.
//
// Where λ and the box come from (FROM_TENSOR override, one pipeline each):
//
//   FROM_TENSOR 0  λ = p.lam, box = p.box (the host validated the box).
//   FROM_TENSOR 1  λ = coef[0] (MODE 1: coef, unused by mixup otherwise, is
//                  bound to a one-element f32 tensor), box = box_in[0..4]
//                  (MODE 2: an i32 tensor [y0, x0, y1, x1]); p.lam and p.box
//                  are then 0 and unused.
//
// FROM_TENSOR 1 exists for captured-and-replayed steps: a replay re-issues the
// recorded uniform bytes, so a value that changes every step (λ, the box) must
// live in a buffer the host rewrites, not in Params. The box gets its own i32
// binding (box_in) rather than sharing coef: reading integers through an f32
// binding would need a bitcast of subnormal bit patterns, which a device may
// flush. blend_fwd and blend_bwd_x use box_in statically, so the host binds
// it in every mode (to a placeholder when no box tensor is given), as it does
// coef. The arithmetic is the same for both sources, so the results are
// bit-for-bit equal for the same f32 λ / the same box.
//
// The box is clamped in the kernel, whatever its source: y0, y1 into [0, H]
// and x0, x1 into [0, W] (H = S / W). A box tensor cannot be checked by the
// host without a readback; clamped, a bad one can only select coefficients,
// never index out of bounds (y0 ≥ y1 or x0 ≥ x1 is an empty box).
//
// Grid: one thread per output element, 1-D, folded into (x, y) past 65535
// workgroups. All of these are memory-bound; the loads are contiguous across
// lanes except x[π[n]], whose row is uniform across a workgroup in the common
// case (C·S ≥ WG).

override WG: u32 = 256;
override MODE: u32 = 0u;
// 1: read λ / the box from coef / box_in instead of p.lam / p.box (see above).
override FROM_TENSOR: u32 = 0u;

struct Params {
  // rows of the output / of G (perm length M)
  rows: u32,
  // rows of x (N)
  nx: u32,
  C: u32,
  S: u32,
  // image width, for the box test
  W: u32,
  // λ, when FROM_TENSOR is 0
  lam: f32,
  // CutMix box: y0, x0, y1, x1 (half-open), when FROM_TENSOR is 0
  box: vec4u,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> perm: array<i32>;
@group(0) @binding(3) var<storage, read> coef: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read> csr: array<i32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read_write> csr_out: array<i32>;
// The CutMix box [y0, x0, y1, x1] when FROM_TENSOR is 1 (MODE 2).
@group(0) @binding(8) var<storage, read> box_in: array<i32>;

fn linear(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid.x;
}

// Mixup's λ, from Params or from the tensor bound to coef.
fn mix_lam() -> f32 {
  if (FROM_TENSOR != 0u) { return coef[0]; }
  return p.lam;
}

// CutMix's box (y0, x0, y1, x1), from Params or box_in, clamped into the
// H×W image. Only called in MODE 2, where W > 0.
fn mix_box() -> vec4u {
  let h = p.S / p.W;
  let hi = vec4u(h, p.W, h, p.W);
  if (FROM_TENSOR != 0u) {
    let b = vec4i(box_in[0], box_in[1], box_in[2], box_in[3]);
    return min(vec4u(max(b, vec4i(0))), hi);
  }
  return min(p.box, hi);
}

// (a, b) at sample n, spatial position s.
fn coefs(n: u32, s: u32) -> vec2f {
  switch MODE {
    case 0u: { return vec2f(0.0, 1.0); }
    case 1u: { let lam = mix_lam(); return vec2f(lam, 1.0 - lam); }
    case 2u: {
      let bx = mix_box();
      let yy = s / p.W;
      let xx = s % p.W;
      let inside = yy >= bx.x && yy < bx.z && xx >= bx.y && xx < bx.w;
      return select(vec2f(1.0, 0.0), vec2f(0.0, 1.0), inside);
    }
    case 3u: { let m = coef[s]; return vec2f(m, 1.0 - m); }
    default: { let m = coef[n * p.S + s]; return vec2f(1.0 - m, m); }
  }
}

// Inverse permutation as a list: csr_out[0..nx] are offsets (nx + 1 values),
// csr_out[nx + 1 + t] the sources m, grouped by target π[m], each group in
// increasing m. One invocation: N is a batch size (≤ a few thousand).
@compute @workgroup_size(1)
fn perm_csr() {
  let base = p.nx + 1u;
  for (var n = 0u; n <= p.nx; n++) { csr_out[n] = 0; }
  for (var m = 0u; m < p.rows; m++) {
    let t = perm[m];
    if (t >= 0 && u32(t) < p.nx) { csr_out[u32(t) + 1u] += 1; }
  }
  for (var n = 0u; n < p.nx; n++) { csr_out[n + 1u] += csr_out[n]; }
  // Fill each group; csr_out[n] is used as a cursor, then restored.
  for (var m = 0u; m < p.rows; m++) {
    let t = perm[m];
    if (t >= 0 && u32(t) < p.nx) {
      let at = csr_out[u32(t)];
      csr_out[base + u32(at)] = i32(m);
      csr_out[u32(t)] = at + 1;
    }
  }
  // The cursors now hold the ends of the groups, i.e. the next group's start.
  for (var k = 0u; k < p.nx; k++) {
    let n = p.nx - 1u - k;
    csr_out[n + 1u] = csr_out[n];
  }
  csr_out[0] = 0;
}

// out[n, c, s] = a·x[n, c, s] + b·x[π[n], c, s]; out has p.rows rows.
@compute @workgroup_size(WG)
fn blend_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = linear(wid, nwg, lid);
  let row = p.C * p.S;
  if (i >= p.rows * row) { return; }
  let n = i / row;
  let e = i % row;
  let s = e % p.S;
  let ab = coefs(n, s);
  var v = 0.0;
  if (MODE != 0u) { v = ab.x * x[i]; }
  let t = perm[n];
  if (t >= 0 && u32(t) < p.nx) { v += ab.y * x[u32(t) * row + e]; }
  out[i] = v;
}

// dx[n, c, s] = a(n, s)·G[n, c, s] + Σ_{m: π[m] = n} b(m, s)·G[m, c, s]; out has p.nx rows.
@compute @workgroup_size(WG)
fn blend_bwd_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = linear(wid, nwg, lid);
  let row = p.C * p.S;
  if (i >= p.nx * row) { return; }
  let n = i / row;
  let e = i % row;
  let s = e % p.S;
  var v = 0.0;
  if (MODE != 0u) { v = coefs(n, s).x * g[i]; }
  let base = p.nx + 1u;
  let t1 = u32(csr[n + 1u]);
  for (var t = u32(csr[n]); t < t1; t++) {
    let m = u32(csr[base + t]);
    v += coefs(m, s).y * g[m * row + e];
  }
  out[i] = v;
}

// t[n, s] = Σ_c (x[π[n], c, s] − x[n, c, s]) · G[n, c, s]
@compute @workgroup_size(WG)
fn blend_bwd_coef(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = linear(wid, nwg, lid);
  if (i >= p.rows * p.S) { return; }
  let n = i / p.S;
  let s = i % p.S;
  let row = p.C * p.S;
  let t = perm[n];
  let valid = t >= 0 && u32(t) < p.nx;
  let pbase = select(0u, u32(t) * row, valid);
  var acc = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let o = n * row + c * p.S + s;
    let partner = select(0.0, x[pbase + c * p.S + s], valid);
    acc += (partner - x[o]) * g[o];
  }
  out[i] = acc;
}
