import { execSync } from 'node:child_process';
import { createEngine, ops } from '../../src/index.js';
import { rand, median } from './util.js';
const n = Number(process.argv[2]);
const rounds = Number(process.argv[3]);
const cfgs = process.argv.slice(4);
const e = await createEngine();
console.log('subgroup sizes', (e.ctx.adapter.info as any).subgroupMinSize, (e.ctx.adapter.info as any).subgroupMaxSize);
e.kernels.define('g4', execSync(`python3 ${new URL('./gen4.py', import.meta.url).pathname} ${cfgs.join(' ')}`).toString());
const A = rand(n * n, 1), B = rand(n * n, 2);
const a = e.tensor(A, [n, n]), b = e.tensor(B, [n, n]);
const c = e.empty([n, n]);
const runs = [
  { name: 'current ops.matmul', run: () => ops.matmul(a, b).dispose(), cpu: [] as number[], gpu: [] as number[], check: false },
  ...cfgs.map((cfg) => {
    const [TM, TN4] = cfg.split(',').map(Number) as [number, number];
    return { name: `s_${TM}_${TN4}`, run: () => e.run('g4', `s_${TM}_${TN4}`, { bind: { a4: a, b4: b, c4: c }, params: { M: n, N: n, K: n, batch: 1 }, workgroups: [Math.ceil(n / (32 * TN4)), Math.ceil(n / TM), 1] }), cpu: [] as number[], gpu: [] as number[], check: true };
  }),
];
for (const r of runs) {
  r.run(); await e.sync();
  if (r.check) {
    const got = await c.read(); let err = 0;
    for (const [i, j] of [[0, 0], [n - 1, n - 1], [7, 13], [n >> 1, 3], [9, 100]]) { let s = 0; for (let k = 0; k < n; k++) s += A[i * n + k]! * B[k * n + j]!; err = Math.max(err, Math.abs(s - got[i * n + j]!)); }
    console.log(r.name, 'err', err.toExponential(1));
  }
}
for (let i = 0; i < rounds; i++) for (const r of runs) {
  const c0 = process.cpuUsage(); e.startProfiling(); r.run(); r.gpu.push((await e.stopProfiling())[0]!.ms); const d = process.cpuUsage(c0); r.cpu.push((d.user + d.system) / 1000);
}
for (const r of runs) {
  const cm = median(r.cpu), gm = median(r.gpu), gb = Math.min(...r.gpu);
  console.log(r.name.padEnd(22), 'cpu-ms med', cm.toFixed(0).padStart(5), ' 2core-eq', ((2 * n ** 3) / (cm / 2) / 1e6).toFixed(1).padStart(5), '| gpu ms med', gm.toFixed(1), 'best', gb.toFixed(1), '→', ((2 * n ** 3) / gb / 1e6).toFixed(1), 'GFLOP/s');
}
e.destroy();
