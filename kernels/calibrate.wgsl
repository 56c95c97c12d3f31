// Calibration kernels for the benchmark (bench/calibrate.ts): they measure what
// the adapter can do at best, so kernel results can be read as a share of it.
//
//   fma_4, fma_8  peak f32 FMA throughput. Each invocation runs 4 or 8
//                 independent vec4 FMA chains acc = fma(acc, x, y) entirely
//                 in registers, unrolled 4× per loop trip; nothing is loaded
//                 in the loop. FLOPs = invocations · iters · 4 · CHAINS · 4 · 2.
//                 Two chain counts because the best one depends on the
//                 hardware: enough independent chains to hide FMA latency,
//                 few enough not to spill registers (lavapipe turns every
//                 vec4 component of 8 lanes into one 256-bit register).
//                 x < 1 keeps the chains bounded (acc → y / (1 − x)), so no
//                 inf/denormal slow paths. The result is stored only when it
//                 equals p.sentinel (never), which keeps the compiler from
//                 deleting the loop without spending bandwidth.
//   copy_vec4     peak memory bandwidth: dst[i] = src[i] over n vec4s, one
//                 vec4 per invocation, consecutive lanes on consecutive
//                 addresses. Bytes = 2 · 16 · n (read + write).
//   copy_vec4_x4  the same copy, four vec4s per invocation at stride n/4
//                 (still contiguous across lanes), more loads in flight.
//
// Layout: flat arrays. Grid: 1-D, WG invocations per workgroup; the host
// folds more than 65535 workgroups into (x, y), so the linear workgroup index
// is wid.x + wid.y * nwg.x.

override WG: u32 = 256;

struct Params {
  n: u32,
  iters: u32,
  x: f32,
  y: f32,
  sentinel: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

fn linear(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid.x;
}

@compute @workgroup_size(WG)
fn fma_4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = linear(wid, nwg, lid);
  let x = vec4f(p.x);
  let y = vec4f(p.y);
  let s = f32(i & 255u) * 1e-3;
  var a0 = vec4f(s, s + 0.1, s + 0.2, s + 0.3);
  var a1 = a0 + 0.01;
  var a2 = a0 + 0.02;
  var a3 = a0 + 0.03;
  for (var k = 0u; k < p.iters; k++) {
    a0 = fma(a0, x, y); a1 = fma(a1, x, y); a2 = fma(a2, x, y); a3 = fma(a3, x, y);
    a0 = fma(a0, x, y); a1 = fma(a1, x, y); a2 = fma(a2, x, y); a3 = fma(a3, x, y);
    a0 = fma(a0, x, y); a1 = fma(a1, x, y); a2 = fma(a2, x, y); a3 = fma(a3, x, y);
    a0 = fma(a0, x, y); a1 = fma(a1, x, y); a2 = fma(a2, x, y); a3 = fma(a3, x, y);
  }
  let r = a0 + a1 + a2 + a3;
  if (r.x == p.sentinel) { dst[i] = r; }
}

@compute @workgroup_size(WG)
fn fma_8(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = linear(wid, nwg, lid);
  let x = vec4f(p.x);
  let y = vec4f(p.y);
  let s = f32(i & 255u) * 1e-3;
  var a0 = vec4f(s, s + 0.1, s + 0.2, s + 0.3);
  var a1 = a0 + 0.01;
  var a2 = a0 + 0.02;
  var a3 = a0 + 0.03;
  var a4 = a0 + 0.04;
  var a5 = a0 + 0.05;
  var a6 = a0 + 0.06;
  var a7 = a0 + 0.07;
  for (var k = 0u; k < p.iters; k++) {
    a0 = fma(a0, x, y); a1 = fma(a1, x, y); a2 = fma(a2, x, y); a3 = fma(a3, x, y);
    a4 = fma(a4, x, y); a5 = fma(a5, x, y); a6 = fma(a6, x, y); a7 = fma(a7, x, y);
    a0 = fma(a0, x, y); a1 = fma(a1, x, y); a2 = fma(a2, x, y); a3 = fma(a3, x, y);
    a4 = fma(a4, x, y); a5 = fma(a5, x, y); a6 = fma(a6, x, y); a7 = fma(a7, x, y);
    a0 = fma(a0, x, y); a1 = fma(a1, x, y); a2 = fma(a2, x, y); a3 = fma(a3, x, y);
    a4 = fma(a4, x, y); a5 = fma(a5, x, y); a6 = fma(a6, x, y); a7 = fma(a7, x, y);
    a0 = fma(a0, x, y); a1 = fma(a1, x, y); a2 = fma(a2, x, y); a3 = fma(a3, x, y);
    a4 = fma(a4, x, y); a5 = fma(a5, x, y); a6 = fma(a6, x, y); a7 = fma(a7, x, y);
  }
  let r = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
  if (r.x == p.sentinel) { dst[i] = r; }
}

@compute @workgroup_size(WG)
fn copy_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = linear(wid, nwg, lid);
  if (i >= p.n) { return; }
  dst[i] = src[i];
}

@compute @workgroup_size(WG)
fn copy_vec4_x4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = linear(wid, nwg, lid);
  let q = p.n / 4u;
  if (i >= q) { return; }
  let v0 = src[i];
  let v1 = src[i + q];
  let v2 = src[i + 2u * q];
  let v3 = src[i + 3u * q];
  dst[i] = v0;
  dst[i + q] = v1;
  dst[i + 2u * q] = v2;
  dst[i + 3u * q] = v3;
}
