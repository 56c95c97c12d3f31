// Interleaved comparison: old kernel (ops.matmul) vs generated variants; cpu-time and GPU timestamps.
import { execSync } from 'node:child_process';
import { createEngine, ops } from '../../src/index.js';
import { rand, median } from './util.js';
const n = Number(process.argv[2]);
const rounds = Number(process.argv[3]);
const cfgs = process.argv.slice(4).map((s) => s.split(':'));
const src = execSync(`python3 ${new URL('./gen2.py', import.meta.url).pathname} ${[...new Set(cfgs.map((c) => c[0]))].join(' ')}`).toString();
const e = await createEngine();
e.kernels.define('g2', src);
const a = e.tensor(rand(n * n, 1), [n, n]), b = e.tensor(rand(n * n, 2), [n, n]);
const c = e.empty([n, n]);
const runs: { name: string; run: () => void; cpu: number[]; gpu: number[] }[] = [
  { name: 'current ops.matmul', run: () => ops.matmul(a, b).dispose(), cpu: [], gpu: [] },
  ...cfgs.map(([cfg, wg]) => {
    const [TM, TN4] = cfg!.split(',').map(Number) as [number, number];
    const WG = Number(wg);
    return { name: `g_${TM}_${TN4} WG${WG}`, run: () => e.run('g2', `g_${TM}_${TN4}`, { bind: { a4: a, b4: b, c4: c }, params: { M: n, N: n, K: n, batch: 1 }, constants: { WG }, workgroups: [Math.ceil(n / (WG * TN4 * 4)), Math.ceil(n / TM), 1] }), cpu: [], gpu: [] };
  }),
];
for (const r of runs) { r.run(); await e.sync(); }
for (let i = 0; i < rounds; i++) for (const r of runs) {
  const c0 = process.cpuUsage(); e.startProfiling(); r.run(); r.gpu.push((await e.stopProfiling())[0]!.ms); const d = process.cpuUsage(c0); r.cpu.push((d.user + d.system) / 1000);
}
for (const r of runs) {
  const cm = median(r.cpu), gm = median(r.gpu), gb = Math.min(...r.gpu);
  console.log(r.name.padEnd(22), 'cpu-ms med', cm.toFixed(0).padStart(5), ' 2core-eq', ((2 * n ** 3) / (cm / 2) / 1e6).toFixed(1).padStart(5), '| gpu ms med', gm.toFixed(1), 'best', gb.toFixed(1), '→', ((2 * n ** 3) / gb / 1e6).toFixed(1), 'GFLOP/s');
}
e.destroy();
