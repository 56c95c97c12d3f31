import { createEngine } from '../../src/index.js';
const e = await createEngine();
// body generators: return [decl, body, sum]
const cases: [string, string, number][] = [
  ['16 fma, no loads', `let u = vec4f(f32(i));`, 0],
  ['16 fma, 1 vec4 lane load', `let u = x4[i * 64u + lid.x];`, 1],
  ['16 fma, 4 vec4 lane loads', `let u = x4[i * 256u + lid.x] + x4[i * 256u + 64u + lid.x] + x4[i * 256u + 128u + lid.x] + x4[i * 256u + 192u + lid.x];`, 4],
  ['16 fma, 4 scalar lane loads', `let u = vec4f(xp[i * 256u + lid.x], xp[i * 256u + 64u + lid.x], xp[i * 256u + 128u + lid.x], xp[i * 256u + 192u + lid.x]);`, 4],
  ['16 fma, 1 vec4 uniform load', `let u = x4[i + wid.x];`, 1],
  ['16 fma, 1 vec4 lane load + 4 sg bcast', `let w = x4[i * 64u + lid.x]; let u = vec4f(subgroupBroadcast(w.x, 0u), subgroupBroadcast(w.y, 1u), subgroupBroadcast(w.z, 2u), subgroupBroadcast(w.w, 3u));`, 1],
];
const xp = e.tensor(new Float32Array(1 << 22).fill(1), [1 << 22]);
const out = e.empty([64 * 256]);
let id = 0;
for (const [name, pre, nl] of cases) {
  const decl = Array.from({ length: 16 }, (_, j) => `var a${j} = f32(lid.x + ${j}u);`).join(' ');
  const body = Array.from({ length: 16 }, (_, j) => `a${j} = fma(u[${j % 4}], a${j}, 0.5);`).join(' ');
  const sum = Array.from({ length: 16 }, (_, j) => `a${j}`).join(' + ');
  const fam = `lq${id++}`;
  e.kernels.define(fam, `${name.includes('sg') ? 'enable subgroups;' : ''}
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xp: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn k(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  ${decl}
  for (var i = 0u; i < p.n; i++) { ${pre} ${body} }
  out[wid.x * 64u + lid.x] = ${sum};
}`);
  const bind: Record<string, typeof xp> = { out };
  if (pre.includes('xp[')) bind.xp = xp;
  if (pre.includes('x4[')) bind.x4 = xp;
  const run = () => e.run(fam, 'k', { bind, params: { n: 1024 }, workgroups: 256 });
  try { run(); await e.sync(); } catch (err) { console.log(name, 'failed', String(err).slice(0, 200)); continue; }
  e.startProfiling(); run(); run(); run();
  const t = (await e.stopProfiling()).map((x) => x.ms).sort((a, b) => a - b)[1]!;
  const steps = 256 * 64 * 1024 / 8;
  console.log(`${name.padEnd(40)} ${t.toFixed(1)} ms  ~${((t * 1e-3) * 2 * 3e9 / steps).toFixed(1)} cycles/iter`);
}
e.destroy();
