// Probe: is one wide load (mat4x4f, 64 bytes) per lane cheaper on llvmpipe than the four vec4
// loads it holds? MODE 0: one vec4 per lane per step; 1: four consecutive vec4s; 2: one mat4x4f;
// 3: a struct of four vec4s; 4: one vec4 from storage at an index uniform across lanes; 5: the
// same from a uniform buffer; 6: no load (the loop's own cost). The loaded values feed a few FMAs so nothing is removed.
override WG: u32 = 64u;
override MODE: u32 = 0u;
struct Quad { a: vec4f, b: vec4f, c: vec4f, d: vec4f, }
override K: u32 = 2048u;
@group(0) @binding(1) var<storage, read> b4: array<vec4f>;
@group(0) @binding(2) var<storage, read> bm: array<mat4x4f>;
@group(0) @binding(3) var<storage, read> bq: array<Quad>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<uniform> ub: array<vec4f, 4096>;
@compute @workgroup_size(WG, 1, 1)
fn ld(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n = wid.x * WG + lid.x;
  var s = vec4f(0.0);
  let x = vec4f(f32(lid.x));
  for (var k = 0u; k < K; k++) {
    let i = (k * 16u + lid.x) % 4096u;
    if (MODE == 0u) { s = fma(b4[4u * i], x, s); }
    if (MODE == 1u) { s = fma(b4[4u * i], x, s); s = fma(b4[4u * i + 1u], x, s); s = fma(b4[4u * i + 2u], x, s); s = fma(b4[4u * i + 3u], x, s); }
    if (MODE == 2u) { let m = bm[i]; s = fma(m[0], x, s); s = fma(m[1], x, s); s = fma(m[2], x, s); s = fma(m[3], x, s); }
    if (MODE == 4u) { s = fma(b4[k % 4096u], x, s); }
    if (MODE == 5u) { s = fma(ub[k % 4096u], x, s); }
    if (MODE == 6u) { s = fma(vec4f(f32(k)), x, s); }
    if (MODE == 3u) { let q = bq[i]; s = fma(q.a, x, s); s = fma(q.b, x, s); s = fma(q.c, x, s); s = fma(q.d, x, s); }
  }
  c[n] = s.x + s.y + s.z + s.w;
}
