// Probe: is a vec4 texel read per lane (textureLoad from an rgba32float texture, sampled or
// read-only storage) cheaper on llvmpipe than a vec4 read from a storage buffer? MODE 0: storage
// vec4; 1: sampled texture textureLoad; 2: read-only storage texture; 3: workgroup memory vec4;
// 4: no load. Each lane reads a different element; the values feed an FMA so nothing is removed.
override WG: u32 = 64u;
override MODE: u32 = 0u;
override K: u32 = 2048u;
@group(0) @binding(1) var<storage, read> b4: array<vec4f>;
@group(0) @binding(2) var tx: texture_2d<f32>;
@group(0) @binding(3) var ts: texture_storage_2d<rgba32float, read>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
var<workgroup> sh: array<vec4f, 1024>;
@compute @workgroup_size(WG, 1, 1)
fn ld(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n = wid.x * WG + lid.x;
  var s = vec4f(0.0);
  let x = vec4f(f32(lid.x));
  if (MODE == 3u) { for (var i = lid.x; i < 1024u; i += WG) { sh[i] = b4[i]; } workgroupBarrier(); }
  for (var k = 0u; k < K; k++) {
    let i = (k * 16u + lid.x) % 4096u;
    if (MODE == 0u) { s = fma(b4[i], x, s); }
    if (MODE == 1u) { s = fma(textureLoad(tx, vec2u(i % 64u, i / 64u), 0), x, s); }
    if (MODE == 2u) { s = fma(textureLoad(ts, vec2u(i % 64u, i / 64u)), x, s); }
    if (MODE == 3u) { s = fma(sh[i % 1024u], x, s); }
    if (MODE == 4u) { s = fma(vec4f(f32(k)), x, s); }
  }
  c[n] = s.x + s.y + s.z + s.w;
}
