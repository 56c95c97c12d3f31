// sg8 (TM × 32 per workgroup) vs candidate kernels defined from files, interleaved in one
// process: GPU time (timestamps), wall clock and process CPU time (2-core-eq) per call.
// npx tsx bench/scratch/matmul-wide.ts [extra.wgsl (default matmul-wide.wgsl)] [M,N,K[,NN|NT|TN|TT]] ...
// (BASE=<file> replaces kernels/matmul_sg.wgsl, e.g. a probe with the loads removed)
// env: RUNS=name:entry:TM:colsPerWG,... PER=calls per measurement, REPS
import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
import { rand, median } from './util.js';
const e = await createEngine();
const argv = process.argv.slice(2);
const extra = argv[0]?.endsWith('.wgsl') ? argv.shift()! : new URL('./matmul-wide.wgsl', import.meta.url).pathname;
const args = argv;
const base = process.env.BASE ? readFileSync(process.env.BASE, 'utf8') : readFileSync(new URL('../../kernels/matmul_sg.wgsl', import.meta.url), 'utf8');
e.kernels.define('mmw', base + readFileSync(extra, 'utf8'));
const shapes = (args.length ? args : ['256,256,256', '512,512,512', '1024,1024,1024']).map((s) => {
  const [M, N, K, lay] = s.split(',');
  return { M: +M!, N: +N!, K: +K!, tA: lay?.[0] === 'T', tB: lay?.[1] === 'T' };
});
const REP = +(process.env.PER ?? 1);
const specs = (process.env.RUNS ?? 'sg8:matmul_sg8:32:32,w32:matmul_sg8_w:32:64,w16:matmul_sg8_w:16:64').split(',').map((s) => {
  const [name, entry, TM, cols] = s.split(':'); return { name: name!, entry: entry!, TM: +TM!, cols: +cols! };
});
for (const { M, N, K, tA, tB } of shapes) {
  const a = e.tensor(rand(M * K, 1), tA ? [K, M] : [M, K]), b = e.tensor(rand(K * N, 2), tB ? [N, K] : [K, N]);
  const c = e.empty([M, N]);
  const params = { M, N, K, batch: 1, a_batch_stride: 0, b_batch_stride: 0 };
  const runs = specs.map((s) => [s.name, () => e.run('mmw', s.entry, { bind: { a, b, bias: e.placeholder(), c }, params,
    constants: { TRANS_A: tA ? 1 : 0, TRANS_B: tB ? 1 : 0, HAS_BIAS: 0, ACT: 0, TM: s.TM }, workgroups: [Math.ceil(N / s.cols), Math.ceil(M / s.TM), 1] })] as const);
  const outs: Float32Array[] = [];
  for (const [, r] of runs) { r(); outs.push(await c.read() as Float32Array); }
  const same = outs.map((o) => o.every((v, i) => Object.is(v, outs[0]![i])));
  const wall: number[][] = runs.map(() => []), cpu: number[][] = runs.map(() => []), gpu: number[][] = runs.map(() => []);
  const fl = 2 * M * N * K;
  const reps = +(process.env.REPS ?? (fl * REP > 1e9 ? 5 : fl * REP > 1e8 ? 9 : 15));
  for (let i = 0; i < reps; i++) for (let j = 0; j < runs.length; j++) {
    await e.sync();
    const c0 = process.cpuUsage(); const t0 = performance.now();
    e.startProfiling(); for (let r = 0; r < REP; r++) runs[j]![1](); const ts = await e.stopProfiling();
    wall[j]!.push(performance.now() - t0); const d = process.cpuUsage(c0); cpu[j]!.push((d.user + d.system) / 1000);
    gpu[j]!.push(ts.reduce((s, x) => s + x.ms, 0));
  }
  console.log(`${M}×${N}×${K} ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} bit-identical to the first: ${same.join(' ')}`);
  for (let j = 0; j < runs.length; j++) {
    const w = median(wall[j]!) / REP, cc = median(cpu[j]!) / REP, g = median(gpu[j]!) / REP, gmin = Math.min(...gpu[j]!) / REP;
    console.log(`  ${runs[j]![0].padEnd(8)} gpu ${g.toFixed(2).padStart(8)} ms ${(fl / g / 1e6).toFixed(1).padStart(5)} GFLOP/s (min ${(fl / gmin / 1e6).toFixed(1).padStart(5)}) | wall ${w.toFixed(2).padStart(8)} ms | cpu ${cc.toFixed(1).padStart(7)} ms → 2-core-eq ${(fl / (cc / 2) / 1e6).toFixed(1).padStart(5)}`);
  }
  for (const t of [a, b, c]) t.dispose();
}
e.destroy();
