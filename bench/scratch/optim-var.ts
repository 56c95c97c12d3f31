import { createEngine } from '../../src/index.js';
const e = await createEngine();
const N = 11_200_000;
const src = `
override WG: u32 = 256;
override PER: u32 = 4;
struct Params { n: u32, m: f32, one_minus_m: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(6) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read_write> param4: array<vec4f>;
@group(0) @binding(3) var<storage, read> source4: array<vec4f>;
@compute @workgroup_size(WG)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.n) { return; }
  param[i] = p.m * param[i] + p.one_minus_m * source[i];
}
@compute @workgroup_size(WG)
fn scalar_nocheck(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  let x = param[i];
  let s = source[i];
  if (i < p.n) { param[i] = p.m * x + p.one_minus_m * s; }
}
@compute @workgroup_size(WG)
fn multi(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let base = (wid.x + wid.y * nwg.x) * WG * PER + lid.x;
  for (var k = 0u; k < PER; k++) {
    let i = base + k * WG;
    if (i < p.n) { param[i] = p.m * param[i] + p.one_minus_m * source[i]; }
  }
}
@compute @workgroup_size(WG)
fn vec4k(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= p.n / 4u) { return; }
  param4[i] = p.m * param4[i] + p.one_minus_m * source4[i];
}
`;
e.kernels.define('optvar', src);
const a = e.tensor(new Float32Array(N).fill(1), [N]);
const b = e.tensor(new Float32Array(N).fill(2), [N]);
const runs: [string, () => void][] = [
  ['scalar', () => e.run('optvar', 'scalar', { bind: { param: a, source: b }, params: { n: N, m: 0.9, one_minus_m: 0.1 }, workgroups: Math.ceil(N / 256) })],
  ['scalar_nocheck', () => e.run('optvar', 'scalar_nocheck', { bind: { param: a, source: b }, params: { n: N, m: 0.9, one_minus_m: 0.1 }, workgroups: Math.ceil(N / 256) })],
  ['multi4', () => e.run('optvar', 'multi', { bind: { param: a, source: b }, params: { n: N, m: 0.9, one_minus_m: 0.1 }, workgroups: Math.ceil(N / 1024) })],
  ['multi16', () => e.run('optvar', 'multi', { bind: { param: a, source: b }, params: { n: N, m: 0.9, one_minus_m: 0.1 }, constants: { PER: 16 }, workgroups: Math.ceil(N / 4096) })],
  ['vec4', () => e.run('optvar', 'vec4k', { bind: { param4: a, source4: b }, params: { n: N, m: 0.9, one_minus_m: 0.1 }, workgroups: Math.ceil(N / 1024) })],
  ['vec4 wg64', () => e.run('optvar', 'vec4k', { bind: { param4: a, source4: b }, params: { n: N, m: 0.9, one_minus_m: 0.1 }, constants: { WG: 64 }, workgroups: Math.ceil(N / 256) })],
];
for (const [name, fn] of runs) {
  fn(); await e.sync();
  const ms: number[] = [];
  for (let r = 0; r < 5; r++) { e.startProfiling(); fn(); const t = await e.stopProfiling(); ms.push(t[0]!.ms); }
  ms.sort((x, y) => x - y);
  console.log(`${name.padEnd(16)} ${ms[2]!.toFixed(1)} ms  ${(12 * N / ms[2]! / 1e6).toFixed(2)} GB/s`);
}
e.destroy();
