// Batch normalisation (BatchNorm2d) forward and backward.
//
// Layout: x, out, dy are NCHW row-major. Channel c owns the L = N·H·W
// elements x[n, c, hw] at address (n·C + c)·HW + hw. Per-channel vectors
// (weight, bias, running_mean, running_var) are [C]; `stats` starts with a
// [3, C] header (row 0: mean, row 1: 1/sqrt(var + eps), row 2: the weight,
// 1 without one — eval mode fills rows 0 and 1 only) and in training mode
// holds the forward's per-chunk partials [C, chunks, 2] from `part_base`
// (= 3C) on; `gsum` is [2, C] (row 0: Σ dy, row 1: Σ dy·x̂); the backward's
// `part` holds its per-chunk partials [C, chunks, 2].
//
// Work split of every per-element entry (bn_*_partial, bn_apply,
// bn_grad_input_*): grid = (chunks, C). Workgroup (k, c) covers chunk k of
// channel c, so per-channel coefficients are uniform loads. Two ways to walk
// a chunk, chosen by the host through the ROW_MODE override:
//   ROW_MODE (HW ≥ WG): the chunk is `chunk` whole images n ∈ [k·chunk, …);
//     for each, thread t takes hw = t, t + WG, … — addresses are a uniform
//     base + lane index, which CPU adapters (lavapipe) turn into vector
//     loads/stores (2× faster there than the walker on 32×32 planes).
//   walker (HW < WG): the chunk is `chunk` consecutive elements j of the
//     channel; thread t takes j = k·chunk + t + i·WG and steps its (n, hw)
//     by (WG / HW, WG % HW) with one compare — no integer division per
//     element (CPU adapters scalarise vector division), and no idle lanes on
//     small planes (4×4, 8×8) where ROW_MODE would leave most lanes empty.
// A chunk unit is one element (walker) or one image of HW elements
// (ROW_MODE): `units` = L or N, `unit` = 1 or HW.
//
// Reductions are two-stage: a *_partial entry reduces one chunk per
// workgroup (per-thread accumulation, then a tree in workgroup memory), a
// *_final entry (one thread per channel) combines the chunks. The host picks
// the chunk (~4096 elements) so large channels split into many workgroups
// (parallelism on GPUs) while small ones stay in one. Forward statistics are
// numerically careful: each chunk accumulates Σ(x − K) and Σ(x − K)² about a
// shift K (the chunk's first element) and reports (mean, M2); chunks are
// merged with Chan's parallel formula, so there is no E[x²] − E[x]²
// cancellation across chunks.
//
// Fused forms. The entries run by default as fixed sequences: stats
// partial → final → apply, and gradient partial → final → input. The fused
// forms do the same f32 operations in fewer dispatches:
//   - the per-channel merge (`*_final`) runs inside the per-element entry
//     that needs its result (bn_apply_merge, bn_grad_input_merge): every
//     workgroup merges its channel's chunks in the same order, and workgroup
//     (0, c) also writes what the `*_final` entry would have written;
//   - a channel that fits one chunk runs in one workgroup: statistics and
//     elements in one dispatch (bn_forward_single, bn_backward_single);
//   - epilogues: RESIDUAL adds a tensor of the output's shape after the
//     affine step and RELU clamps at zero (elementwise.wgsl's add_same and
//     relu_fwd); the backward masks dy with the saved output, y > 0
//     (relu_bwd); the add's backward passes that on unchanged (RESIDUAL: the
//     autograd hands a residual add's gradient on as a view of g) and
//     WRITE_DS stores it as the residual's gradient `ds`;
//   - dweight/dbias are written (W_GRAD/B_GRAD = 1) or added to the
//     parameters' gradients (= 2, elementwise.wgsl's acc_add), so the
//     autograd has nothing left to accumulate.
// The fused training backward reads the weight from the `stats` header, so
// no entry binds more than 8 storage buffers.

override WG: u32 = 256;
override HAS_WEIGHT: bool = false;
override HAS_BIAS: bool = false;
override UPDATE_RUNNING: bool = false;
override ROW_MODE: bool = false;
override RELU: bool = false;
override RESIDUAL: bool = false;
override WRITE_DS: bool = false;
// Parameter gradients: 0 none, 1 write, 2 accumulate.
override W_GRAD: u32 = 0u;
override B_GRAD: u32 = 0u;
// vec4 entries: vec4s per thread per round, consecutive (CPU adapters) or WG apart (GPUs); src/ops/memory-bound.ts.
override VPT: u32 = 1u;
override CONTIGUOUS: bool = false;

struct Params {
  C: u32,
  HW: u32,
  // L = N·HW elements per channel, CHW = C·HW (one image).
  L: u32,
  CHW: u32,
  chunks: u32,
  // units per chunk; units = L (walker) or N (ROW_MODE); unit = 1 or HW
  chunk: u32,
  units: u32,
  unit: u32,
  // WG / HW and WG % HW, the per-iteration step of a thread's (n, hw).
  step_n: u32,
  step_hw: u32,
  eps: f32,
  momentum: f32,
  // Index of the first partial in `part` (forward, fused: in `stats`, after its [3, C] header).
  part_base: u32,
  // vec4 entries (*_v4): HW / 4 and CHW / 4, and the walker's two steps in
  // vec4s — between a thread's vec4s in a round (1 or WG) and between rounds
  // (WG·VPT) — each as (step / HW4, step % HW4).
  HW4: u32,
  CHW4: u32,
  in_n4: u32,
  in_hw4: u32,
  st_n4: u32,
  st_hw4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;
@group(0) @binding(8) var<storage, read_write> part: array<f32>;
@group(0) @binding(9) var<storage, read_write> gsum: array<f32>;
@group(0) @binding(10) var<storage, read_write> out: array<f32>;
@group(0) @binding(11) var<storage, read> res: array<f32>;
@group(0) @binding(12) var<storage, read> y: array<f32>;
@group(0) @binding(13) var<storage, read_write> ds: array<f32>;
@group(0) @binding(14) var<storage, read_write> wgrad: array<f32>;
@group(0) @binding(15) var<storage, read_write> bgrad: array<f32>;
// vec4 views of x, dy, res, y, out and ds for the *_v4 entries (the same buffers).
@group(0) @binding(16) var<storage, read> x4: array<vec4f>;
@group(0) @binding(17) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(18) var<storage, read> res4: array<vec4f>;
@group(0) @binding(19) var<storage, read> y4: array<vec4f>;
@group(0) @binding(20) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(21) var<storage, read_write> ds4: array<vec4f>;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;
// Per-channel coefficients computed by thread 0 for the whole workgroup.
var<workgroup> coef: vec4f;

// Address of element j of channel c, and j's hw coordinate.
fn walk_start(j: u32, c: u32) -> vec2u {
  let n = j / p.HW;
  let hw = j - n * p.HW;
  return vec2u((n * p.C + c) * p.HW + hw, hw);
}

// Advances (address, hw) by WG elements within the channel.
fn walk_next(w: vec2u) -> vec2u {
  let hw = w.y + p.step_hw;
  let wrap = hw >= p.HW;
  let addr = w.x + p.step_n * p.CHW + p.step_hw + select(0u, p.CHW - p.HW, wrap);
  return vec2u(addr, select(hw, hw - p.HW, wrap));
}

// Tree-sums red_a and red_b; the totals end up in element 0.
fn tree_reduce(t: u32) {
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) {
      red_a[t] += red_a[t + s];
      red_b[t] += red_b[t + s];
    }
    workgroupBarrier();
  }
}

fn w_of(c: u32) -> f32 {
  if (HAS_WEIGHT) { return weight[c]; }
  return 1.0;
}

fn b_of(c: u32) -> f32 {
  if (HAS_BIAS) { return bias[c]; }
  return 0.0;
}

// Element range of chunk k: [j0, j1) in units, and the address of its first element.
fn chunk_units(k: u32) -> vec2u {
  let u0 = k * p.chunk;
  return vec2u(u0, min(u0 + p.chunk, p.units));
}

fn first_addr(k: u32, c: u32) -> u32 {
  if (ROW_MODE) { return (k * p.chunk * p.C + c) * p.HW; }
  return walk_start(k * p.chunk, c).x;
}

// Each per-element loop below has the same two forms (ROW_MODE or walker,
// one is compiled away) around a one-line body in a helper.

fn stats_term(a: u32, shift: f32) -> vec2f {
  let v = x[a] - shift;
  return vec2f(v, v * v);
}

// Σ(x − K) and Σ(x − K)² over chunk k of channel c, K = the chunk's first
// element, tree-summed into red_a[0] and red_b[0]. Returns K.
fn chunk_stats(k: u32, c: u32, t: u32) -> f32 {
  let r = chunk_units(k);
  let shift = x[first_addr(k, c)];
  var s = vec2f(0.0);
  if (ROW_MODE) {
    for (var n = r.x; n < r.y; n++) {
      let base = (n * p.C + c) * p.HW;
      for (var hw = t; hw < p.HW; hw += WG) { s += stats_term(base + hw, shift); }
    }
  } else {
    var w = walk_start(r.x + t, c);
    for (var j = r.x + t; j < r.y; j += WG) {
      s += stats_term(w.x, shift);
      w = walk_next(w);
    }
  }
  red_a[t] = s.x;
  red_b[t] = s.y;
  tree_reduce(t);
  return shift;
}

fn chunk_count(k: u32) -> f32 {
  let r = chunk_units(k);
  return f32((r.y - r.x) * p.unit);
}

// (mean, M2) of chunk k from chunk_stats' sums (thread 0).
fn chunk_moments(k: u32, shift: f32) -> vec2f {
  let d = red_a[0] / chunk_count(k);
  return vec2f(shift + d, max(red_b[0] - d * red_a[0], 0.0));
}

// Chan et al.: merges a chunk of nb elements with moments (mean m, M2 m2)
// into s = (count, mean, M2).
fn chan_merge(s: vec3f, m: f32, m2: f32, nb: f32) -> vec3f {
  let delta = m - s.y;
  let tot = s.x + nb;
  return vec3f(tot, s.y + delta * (nb / tot), s.z + (m2 + delta * delta * (s.x * nb / tot)));
}

// (mean, M2) of channel c: its chunks' partials (in `stats`, from part_base) merged in order.
fn merged_moments(c: u32) -> vec2f {
  var s = vec3f(0.0);
  for (var k = 0u; k < p.chunks; k++) {
    let o = p.part_base + (c * p.chunks + k) * 2u;
    s = chan_merge(s, stats[o], stats[o + 1u], chunk_count(k));
  }
  return s.yz;
}

// (mean, 1/sqrt(var_biased + eps)) of channel c; with `store`, writes them
// and the weight in the [3, C] header of `stats` and, with UPDATE_RUNNING,
// running = (1 − m)·running + m·stat (unbiased var).
fn finish_stats(c: u32, mean: f32, m2: f32, store: bool) -> vec2f {
  let var_b = m2 / f32(p.L);
  let invstd = 1.0 / sqrt(var_b + p.eps);
  if (store) {
    stats[c] = mean;
    stats[p.C + c] = invstd;
    stats[2u * p.C + c] = w_of(c);
    if (UPDATE_RUNNING) {
      let var_u = m2 / f32(p.L - 1u);
      running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
      running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * var_u;
    }
  }
  return vec2f(mean, invstd);
}

// (scale, shift) of y = x·scale + shift = (x − mean)·invstd·weight + bias.
fn apply_coefs(c: u32, mean: f32, invstd: f32) -> vec2f {
  let scale = invstd * w_of(c);
  return vec2f(scale, b_of(c) - mean * scale);
}

// The residual add and the ReLU are elementwise.wgsl's add_same and relu_fwd.
fn apply_at(a: u32, scale: f32, shift: f32) {
  var v = fma(x[a], scale, shift);
  if (RESIDUAL) { v = v + res[a]; }
  if (RELU) { v = select(v, 0.0, v < 0.0); }
  out[a] = v;
}

fn apply_chunk(k: u32, c: u32, t: u32, scale: f32, shift: f32) {
  let r = chunk_units(k);
  if (ROW_MODE) {
    for (var n = r.x; n < r.y; n++) {
      let base = (n * p.C + c) * p.HW;
      for (var hw = t; hw < p.HW; hw += WG) { apply_at(base + hw, scale, shift); }
    }
  } else {
    var w = walk_start(r.x + t, c);
    for (var j = r.x + t; j < r.y; j += WG) {
      apply_at(w.x, scale, shift);
      w = walk_next(w);
    }
  }
}

// Thread 0, after the tree: part[part_base + (c, k)] = (mean, M2) of chunk k.
fn write_stats_partial(k: u32, c: u32, shift: f32) {
  let m = chunk_moments(k, shift);
  let o = p.part_base + (c * p.chunks + k) * 2u;
  part[o] = m.x;
  part[o + 1u] = m.y;
}

// One-chunk channels (thread 0, after the tree): the chunk's moments merged
// as bn_stats_final merges chunks, the header and running buffers written,
// and the apply pass's (scale, shift).
fn single_apply_coefs(c: u32, shift: f32) -> vec2f {
  let m = chunk_moments(0u, shift);
  let s = chan_merge(vec3f(0.0), m.x, m.y, chunk_count(0u));
  let st = finish_stats(c, s.y, s.z, true);
  return apply_coefs(c, st.x, st.y);
}

// part[part_base + (c, k)] = (mean, M2) of chunk k of channel c.
@compute @workgroup_size(WG)
fn bn_stats_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let shift = chunk_stats(k, c, lid.x);
  if (lid.x == 0u) { write_stats_partial(k, c, shift); }
}

// Merges the chunks of each channel into the `stats` header (and the running buffers).
@compute @workgroup_size(64)
fn bn_stats_final(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  let m = merged_moments(c);
  finish_stats(c, m.x, m.y, true);
}

// Eval mode: stats from the running buffers.
@compute @workgroup_size(64)
fn bn_eval_stats(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  stats[c] = running_mean[c];
  stats[p.C + c] = 1.0 / sqrt(running_var[c] + p.eps);
}

// out = (x − mean)·invstd·weight + bias (+ res) (relu), stats from the header.
@compute @workgroup_size(WG)
fn bn_apply(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.y;
  let q = apply_coefs(c, stats[c], stats[p.C + c]);
  apply_chunk(wid.x, c, lid.x, q.x, q.y);
}

// Fused bn_stats_final + bn_apply: every workgroup merges its channel's
// partials (thread 0); workgroup (0, c) writes the header and running buffers.
@compute @workgroup_size(WG)
fn bn_apply_merge(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  if (lid.x == 0u) {
    let m = merged_moments(c);
    let st = finish_stats(c, m.x, m.y, k == 0u);
    coef = vec4f(apply_coefs(c, st.x, st.y), 0.0, 0.0);
  }
  workgroupBarrier();
  let q = coef;
  apply_chunk(k, c, lid.x, q.x, q.y);
}

// A channel in one chunk, one workgroup per channel: bn_stats_partial +
// bn_stats_final + bn_apply in one dispatch.
@compute @workgroup_size(WG)
fn bn_forward_single(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.y;
  let shift = chunk_stats(0u, c, lid.x);
  if (lid.x == 0u) { coef = vec4f(single_apply_coefs(c, shift), 0.0, 0.0); }
  workgroupBarrier();
  let q = coef;
  apply_chunk(0u, c, lid.x, q.x, q.y);
}

// dy at a after the epilogue's backward: relu_bwd's mask (y > 0); the residual
// add passes it on as it is.
fn g_at(a: u32) -> f32 {
  var g = dy[a];
  if (RELU) { g = select(0.0, g, y[a] > 0.0); }
  return g;
}

fn grad_term(a: u32, mean: f32) -> vec2f {
  let g = g_at(a);
  if (WRITE_DS) { ds[a] = g; }
  return vec2f(g, g * (x[a] - mean));
}

// Σ g and Σ g·(x − mean) over chunk k of channel c, tree-summed into red_a[0] and red_b[0].
fn chunk_grad_sums(k: u32, c: u32, t: u32, mean: f32) {
  let r = chunk_units(k);
  var s = vec2f(0.0);
  if (ROW_MODE) {
    for (var n = r.x; n < r.y; n++) {
      let base = (n * p.C + c) * p.HW;
      for (var hw = t; hw < p.HW; hw += WG) { s += grad_term(base + hw, mean); }
    }
  } else {
    var w = walk_start(r.x + t, c);
    for (var j = r.x + t; j < r.y; j += WG) {
      s += grad_term(w.x, mean);
      w = walk_next(w);
    }
  }
  red_a[t] = s.x;
  red_b[t] = s.y;
  tree_reduce(t);
}

// Thread 0, after the tree: part[c, k] = (Σ g, Σ g·x̂).
fn write_grad_partial(k: u32, c: u32) {
  let o = (c * p.chunks + k) * 2u;
  part[o] = red_a[0];
  part[o + 1u] = red_b[0] * stats[p.C + c];
}

// part[c, k] = (Σ g, Σ g·x̂) over chunk k of channel c, x̂ = (x − mean)·invstd.
@compute @workgroup_size(WG)
fn bn_grad_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  chunk_grad_sums(k, c, lid.x, stats[c]);
  if (lid.x == 0u) { write_grad_partial(k, c); }
}

// (Σ g, Σ g·x̂) of channel c: its chunks' partials summed in order.
fn merged_grad_sums(c: u32) -> vec2f {
  var s1 = 0.0;
  var s2 = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    let o = (c * p.chunks + k) * 2u;
    s1 += part[o];
    s2 += part[o + 1u];
  }
  return vec2f(s1, s2);
}

// gsum[0, c] = Σ g (= dbias), gsum[1, c] = Σ g·x̂ (= dweight).
@compute @workgroup_size(64)
fn bn_grad_final(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  let s = merged_grad_sums(c);
  gsum[c] = s.x;
  gsum[p.C + c] = s.y;
}

// dweight = Σ g·x̂ and dbias = Σ g (s = (Σ g, Σ g·x̂)), written or added to
// the parameters' gradients (as elementwise.wgsl's acc_add with alpha = 1).
fn emit_param_grads(c: u32, s: vec2f) {
  if (W_GRAD == 1u) { wgrad[c] = s.y; }
  if (W_GRAD == 2u) { wgrad[c] = wgrad[c] + s.y; }
  if (B_GRAD == 1u) { bgrad[c] = s.x; }
  if (B_GRAD == 2u) { bgrad[c] = bgrad[c] + s.x; }
}

// bn_grad_final for the fused forms: the parameter gradients only.
@compute @workgroup_size(64)
fn bn_param_grads(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  emit_param_grads(c, merged_grad_sums(c));
}

// Training-mode dx coefficients (kc, mdy, cx) from s = (Σ g, Σ g·x̂):
// dx = kc·(g − mdy − (x − mean)·cx) = w·invstd·(g − Σg/L − x̂·Σ(g·x̂)/L).
fn dx_coefs(w: f32, invstd: f32, s: vec2f) -> vec3f {
  let inv_l = 1.0 / f32(p.L);
  return vec3f(w * invstd, s.x * inv_l, s.y * inv_l * invstd);
}

fn dx_train_at(a: u32, kc: f32, mdy: f32, mean: f32, cx: f32) {
  out[a] = kc * (g_at(a) - mdy - (x[a] - mean) * cx);
}

fn dx_train_chunk(k: u32, c: u32, t: u32, q: vec3f, mean: f32) {
  let r = chunk_units(k);
  if (ROW_MODE) {
    for (var n = r.x; n < r.y; n++) {
      let base = (n * p.C + c) * p.HW;
      for (var hw = t; hw < p.HW; hw += WG) { dx_train_at(base + hw, q.x, q.y, mean, q.z); }
    }
  } else {
    var w = walk_start(r.x + t, c);
    for (var j = r.x + t; j < r.y; j += WG) {
      dx_train_at(w.x, q.x, q.y, mean, q.z);
      w = walk_next(w);
    }
  }
}

// Training mode: out = dx, sums from gsum (bn_grad_final).
@compute @workgroup_size(WG)
fn bn_grad_input_train(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.y;
  let q = dx_coefs(w_of(c), stats[p.C + c], vec2f(gsum[c], gsum[p.C + c]));
  dx_train_chunk(wid.x, c, lid.x, q, stats[c]);
}

// Fused bn_grad_final + bn_grad_input_train: every workgroup sums its
// channel's partials; workgroup (0, c) emits the parameter gradients. The
// weight comes from the `stats` header.
@compute @workgroup_size(WG)
fn bn_grad_input_merge(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let s = merged_grad_sums(c);
  if (k == 0u && lid.x == 0u) { emit_param_grads(c, s); }
  let q = dx_coefs(stats[2u * p.C + c], stats[p.C + c], s);
  dx_train_chunk(k, c, lid.x, q, stats[c]);
}

// One-chunk channels (thread 0, after the tree): the chunk's sums as
// bn_grad_final sums the chunks, the parameter gradients, and dx's coefficients.
fn single_grad_coefs(c: u32, invstd: f32) -> vec3f {
  var s1 = 0.0;
  var s2 = 0.0;
  s1 += red_a[0];
  s2 += red_b[0] * invstd;
  let s = vec2f(s1, s2);
  emit_param_grads(c, s);
  return dx_coefs(stats[2u * p.C + c], invstd, s);
}

// A channel in one chunk, one workgroup per channel: bn_grad_partial +
// bn_grad_final + bn_grad_input_train in one dispatch (training).
@compute @workgroup_size(WG)
fn bn_backward_single(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.y;
  let mean = stats[c];
  let invstd = stats[p.C + c];
  chunk_grad_sums(0u, c, lid.x, mean);
  if (lid.x == 0u) { coef = vec4f(single_grad_coefs(c, invstd), 0.0); }
  workgroupBarrier();
  let q = coef;
  dx_train_chunk(0u, c, lid.x, q.xyz, mean);
}

fn dx_eval_at(a: u32, kc: f32) {
  let g = g_at(a);
  if (WRITE_DS) { ds[a] = g; }
  out[a] = g * kc;
}

// Eval mode (statistics are constants): out = dx = g·w·invstd
@compute @workgroup_size(WG)
fn bn_grad_input_eval(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let r = chunk_units(k);
  let kc = w_of(c) * stats[p.C + c];
  if (ROW_MODE) {
    for (var n = r.x; n < r.y; n++) {
      let base = (n * p.C + c) * p.HW;
      for (var hw = lid.x; hw < p.HW; hw += WG) { dx_eval_at(base + hw, kc); }
    }
  } else {
    var w = walk_start(r.x + lid.x, c);
    for (var j = r.x + lid.x; j < r.y; j += WG) {
      dx_eval_at(w.x, kc);
      w = walk_next(w);
    }
  }
}

// ---- vec4 forms of the fused per-element passes (bn_apply_merge_v4, bn_grad_input_merge_v4) ----
//
// Used when HW % 4 = 0 and every tensor starts on a vec4 boundary: vec4 i of
// a plane is elements 4i…4i+3 of one image of one channel, so the channel's
// L elements are L / 4 vec4s at (n·C + c)·HW4 + hw4, and a chunk (4096
// elements or whole images: a multiple of 4 either way) is a range of them.
// Thread t of a workgroup takes VPT vec4s per round — consecutive (CONTIGUOUS)
// from the t·VPT-th of the chunk, or WG apart from the t-th — and rounds are
// WG·VPT vec4s apart. Its walker steps (address, hw4) by (in_n4, in_hw4)
// within a round and by (st_n4, st_hw4) between rounds, one compare each: one
// division per thread. The arithmetic per component is that of the scalar
// entries (apply_at, g_at, dx_train_at), so the results are the same bits.

fn walk4_start(j4: u32, c: u32) -> vec2u {
  let n = j4 / p.HW4;
  let hw = j4 - n * p.HW4;
  return vec2u((n * p.C + c) * p.HW4 + hw, hw);
}

fn walk4_step(w: vec2u, sn: u32, shw: u32) -> vec2u {
  let hw = w.y + shw;
  let wrap = hw >= p.HW4;
  let addr = w.x + sn * p.CHW4 + shw + select(0u, p.CHW4 - p.HW4, wrap);
  return vec2u(addr, select(hw, hw - p.HW4, wrap));
}

// [first, end) vec4s of chunk k within its channel.
fn chunk_vec4s(k: u32) -> vec2u {
  let r = chunk_units(k);
  return vec2u(r.x * p.unit / 4u, r.y * p.unit / 4u);
}

fn thread_first4(v0: u32, t: u32) -> u32 {
  if (CONTIGUOUS) { return v0 + t * VPT; }
  return v0 + t;
}

fn inner_d4() -> u32 {
  if (CONTIGUOUS) { return 1u; }
  return WG;
}

// A thread's walk over its vec4s of chunk k of channel c: VPT a round
// (consecutive or WG apart), rounds WG·VPT apart; `at` is the current vec4's
// (address, hw4), `round` the round's first, `j` its index in the channel.
// Once j passes the chunk's end every later one does, so one compare ends it.
struct Walk4 {
  at: vec2u,
  round: vec2u,
  j: u32,
  j0: u32,
  i: u32,
  end: u32,
}

fn walk4_begin(k: u32, c: u32, t: u32) -> Walk4 {
  let r = chunk_vec4s(k);
  let first = thread_first4(r.x, t);
  let w = walk4_start(first, c);
  return Walk4(w, w, first, first, 0u, r.y);
}

fn walk4_more(w: ptr<function, Walk4>) -> bool {
  return (*w).j < (*w).end;
}

fn walk4_next(w: ptr<function, Walk4>) {
  (*w).i += 1u;
  if ((*w).i < VPT) {
    (*w).at = walk4_step((*w).at, p.in_n4, p.in_hw4);
    (*w).j += inner_d4();
  } else {
    (*w).i = 0u;
    (*w).round = walk4_step((*w).round, p.st_n4, p.st_hw4);
    (*w).at = (*w).round;
    (*w).j0 += WG * VPT;
    (*w).j = (*w).j0;
  }
}

fn apply4_at(a: u32, scale: f32, shift: f32) {
  var v = fma(x4[a], vec4f(scale), vec4f(shift));
  if (RESIDUAL) { v = v + res4[a]; }
  if (RELU) { v = select(v, vec4f(0.0), v < vec4f(0.0)); }
  out4[a] = v;
}

fn apply_chunk4(k: u32, c: u32, t: u32, scale: f32, shift: f32) {
  for (var w = walk4_begin(k, c, t); walk4_more(&w); walk4_next(&w)) { apply4_at(w.at.x, scale, shift); }
}

// bn_apply_merge on vec4s.
@compute @workgroup_size(WG)
fn bn_apply_merge_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  if (lid.x == 0u) {
    let m = merged_moments(c);
    let st = finish_stats(c, m.x, m.y, k == 0u);
    coef = vec4f(apply_coefs(c, st.x, st.y), 0.0, 0.0);
  }
  workgroupBarrier();
  let q = coef;
  apply_chunk4(k, c, lid.x, q.x, q.y);
}

fn g4_at(a: u32) -> vec4f {
  var g = dy4[a];
  if (RELU) { g = select(vec4f(0.0), g, y4[a] > vec4f(0.0)); }
  return g;
}

fn dx4_train_at(a: u32, kc: f32, mdy: f32, mean: f32, cx: f32) {
  out4[a] = kc * (g4_at(a) - mdy - (x4[a] - mean) * cx);
}

fn dx_train_chunk4(k: u32, c: u32, t: u32, q: vec3f, mean: f32) {
  for (var w = walk4_begin(k, c, t); walk4_more(&w); walk4_next(&w)) { dx4_train_at(w.at.x, q.x, q.y, mean, q.z); }
}

// bn_grad_input_merge on vec4s.
@compute @workgroup_size(WG)
fn bn_grad_input_merge_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let s = merged_grad_sums(c);
  if (k == 0u && lid.x == 0u) { emit_param_grads(c, s); }
  let q = dx_coefs(stats[2u * p.C + c], stats[p.C + c], s);
  dx_train_chunk4(k, c, lid.x, q, stats[c]);
}

// ---- vec4 sums: bn_stats_partial_v4, bn_grad_partial_v4 and the one-chunk forms ----
//
// The reductions' vec4 forms walk a chunk as the passes above do; each
// thread keeps vec4 sums and adds their components, (x + y) + (z + w),
// before the tree. They replace the scalar sums (another summation order)
// wherever H·W % 4 = 0 and the tensors start on a vec4, in every form
// (fused or not, vec4 passes or scalar), so the forms stay bit-identical to
// one another. On a CPU adapter one vec4 load replaces four lane-by-lane
// scalar loads.

fn stats4_term(a: u32, shift: f32, s: ptr<function, array<vec4f, 2>>) {
  let v = x4[a] - shift;
  (*s)[0] += v;
  (*s)[1] += v * v;
}

fn hsum(v: vec4f) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

// chunk_stats on vec4s: Σ(x − K), Σ(x − K)² into red_a[0], red_b[0]; returns K.
fn chunk_stats4(k: u32, c: u32, t: u32) -> f32 {
  let shift = x4[walk4_start(chunk_vec4s(k).x, c).x].x;
  var s: array<vec4f, 2>;
  for (var w = walk4_begin(k, c, t); walk4_more(&w); walk4_next(&w)) { stats4_term(w.at.x, shift, &s); }
  red_a[t] = hsum(s[0]);
  red_b[t] = hsum(s[1]);
  tree_reduce(t);
  return shift;
}

@compute @workgroup_size(WG)
fn bn_stats_partial_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let shift = chunk_stats4(k, c, lid.x);
  if (lid.x == 0u) { write_stats_partial(k, c, shift); }
}

// bn_forward_single on vec4s.
@compute @workgroup_size(WG)
fn bn_forward_single_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.y;
  let shift = chunk_stats4(0u, c, lid.x);
  if (lid.x == 0u) { coef = vec4f(single_apply_coefs(c, shift), 0.0, 0.0); }
  workgroupBarrier();
  let q = coef;
  apply_chunk4(0u, c, lid.x, q.x, q.y);
}

fn grad4_term(a: u32, mean: f32, s: ptr<function, array<vec4f, 2>>) {
  let g = g4_at(a);
  if (WRITE_DS) { ds4[a] = g; }
  (*s)[0] += g;
  (*s)[1] += g * (x4[a] - mean);
}

// chunk_grad_sums on vec4s.
fn chunk_grad_sums4(k: u32, c: u32, t: u32, mean: f32) {
  var s: array<vec4f, 2>;
  for (var w = walk4_begin(k, c, t); walk4_more(&w); walk4_next(&w)) { grad4_term(w.at.x, mean, &s); }
  red_a[t] = hsum(s[0]);
  red_b[t] = hsum(s[1]);
  tree_reduce(t);
}

@compute @workgroup_size(WG)
fn bn_grad_partial_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  chunk_grad_sums4(k, c, lid.x, stats[c]);
  if (lid.x == 0u) { write_grad_partial(k, c); }
}

// bn_backward_single on vec4s.
@compute @workgroup_size(WG)
fn bn_backward_single_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.y;
  let mean = stats[c];
  let invstd = stats[p.C + c];
  chunk_grad_sums4(0u, c, lid.x, mean);
  if (lid.x == 0u) { coef = vec4f(single_grad_coefs(c, invstd), 0.0); }
  workgroupBarrier();
  let q = coef;
  dx_train_chunk4(0u, c, lid.x, q.xyz, mean);
}
