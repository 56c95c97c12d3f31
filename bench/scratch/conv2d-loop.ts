import { createEngine } from '../../src/index.js';
const e = await createEngine();
const mk = (k: number, load: string) => {
  const decl = Array.from({ length: k }, (_, j) => `var a${j} = f32(lid.x + ${j}u);`).join(' ');
  const body = Array.from({ length: k }, (_, j) => `a${j} = fma(a${j}, ${load.replace('J', String(j))}, 0.5);`).join(' ');
  const sum = Array.from({ length: k }, (_, j) => `a${j}`).join(' + ');
  return { decl, body, sum };
};
const cases: [string, number, string, string][] = [
  ['const-bound fma x1', 1, 'v', 'for (var i = 0u; i < 4096u; i++) {'],
  ['param-bound fma x1', 1, 'v', 'for (var i = 0u; i < p.n; i++) {'],
  ['param-bound fma x16', 16, 'v', 'for (var i = 0u; i < p.n; i++) {'],
  ['param-bound fma x16 +16 uniform ssbo', 16, 'xp[i + J]', 'for (var i = 0u; i < p.n; i++) {'],
  ['param-bound fma x16 +1 uniform ssbo', 16, 'u', 'for (var i = 0u; i < p.n; i++) { let u = xp[i];'],
  ['param-bound fma x16 +1 contig ssbo', 16, 'u', 'for (var i = 0u; i < p.n; i++) { let u = xp[i * 64u + lid.x];'],
  ['param-bound fma x16 +4 vec4 uniform', 16, 'u[J % 4u]', 'for (var i = 0u; i < p.n; i++) { let u = x4[i];'],
];
const xp = e.tensor(new Float32Array(1 << 20).fill(1), [1 << 20]);
const out = e.empty([64 * 256]);
let id = 0;
for (const [name, k, load, loop] of cases) {
  const { decl, body, sum } = mk(k, load);
  const fam = `lp${id++}`;
  e.kernels.define(fam, `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xp: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn k(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let v = f32(wid.x + p.n * 0u);
  ${decl}
  ${loop} ${body} }
  out[wid.x * 64u + lid.x] = ${sum};
}`);
  const bind: Record<string, typeof xp> = { out };
  const src = loop + body;
  if (src.includes('xp[')) bind.xp = xp;
  if (src.includes('x4[')) bind.x4 = xp;
  const run = () => e.run(fam, 'k', { bind, params: { n: 4096 }, workgroups: 256 });
  run(); await e.sync();
  e.startProfiling(); run(); run(); run();
  const t = (await e.stopProfiling()).map((x) => x.ms).sort((a, b) => a - b)[1]!;
  const steps = 256 * 64 * 4096 / 8;
  console.log(`${name.padEnd(40)} ${t.toFixed(1)} ms  ~${((t * 1e-3) * 2 * 3e9 / steps).toFixed(1)} cycles/iter  ${(steps * 8 * k * 2 / (t * 1e-3) / 1e9).toFixed(1)} GFLOP/s`);
}
e.destroy();
