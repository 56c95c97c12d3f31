override WG: u32 = 64u;
override MODE: u32 = 0u;
struct Params { K: u32, N: u32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> b4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
var<workgroup> sh: array<f32, 4096>;
var<workgroup> sh4: array<vec4f, 1024>;
@compute @workgroup_size(WG, 1, 1)
fn ld(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n = wid.x * WG + lid.x;
  var s0 = 0.0; var s1 = 0.0; var s2 = 0.0; var s3 = 0.0; var s4 = 0.0; var s5 = 0.0; var s6 = 0.0; var s7 = 0.0;
  let x = f32(lid.x);
  if (MODE >= 7u) { for (var i = lid.x; i < 1024u; i += WG) { sh4[i] = b4[i]; sh[i] = b[i]; sh[i + 1024u] = b[i]; sh[i+2048u] = b[i]; sh[i+3072u]=b[i]; } workgroupBarrier(); }
  for (var k = 0u; k < p.K; k++) {
    var v = f32(k);
    if (MODE == 1u) { v = b[k]; }
    if (MODE == 2u) { v = b[k * 64u + lid.x]; }
    if (MODE == 3u) { let q = b4[k * 16u + lid.x % 16u]; v = q.x + q.y + q.z + q.w; }
    if (MODE == 4u) { v = b[(k * 64u + lid.x * 67u) % 65536u]; }
    if (MODE == 5u) { v = b[k] + b[k + 1u] + b[k + 2u] + b[k + 3u] + b[k + 4u] + b[k + 5u] + b[k + 6u] + b[k + 7u]; }
    if (MODE == 6u) { let q = b4[k]; v = q.x + q.y + q.z + q.w; }
    if (MODE == 7u) { v = sh[k % 4096u]; }
    if (MODE == 8u) { let q = sh4[k % 1024u]; v = q.x + q.y + q.z + q.w; }
    if (MODE == 9u) { v = sh[(k * 64u + lid.x) % 4096u]; }
    if (MODE == 10u) { let q = sh4[(k * 16u + lid.x % 16u) % 1024u]; v = q.x + q.y + q.z + q.w; }
    if (MODE == 11u) { let q = sh4[k % 1024u]; let q2 = sh4[(k + 1u) % 1024u]; let q3 = sh4[(k + 2u) % 1024u]; let q4 = sh4[(k+3u) % 1024u]; v = q.x + q.y + q.z + q.w + q2.x + q2.y + q2.z + q2.w + q3.x + q3.y + q3.z + q3.w + q4.x + q4.y + q4.z + q4.w; }
    s0 = fma(v, x, s0); s1 = fma(v, s0, s1); s2 = fma(v, x, s2); s3 = fma(v, s2, s3);
    s4 = fma(v, x, s4); s5 = fma(v, s4, s5); s6 = fma(v, x, s6); s7 = fma(v, s6, s7);
  }
  c[n] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
}
