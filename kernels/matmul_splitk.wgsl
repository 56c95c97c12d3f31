// The second pass of a split-K matmul (the 'splitk' variant, src/ops/matmul.ts): the S partial
// products that matmul_tiled_v4.wgsl wrote with KCHUNK > 0 summed in order, then the epilogue
//
//   C[i] = act(Σ_{s = 0..S-1} part[s, i] + bias[i mod N])      (+ C[i] first when ACCUMULATE)
//
// Layout: part [S, batch·M·N] (a part is one chunk of k for every batch, row and column), C
// [batch, M, N], bias [N]; everything as vec4 (N % 4 == 0, as the first pass requires). The parts
// are added in a fixed order, s ascending, so the result is deterministic (no atomics).
// One invocation per vec4 of C; the engine folds a grid past 65 535 workgroups into x·y.

override HAS_BIAS: bool = false;
// 0: none, 1: ReLU, 2: GELU (erf form), as the matmul kernels
override ACT: u32 = 0u;
override ACCUMULATE: bool = false;
override WG: u32 = 256u;

struct Params {
  // vec4s of C: batch·M·N/4
  total4: u32,
  N: u32,
  S: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;

// Abramowitz & Stegun 7.1.26, |error| < 1.5e-7 (as matmul.wgsl), on vec4.
fn erf4(x: vec4f) -> vec4f {
  let s = sign(x);
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
  return s * y;
}

fn activate4(v: vec4f) -> vec4f {
  if (ACT == 1u) { return select(v, vec4f(0.0), v < vec4f(0.0)); } // NaN-preserving ReLU
  if (ACT == 2u) { return 0.5 * v * (1.0 + erf4(v * 0.70710678118654752)); }
  return v;
}

@compute @workgroup_size(WG)
fn matmul_splitk_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.total4) { return; }
  var v = part[i];
  for (var s = 1u; s < p.S; s++) { v += part[s * p.total4 + i]; }
  if (HAS_BIAS) {
    let n = (4u * i) % p.N;
    v += vec4f(bias[n], bias[n + 1u], bias[n + 2u], bias[n + 3u]);
  }
  var r = activate4(v);
  if (ACCUMULATE) { r = c[i] + r; }
  c[i] = r;
}
