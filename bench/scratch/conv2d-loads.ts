import { createEngine } from '../../src/index.js';
const e = await createEngine();
const variants: Record<string, string> = {
  fma_only: `for (var i = 0u; i < p.n; i++) { a = fma(a, 0.999, f32(i)); }`,
  ssbo_uniform: `for (var i = 0u; i < p.n; i++) { a = fma(xp[wid.x + i], 0.999, a); }`,
  ssbo_contig: `for (var i = 0u; i < p.n; i++) { a = fma(xp[i * 64u + lid.x], 0.999, a); }`,
  ssbo_strided: `for (var i = 0u; i < p.n; i++) { a = fma(xp[i + lid.x * 577u], 0.999, a); }`,
  ssbo_vec4_uniform: `for (var i = 0u; i < p.n; i += 4u) { let v = x4[(wid.x + i) / 4u]; a = fma(v.x, 0.999, a); a = fma(v.y, 0.999, a); a = fma(v.z, 0.999, a); a = fma(v.w, 0.999, a);}`,
  wg_uniform: `for (var i = 0u; i < p.n; i++) { a = fma(sh[i & 1023u], 0.999, a); }`,
  wg_contig: `for (var i = 0u; i < p.n; i++) { a = fma(sh[(i * 64u + lid.x) & 1023u], 0.999, a); }`,
};
const xp = e.tensor(new Float32Array(1 << 20).fill(1), [1 << 20]);
const out = e.empty([64 * 256]);
for (const [name, body] of Object.entries(variants)) {
  const fam = `ld_${name}`;
  e.kernels.define(fam, `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xp: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> sh: array<f32, 1024>;
@compute @workgroup_size(64)
fn k(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var a = 0.0;
  ${name.startsWith('wg') ? 'for (var j = lid.x; j < 1024u; j += 64u) { sh[j] = f32(j); } workgroupBarrier();' : ''}
  ${body}
  out[wid.x * 64u + lid.x] = a;
}`);
  const bind: Record<string, typeof xp> = { out };
  if (body.includes('xp[')) bind.xp = xp;
  if (body.includes('x4[')) bind.x4 = xp;
  const run = () => e.run(fam, 'k', { bind, params: { n: 4096 }, workgroups: 256 });
  run(); await e.sync();
  e.startProfiling(); run(); run(); run();
  const t = (await e.stopProfiling()).map((x) => x.ms).sort((a, b) => a - b)[1]!;
  const lanesteps = 256 * 64 * 4096;
  console.log(`${name.padEnd(20)} ${t.toFixed(1)} ms  ${(lanesteps / 8 / (t * 1e-3) / 1e9 / 2).toFixed(3)} G vector-steps/s/core  (~${((t * 1e-3) * 2 * 3e9 / (lanesteps / 8)).toFixed(1)} cycles per 8-lane step @3GHz)`);
}
e.destroy();
