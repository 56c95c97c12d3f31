import { execSync } from 'node:child_process';
import { createEngine } from '../../src/index.js';
import { rand, median } from './util.js';
const n = Number(process.argv[2]);
const cfgs = process.argv.slice(3).map((s) => s.split(':'));
const src = execSync(`python3 ${new URL('./gen2.py', import.meta.url).pathname} ${[...new Set(cfgs.map((c) => c[0]))].join(' ')}`).toString();
const e = await createEngine();
e.kernels.define('g2', src);
const A = rand(n * n, 1), B = rand(n * n, 2);
const a = e.tensor(A, [n, n]), b = e.tensor(B, [n, n]);
for (const [cfg, wg] of cfgs) {
  const [TM, TN4] = cfg!.split(',').map(Number) as [number, number];
  const WG = Number(wg);
  const c = e.empty([n, n]);
  const run = () => e.run('g2', `g_${TM}_${TN4}`, { bind: { a4: a, b4: b, c4: c }, params: { M: n, N: n, K: n, batch: 1 }, constants: { WG }, workgroups: [Math.ceil(n / (WG * TN4 * 4)), Math.ceil(n / TM), 1] });
  run(); await e.sync();
  const got = await c.read();
  let err = 0;
  for (const [i, j] of [[0, 0], [n - 1, n - 1], [7, 13], [n >> 1, 3]]) {
    let s = 0; for (let k = 0; k < n; k++) s += A[i * n + k]! * B[k * n + j]!;
    err = Math.max(err, Math.abs(s - got[i * n + j]!));
  }
  const cpu: number[] = [], gpu: number[] = [];
  for (let r = 0; r < 3; r++) { const c0 = process.cpuUsage(); e.startProfiling(); run(); gpu.push((await e.stopProfiling())[0]!.ms); const d = process.cpuUsage(c0); cpu.push((d.user + d.system) / 1000); }
  const cm = median(cpu), gm = Math.min(...gpu);
  console.log(n, cfg, 'WG', WG, 'cpu-ms', cm.toFixed(1), '2core-eq', ((2 * n ** 3) / (cm / 2) / 1e6).toFixed(1), '| gpu best ms', gm.toFixed(1), ((2 * n ** 3) / gm / 1e6).toFixed(1), 'GFLOP/s err', err.toExponential(1));
  c.dispose();
}
e.destroy();
