import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
import { rand, median } from './util.js';
const e = await createEngine();
e.kernels.define('mmx', readFileSync(new URL('./mm-exp.wgsl', import.meta.url), 'utf8'));
const n = Number(process.argv[2] ?? 512);
const configs = JSON.parse(process.argv[3] ?? '[]') as { entry: string; WG: number; TM: number; ta?: boolean; tb?: boolean; DBG?: number }[];
const a = e.tensor(rand(n * n, 1), [n, n]);
const b = e.tensor(rand(n * n, 2), [n, n]);
const A = rand(n * n, 1), B = rand(n * n, 2);
const runs = configs.map((cf) => {
  const c = e.empty([n, n]);
  const ta = cf.ta ?? false, tb = cf.tb ?? false;
  const cols = cf.entry.startsWith('mm_s') ? 1 : 4;
  const run = () => e.run('mmx', cf.entry, {
    bind: cf.entry !== 'mm_s' ? { a, b4: b, c4: c } : { a, b, c },
    params: { M: n, N: n, K: n, batch: 1, a_batch_stride: 0, b_batch_stride: 0 },
    constants: { DBG: cf.DBG ?? 0, WG: cf.WG, TM: cf.TM, TRANS_A: ta ? 1 : 0, TRANS_B: tb ? 1 : 0 },
    workgroups: [Math.ceil(n / (cf.WG * cols)), Math.ceil(n / (cf.entry === 'mm_u4' ? 4 : cf.TM)), 1],
  });
  return { cf, c, run, ta, tb, times: [] as number[], err: 0 };
});
for (const r of runs) {
  r.run(); await e.sync();
  const got = await r.c.read();
  for (const [i, j] of [[0, 0], [n - 1, n - 1], [7, 13], [n >> 1, 3]]) {
    let s = 0; for (let k = 0; k < n; k++) s += (r.ta ? A[k * n + i]! : A[i * n + k]!) * (r.tb ? B[j * n + k]! : B[k * n + j]!);
    r.err = Math.max(r.err, Math.abs(s - got[i * n + j]!));
  }
}
const rounds = Number(process.argv[4] ?? 4);
for (let round = 0; round < rounds; round++) for (const r of runs) {
  const c0 = process.cpuUsage(); r.run(); await e.sync(); const d = process.cpuUsage(c0); r.times.push((d.user + d.system) / 1000);
}
for (const r of runs) {
  const mn = Math.min(...r.times), md = median(r.times);
  console.log(n, JSON.stringify(r.cf), 'cpu-ms min', mn.toFixed(1), 'med', md.toFixed(1), '; 2-core-equiv GFLOP/s', ((2 * n ** 3) / (md / 2) / 1e6).toFixed(2), 'GFLOP/s', 'err', r.err.toExponential(1));
}
e.destroy();
