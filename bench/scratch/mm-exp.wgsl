override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;
override WG: u32 = 64u;
override TM: u32 = 4u;
override DBG: u32 = 0u;

struct Params { M: u32, N: u32, K: u32, batch: u32, a_batch_stride: u32, b_batch_stride: u32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<storage, read> b4: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> c4: array<vec4f>;

const MAXTM: u32 = 8u;

fn load_a(base: u32, m: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[base + k * p.M + m]; }
  return a[base + m * p.K + k];
}

// Lanes along N, 4 columns (one vec4) per lane, TM rows per workgroup (uniform A loads)
@compute @workgroup_size(WG, 1, 1)
fn mm_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let batch = wid.z;
  let m0 = wid.y * TM;
  let n4 = wid.x * WG + lid.x; // vec4 column index
  let N4 = p.N / 4u;
  let n4c = min(n4, N4 - 1u);
  let abase = batch * p.a_batch_stride;
  let bbase = batch * p.b_batch_stride;
  var mi: array<u32, MAXTM>;
  for (var i = 0u; i < TM; i++) { mi[i] = min(m0 + i, p.M - 1u); }
  var acc: array<vec4f, MAXTM>;
  if (!TRANS_B) {
    let bb4 = bbase / 4u;
    for (var k = 0u; k < p.K; k++) {
      var bv = vec4f(f32(k), 1.0, 2.0, f32(lid.x));
      if (DBG != 1u) { bv = b4[bb4 + k * N4 + n4c]; }
      for (var i = 0u; i < TM; i++) {
        var av = f32(i) * f32(k);
        if (DBG != 2u) { av = load_a(abase, mi[i], k); }
        acc[i] = fma(vec4f(av), bv, acc[i]);
      }
    }
  } else {
    // B is [N, K]: 4 rows of B, read 4 k at a time as vec4
    let K4 = p.K / 4u;
    let bb4 = bbase / 4u;
    let n = n4c * 4u;
    for (var k4 = 0u; k4 < K4; k4++) {
      let r0 = b4[bb4 + (n + 0u) * K4 + k4];
      let r1 = b4[bb4 + (n + 1u) * K4 + k4];
      let r2 = b4[bb4 + (n + 2u) * K4 + k4];
      let r3 = b4[bb4 + (n + 3u) * K4 + k4];
      let k = k4 * 4u;
      for (var i = 0u; i < TM; i++) {
        acc[i] = fma(vec4f(load_a(abase, mi[i], k)), vec4f(r0.x, r1.x, r2.x, r3.x), acc[i]);
        acc[i] = fma(vec4f(load_a(abase, mi[i], k + 1u)), vec4f(r0.y, r1.y, r2.y, r3.y), acc[i]);
        acc[i] = fma(vec4f(load_a(abase, mi[i], k + 2u)), vec4f(r0.z, r1.z, r2.z, r3.z), acc[i]);
        acc[i] = fma(vec4f(load_a(abase, mi[i], k + 3u)), vec4f(r0.w, r1.w, r2.w, r3.w), acc[i]);
      }
    }
  }
  if (n4 >= N4) { return; }
  let cbase = batch * p.M * N4;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    c4[cbase + m * N4 + n4] = acc[i];
  }
}

// Lanes along N, 1 column per lane, scalar B loads
@compute @workgroup_size(WG, 1, 1)
fn mm_s(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let batch = wid.z;
  let m0 = wid.y * TM;
  let n = wid.x * WG + lid.x;
  let nc = min(n, p.N - 1u);
  let abase = batch * p.a_batch_stride;
  let bbase = batch * p.b_batch_stride;
  var mi: array<u32, MAXTM>;
  for (var i = 0u; i < TM; i++) { mi[i] = min(m0 + i, p.M - 1u); }
  var acc: array<f32, MAXTM>;
  for (var k = 0u; k < p.K; k++) {
    var bv: f32;
    if (TRANS_B) { bv = b[bbase + nc * p.K + k]; } else { bv = b[bbase + k * p.N + nc]; }
    for (var i = 0u; i < TM; i++) { acc[i] = fma(load_a(abase, mi[i], k), bv, acc[i]); }
  }
  if (n >= p.N) { return; }
  let cbase = batch * p.M * p.N;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    c[cbase + m * p.N + n] = acc[i];
  }
}

// Hand-unrolled: 4 rows x vec4, no private arrays
@compute @workgroup_size(WG, 1, 1)
fn mm_u4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let batch = wid.z;
  let m0 = wid.y * 4u;
  let n4 = wid.x * WG + lid.x;
  let N4 = p.N / 4u;
  let n4c = min(n4, N4 - 1u);
  let abase = batch * p.a_batch_stride;
  let bb4 = batch * p.b_batch_stride / 4u;
  let r0 = min(m0, p.M - 1u) * p.K + abase;
  let r1 = min(m0 + 1u, p.M - 1u) * p.K + abase;
  let r2 = min(m0 + 2u, p.M - 1u) * p.K + abase;
  let r3 = min(m0 + 3u, p.M - 1u) * p.K + abase;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let bv = b4[bb4 + k * N4 + n4c];
    c0 = fma(vec4f(a[r0 + k]), bv, c0);
    c1 = fma(vec4f(a[r1 + k]), bv, c1);
    c2 = fma(vec4f(a[r2 + k]), bv, c2);
    c3 = fma(vec4f(a[r3 + k]), bv, c3);
  }
  if (n4 >= N4) { return; }
  let cb = batch * p.M * N4 + n4;
  if (m0 < p.M) { c4[cb + m0 * N4] = c0; }
  if (m0 + 1u < p.M) { c4[cb + (m0 + 1u) * N4] = c1; }
  if (m0 + 2u < p.M) { c4[cb + (m0 + 2u) * N4] = c2; }
  if (m0 + 3u < p.M) { c4[cb + (m0 + 3u) * N4] = c3; }
}
