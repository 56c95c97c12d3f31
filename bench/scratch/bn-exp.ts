import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
const e = await createEngine();
const [N, C, H, W] = (process.argv.length >= 6 ? process.argv.slice(2, 6).map(Number) : [128, 64, 32, 32]) as [number, number, number, number];
const HW = H * W, L = N * HW, size = N * C * HW;
const x = e.tensor(new Float32Array(size).map(() => Math.random()), [N, C, H, W]);
const stats = e.tensor(new Float32Array(2 * C).fill(1), [2, C]);
const out = e.empty([N, C, H, W]);
const WG = 256;
const src = readFileSync('kernels/batchnorm.wgsl', 'utf8') + `
@compute @workgroup_size(WG)
fn bn_apply_rows(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let n0 = k * p.chunk;
  let n1 = min(n0 + p.chunk, p.units);
  let scale = stats[p.C + c] * w_of(c);
  let shift = b_of(c) - stats[c] * scale;
  for (var n = n0; n < n1; n++) {
    let base = (n * p.C + c) * p.HW;
    for (var hw = lid.x; hw < p.HW; hw += WG) {
      out[base + hw] = fma(x[base + hw], scale, shift);
    }
  }
}
@compute @workgroup_size(WG)
fn bn_apply_rows2(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.x;
  let c = wid.y;
  let r = chunk_units(k);
  let scale = stats[p.C + c] * w_of(c);
  let shift = b_of(c) - stats[c] * scale;
  for (var n = r.x; n < r.y; n++) {
    let base = (n * p.C + c) * p.HW;
    for (var hw = lid.x; hw < p.HW; hw += WG) { apply_at(base + hw, scale, shift); }
  }
}`;
e.kernels.define('bnx', src);
async function time(name: string, fn: () => void) {
  fn(); await e.sync();
  let best = 1e9;
  for (let r = 0; r < 8; r++) { e.startProfiling(); fn(); const t = await e.stopProfiling(); best = Math.min(best, t.reduce((a, b) => a + b.ms, 0)); }
  console.log(`${name}: ${best.toFixed(1)} ms, ${(2 * size * 4 / 1e6 / best).toFixed(2)} GB/s`);
}
const rowsPer = 4;
const base = { C, HW, L, CHW: C * HW, step_n: Math.floor(WG / HW), step_hw: WG % HW, units: N, unit: HW, chunk: rowsPer, chunks: Math.ceil(N / rowsPer) };
const bind = { x, stats, weight: e.placeholder(), bias: e.placeholder(), out };
for (let rep = 0; rep < 2; rep++) {
  await time('bn_apply ROW_MODE', () => e.run('bnx', 'bn_apply', { bind, params: base, constants: { WG, ROW_MODE: 1 }, workgroups: [base.chunks, C] }));
  await time('bn_apply_rows (plain)', () => e.run('bnx', 'bn_apply_rows', { bind, params: base, constants: { WG }, workgroups: [base.chunks, C] }));
  await time('bn_apply_rows2 (helper)', () => e.run('bnx', 'bn_apply_rows2', { bind, params: base, constants: { WG }, workgroups: [base.chunks, C] }));
  await time('walker', () => e.run('bnx', 'bn_apply', { bind, params: { ...base, units: L, unit: 1, chunk: 4096, chunks: Math.ceil(L / 4096) }, constants: { WG }, workgroups: [Math.ceil(L / 4096), C] }));
  await time('elementwise affine', () => e.run('elementwise', 'affine', { bind: { a: x, out }, params: { n: size, alpha: 2, beta: 1 }, workgroups: Math.ceil(size / 256) }));
}
e.destroy();
