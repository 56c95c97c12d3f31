// Experiment: sg8 with the workgroup → tile order changed (same arithmetic).
import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
import { rand, median } from './util.js';
const e = await createEngine();
const src = readFileSync(new URL('../../kernels/matmul_sg.wgsl', import.meta.url), 'utf8');
// ORDER 0: as is (N tiles fastest); 1: M tiles fastest; 2: groups of G M-tiles, N within group, M fastest
const mod = src
  .replace('override TM: u32 = 16u;', 'override TM: u32 = 16u;\noverride ORDER: u32 = 0u;\noverride G: u32 = 4u;')
  .replace('fn matmul_sg8(@builtin(workgroup_id) wid: vec3u,', 'fn matmul_sg8(@builtin(workgroup_id) wid0: vec3u, @builtin(num_workgroups) nwg: vec3u,')
  .replace('let l = lid.x;', `let l = lid.x;
  var wid = wid0;
  let nT = nwg.x; let mT = nwg.y;
  let t = wid0.y * nT + wid0.x;
  if (ORDER == 1u) { wid.x = t / mT; wid.y = t % mT; }
  if (ORDER == 2u) {
    let per = G * nT; let grp = t / per; let first = grp * G; let gs = min(mT - first, G);
    let r = t - grp * per; wid.y = first + r % gs; wid.x = r / gs;
  }`);
e.kernels.define('mmo', mod);
const shapes = (process.argv[2] ?? '256,512,1024').split(',').map(Number);
const configs: [string, Record<string, number>][] = [
  ['base', { ORDER: 0 }], ['mfast', { ORDER: 1 }], ['grp4', { ORDER: 2, G: 4 }], ['grp8', { ORDER: 2, G: 8 }], ['grp16', { ORDER: 2, G: 16 }],
];
for (const n of shapes) {
  const M = n, N = n, K = n;
  const a = e.tensor(rand(M * K, 1), [M, K]), b = e.tensor(rand(K * N, 2), [K, N]);
  const TM = +(process.env.TM ?? 32);
  const c = e.empty([M, N]);
  const runs = configs.map(([name, k]) => [name, () => e.run('mmo', 'matmul_sg8', {
    bind: { a, b, bias: e.placeholder(), c }, params: { M, N, K, batch: 1, a_batch_stride: 0, b_batch_stride: 0 },
    constants: { TRANS_A: 0, TRANS_B: 0, HAS_BIAS: 0, ACT: 0, TM, ...k }, workgroups: [Math.ceil(N / 32), Math.ceil(M / TM), 1] })] as const);
  for (const [, r] of runs) { r(); await e.sync(); }
  const wall: number[][] = runs.map(() => []), cpu: number[][] = runs.map(() => []);
  const reps = +(process.env.REPS ?? (n >= 1024 ? 5 : 9));
  for (let i = 0; i < reps; i++) for (let j = 0; j < runs.length; j++) {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    runs[j]![1](); await e.sync();
    wall[j]!.push(performance.now() - t0); const d = process.cpuUsage(c0); cpu[j]!.push((d.user + d.system) / 1000);
  }
  const fl = 2 * M * N * K;
  for (let j = 0; j < runs.length; j++) {
    const w = median(wall[j]!), cc = median(cpu[j]!);
    console.log(`${n}³ ${runs[j]![0].padEnd(6)} wall ${w.toFixed(1).padStart(7)} ms ${(fl / w / 1e6).toFixed(1).padStart(5)} GFLOP/s | cpu ${cc.toFixed(0).padStart(5)} ms → 2-core-eq ${(fl / (cc / 2) / 1e6).toFixed(1).padStart(5)}`);
  }
  a.dispose(); b.dispose(); c.dispose();
}
e.destroy();
