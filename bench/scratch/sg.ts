import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createEngine } from '../../src/index.js';
import { rand, median } from './util.js';
const n = Number(process.argv[2]);
const rounds = Number(process.argv[3]);
const e = await createEngine();
e.kernels.define('msg', readFileSync(new URL('../../kernels/matmul_sg.wgsl', import.meta.url), 'utf8'));
e.kernels.define('g4', execSync(`python3 ${new URL('./gen4.py', import.meta.url).pathname} 32,1 16,1`).toString());
const A = rand(n * n, 1), B = rand(n * n, 2);
const a = e.tensor(A, [n, n]), b = e.tensor(B, [n, n]);
const c = e.empty([n, n]);
const P = { M: n, N: n, K: n, batch: 1, a_batch_stride: 0, b_batch_stride: 0 };
const mk = (TM: number, ta: boolean, tb: boolean) => ({ name: `sg TM${TM} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`, ta, tb, run: () => e.run('msg', 'matmul_sg8', { bind: { a, b, bias: e.placeholder(), c }, params: P, constants: { TM, TRANS_A: +ta, TRANS_B: +tb }, workgroups: [n / 32, Math.ceil(n / TM), 1] }), cpu: [] as number[], gpu: [] as number[] });
const runs = [
  { name: 'gen s_32_1', ta: false, tb: false, run: () => e.run('g4', 's_32_1', { bind: { a4: a, b4: b, c4: c }, params: { M: n, N: n, K: n, batch: 1 }, workgroups: [n / 32, n / 32, 1] }), cpu: [] as number[], gpu: [] as number[] },
  mk(16, false, false), mk(32, false, false), mk(24, false, false), mk(32, true, false), mk(32, false, true), mk(32, true, true),
];
for (const r of runs) {
  r.run(); await e.sync();
  const got = await c.read(); let err = 0;
  for (const [i, j] of [[0, 0], [n - 1, n - 1], [7, 13], [n >> 1, 3], [9, 100]]) { let s = 0; for (let k = 0; k < n; k++) s += (r.ta ? A[k * n + i]! : A[i * n + k]!) * (r.tb ? B[j * n + k]! : B[k * n + j]!); err = Math.max(err, Math.abs(s - got[i * n + j]!)); }
  console.log(r.name, 'err', err.toExponential(1));
}
for (let i = 0; i < rounds; i++) for (const r of runs) {
  const c0 = process.cpuUsage(); e.startProfiling(); r.run(); r.gpu.push((await e.stopProfiling())[0]!.ms); const d = process.cpuUsage(c0); r.cpu.push((d.user + d.system) / 1000);
}
for (const r of runs) {
  const cm = median(r.cpu), gm = median(r.gpu), gb = Math.min(...r.gpu);
  console.log(r.name.padEnd(22), 'cpu-ms med', cm.toFixed(0).padStart(5), ' 2core-eq', ((2 * n ** 3) / (cm / 2) / 1e6).toFixed(1).padStart(5), '| gpu ms med', gm.toFixed(1), 'best', gb.toFixed(1), '→', ((2 * n ** 3) / gb / 1e6).toFixed(1), 'GFLOP/s');
}
e.destroy();
