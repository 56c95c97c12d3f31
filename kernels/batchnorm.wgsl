// Batch normalisation (BatchNorm2d) forward and backward.
//
// Layout: x, out, dy are NCHW row-major. Channel c owns the L = N·H·W
// elements x[n, c, hw] at address (n·C + c)·HW + hw. Per-channel vectors
// (weight, bias, running_mean, running_var) are [C]; `stats` is [2, C]
// (row 0: mean, row 1: 1/sqrt(var + eps)); `gsum` is [2, C] (row 0: Σ dy,
// row 1: Σ dy·x̂); `part` holds per-chunk partials [C, chunks, 2].
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

override WG: u32 = 256;
override HAS_WEIGHT: bool = false;
override HAS_BIAS: bool = false;
override UPDATE_RUNNING: bool = false;
override ROW_MODE: bool = false;

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

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;

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

// Each per-element entry below has the same two loops (ROW_MODE or walker,
// one is compiled away) around a one-line body in a helper.

fn stats_term(a: u32, shift: f32) -> vec2f {
  let v = x[a] - shift;
  return vec2f(v, v * v);
}

// part[c, k] = (mean, M2) of chunk k of channel c.
@compute @workgroup_size(WG)
fn bn_stats_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let r = chunk_units(k);
  let shift = x[first_addr(k, c)];
  var s = vec2f(0.0);
  if (ROW_MODE) {
    for (var n = r.x; n < r.y; n++) {
      let base = (n * p.C + c) * p.HW;
      for (var hw = lid.x; hw < p.HW; hw += WG) { s += stats_term(base + hw, shift); }
    }
  } else {
    var w = walk_start(r.x + lid.x, c);
    for (var j = r.x + lid.x; j < r.y; j += WG) {
      s += stats_term(w.x, shift);
      w = walk_next(w);
    }
  }
  red_a[lid.x] = s.x;
  red_b[lid.x] = s.y;
  tree_reduce(lid.x);
  if (lid.x == 0u) {
    let cnt = f32((r.y - r.x) * p.unit);
    let d = red_a[0] / cnt;
    let o = (c * p.chunks + k) * 2u;
    part[o] = shift + d;
    part[o + 1u] = max(red_b[0] - d * red_a[0], 0.0);
  }
}

// Merges the chunks of each channel (Chan et al.): stats = (mean, 1/sqrt(var_biased + eps)),
// and with UPDATE_RUNNING, running = (1 − m)·running + m·stat (unbiased var).
@compute @workgroup_size(64)
fn bn_stats_final(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    let r = chunk_units(k);
    let nb = f32((r.y - r.x) * p.unit);
    let o = (c * p.chunks + k) * 2u;
    let delta = part[o] - mean;
    let tot = n + nb;
    mean += delta * (nb / tot);
    m2 += part[o + 1u] + delta * delta * (n * nb / tot);
    n = tot;
  }
  let var_b = m2 / f32(p.L);
  stats[c] = mean;
  stats[p.C + c] = 1.0 / sqrt(var_b + p.eps);
  if (UPDATE_RUNNING) {
    let var_u = m2 / f32(p.L - 1u);
    running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
    running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * var_u;
  }
}

// Eval mode: stats from the running buffers.
@compute @workgroup_size(64)
fn bn_eval_stats(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  stats[c] = running_mean[c];
  stats[p.C + c] = 1.0 / sqrt(running_var[c] + p.eps);
}

fn apply_at(a: u32, scale: f32, shift: f32) {
  out[a] = fma(x[a], scale, shift);
}

// out = (x − mean)·invstd·weight + bias
@compute @workgroup_size(WG)
fn bn_apply(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let r = chunk_units(k);
  let scale = stats[p.C + c] * w_of(c);
  let shift = b_of(c) - stats[c] * scale;
  if (ROW_MODE) {
    for (var n = r.x; n < r.y; n++) {
      let base = (n * p.C + c) * p.HW;
      for (var hw = lid.x; hw < p.HW; hw += WG) { apply_at(base + hw, scale, shift); }
    }
  } else {
    var w = walk_start(r.x + lid.x, c);
    for (var j = r.x + lid.x; j < r.y; j += WG) {
      apply_at(w.x, scale, shift);
      w = walk_next(w);
    }
  }
}

fn grad_term(a: u32, mean: f32) -> vec2f {
  let g = dy[a];
  return vec2f(g, g * (x[a] - mean));
}

// part[c, k] = (Σ dy, Σ dy·x̂) over chunk k of channel c, x̂ = (x − mean)·invstd.
@compute @workgroup_size(WG)
fn bn_grad_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let r = chunk_units(k);
  let mean = stats[c];
  var s = vec2f(0.0);
  if (ROW_MODE) {
    for (var n = r.x; n < r.y; n++) {
      let base = (n * p.C + c) * p.HW;
      for (var hw = lid.x; hw < p.HW; hw += WG) { s += grad_term(base + hw, mean); }
    }
  } else {
    var w = walk_start(r.x + lid.x, c);
    for (var j = r.x + lid.x; j < r.y; j += WG) {
      s += grad_term(w.x, mean);
      w = walk_next(w);
    }
  }
  red_a[lid.x] = s.x;
  red_b[lid.x] = s.y;
  tree_reduce(lid.x);
  if (lid.x == 0u) {
    let o = (c * p.chunks + k) * 2u;
    part[o] = red_a[0];
    part[o + 1u] = red_b[0] * stats[p.C + c];
  }
}

// gsum[0, c] = Σ dy (= dbias), gsum[1, c] = Σ dy·x̂ (= dweight).
@compute @workgroup_size(64)
fn bn_grad_final(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var s1 = 0.0;
  var s2 = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    let o = (c * p.chunks + k) * 2u;
    s1 += part[o];
    s2 += part[o + 1u];
  }
  gsum[c] = s1;
  gsum[p.C + c] = s2;
}

// dx = kc·(dy − mdy − (x − mean)·cx)
fn dx_train_at(a: u32, kc: f32, mdy: f32, mean: f32, cx: f32) {
  out[a] = kc * (dy[a] - mdy - (x[a] - mean) * cx);
}

// Training mode: out = dx = w·invstd·(dy − Σdy/L − x̂·Σ(dy·x̂)/L)
@compute @workgroup_size(WG)
fn bn_grad_input_train(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let r = chunk_units(k);
  let mean = stats[c];
  let invstd = stats[p.C + c];
  let inv_l = 1.0 / f32(p.L);
  let kc = w_of(c) * invstd;
  let mdy = gsum[c] * inv_l;
  // x̂·Σ(dy·x̂)/L = (x − mean)·cx
  let cx = gsum[p.C + c] * inv_l * invstd;
  if (ROW_MODE) {
    for (var n = r.x; n < r.y; n++) {
      let base = (n * p.C + c) * p.HW;
      for (var hw = lid.x; hw < p.HW; hw += WG) { dx_train_at(base + hw, kc, mdy, mean, cx); }
    }
  } else {
    var w = walk_start(r.x + lid.x, c);
    for (var j = r.x + lid.x; j < r.y; j += WG) {
      dx_train_at(w.x, kc, mdy, mean, cx);
      w = walk_next(w);
    }
  }
}

fn dx_eval_at(a: u32, kc: f32) {
  out[a] = dy[a] * kc;
}

// Eval mode (statistics are constants): out = dx = dy·w·invstd
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
