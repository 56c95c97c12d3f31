override WG: u32 = 64u;
override MODE: u32 = 0u;
struct Params { K: u32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<vec4f>;
@compute @workgroup_size(WG, 1, 1)
fn flops(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let x = vec4f(f32(lid.x) * 1e-3, 0.5, 0.25, 0.125);
  var c0 = x; var c1 = x + 1.0; var c2 = x + 2.0; var c3 = x + 3.0;
  var c5 = x; var c6 = x + 1.0; var c7 = x + 2.0; var c8 = x + 3.0;
  for (var k = 0u; k < p.K; k++) {
    let y = vec4f(f32(k) * 1e-6);
    if (MODE == 0u) {
      c0 = fma(c0, y, x); c1 = fma(c1, y, x); c2 = fma(c2, y, x); c3 = fma(c3, y, x);
      c5 = fma(c5, y, x); c6 = fma(c6, y, x); c7 = fma(c7, y, x); c8 = fma(c8, y, x);
    } else {
      c0 = c0 * y + x; c1 = c1 * y + x; c2 = c2 * y + x; c3 = c3 * y + x;
      c5 = c5 * y + x; c6 = c6 * y + x; c7 = c7 * y + x; c8 = c8 * y + x;
    }
  }
  c[(wid.x * WG + lid.x)] = c0 + c1 + c2 + c3 + c5 + c6 + c7 + c8;
}
