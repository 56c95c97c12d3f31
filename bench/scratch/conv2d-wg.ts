import { createEngine } from '../../src/index.js';
const e = await createEngine();
const cases: [string, string][] = [
  ['no loads', `let u = vec4f(f32(i));`],
  ['wg vec4 lane', `let u = s4[(i * 8u + lid.x) & 255u];`],
  ['wg vec4 uniform', `let u = s4[i & 255u];`],
  ['wg 2x vec4 lane', `let u = s4[(i * 8u + lid.x) & 255u] + s4[(i * 8u + lid.x + 64u) & 255u];`],
  ['wg scalar lane', `let u = vec4f(s1[(i * 8u + lid.x) & 1023u]);`],
];
const out = e.empty([64 * 256]);
let id = 0;
for (const [name, pre] of cases) {
  const decl = Array.from({ length: 16 }, (_, j) => `var a${j} = f32(lid.x + ${j}u);`).join(' ');
  const body = Array.from({ length: 16 }, (_, j) => `a${j} = fma(u[${j % 4}], a${j}, 0.5);`).join(' ');
  const sum = Array.from({ length: 16 }, (_, j) => `a${j}`).join(' + ');
  const fam = `wq${id++}`;
  e.kernels.define(fam, `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> s4: array<vec4f, 256>;
var<workgroup> s1: array<f32, 1024>;
@compute @workgroup_size(64)
fn k(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  for (var j = lid.x; j < 256u; j += 64u) { s4[j] = vec4f(f32(j)); s1[j] = f32(j); s1[j + 256u] = 1.0; s1[j + 512u] = 1.0; s1[j + 768u] = 1.0; }
  workgroupBarrier();
  ${decl}
  for (var i = 0u; i < p.n; i++) { ${pre} ${body} }
  out[wid.x * 64u + lid.x] = ${sum};
}`);
  const run = () => e.run(fam, 'k', { bind: { out }, params: { n: 1024 }, workgroups: 256 });
  run(); await e.sync();
  e.startProfiling(); run(); run(); run();
  const t = (await e.stopProfiling()).map((x) => x.ms).sort((a, b) => a - b)[1]!;
  const steps = 256 * 64 * 1024 / 8;
  console.log(`${name.padEnd(24)} ${t.toFixed(1)} ms  ~${((t * 1e-3) * 2 * 3e9 / steps).toFixed(1)} cycles/iter`);
}
e.destroy();
