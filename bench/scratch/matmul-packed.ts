// sg8 vs sg8 with packed operands (matmul-pack.wgsl here + matmul_sg.wgsl patched to read them),
// interleaved in one process; wall-clock and process CPU time (2-core-eq) per call.
// npx tsx bench/scratch/matmul-packed.ts [M,N,K[,NN|NT|TN|TT]] ...   (default 256³ 512³ 1024³ NN)
import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { rand, median } from './util.js';
const e = await createEngine();
// matmul_sg8 patched to read packed operands (PACK_A / PACK_B; same loads per k step, same FMAs in the same order)
const sg = readFileSync(new URL('../../kernels/matmul_sg.wgsl', import.meta.url), 'utf8');
const patch = (src: string, from: string, to: string) => { if (!src.includes(from)) throw new Error(`patch: '${from.slice(0, 40)}' not found`); return src.replace(from, to); };
let sgp = patch(sg, 'override TM: u32 = 16u;', 'override TM: u32 = 16u;\noverride PACK_A: bool = false;\noverride PACK_B: bool = false;');
sgp = patch(sgp, 'fn load_a(abase: u32, m0: u32, r: u32, k4: u32, l: u32) -> vec4f {', 'fn load_a(abase: u32, m0: u32, r: u32, k4: u32, l: u32) -> vec4f {\n  if (PACK_A) { return a[abase + ((m0 / TM) * (p.K / 4u) + k4) * TM + r + l]; }');
sgp = patch(sgp, '  if (TRANS_A) {\n    // lane j holds', '  if (TRANS_A && !PACK_A) {\n    // lane j holds');
sgp = patch(sgp, '    if (TRANS_B) {\n      // B is [N, K]', '    if (PACK_B) {\n      let kb = bbase + (wid.x * p.K + 4u * k4) * 8u + l;\n      bk0 = b[kb]; bk1 = b[kb + 8u]; bk2 = b[kb + 16u]; bk3 = b[kb + 24u];\n    } else if (TRANS_B) {\n      // B is [N, K]');
e.kernels.define('matmul_sgp', sgp);
e.kernels.define('matmul_pack', readFileSync(new URL('./matmul-pack.wgsl', import.meta.url), 'utf8'));
const args = process.argv.slice(2);
const shapes = (args.length ? args : ['256,256,256', '512,512,512', '1024,1024,1024']).map((s) => {
  const [M, N, K, lay] = s.split(',');
  return { M: +M!, N: +N!, K: +K!, tA: lay?.[0] === 'T', tB: lay?.[1] === 'T' };
});
const TM = +(process.env.TM ?? 32);
// calls per measurement (timed together; figures are per call)
const REP = +(process.env.PER ?? 1);
for (const { M, N, K, tA, tB } of shapes) {
  const a = e.tensor(rand(M * K, 1), tA ? [K, M] : [M, K]), b = e.tensor(rand(K * N, 2), tB ? [N, K] : [K, N]);
  const c = e.empty([M, N]);
  const mT = Math.ceil(M / TM), nS = Math.ceil(N / 32);
  const flags = { TRANS_A: tA ? 1 : 0, TRANS_B: tB ? 1 : 0, HAS_BIAS: 0, ACT: 0, TM };
  const grid: [number, number, number] = [nS, mT, 1];
  const params = { M, N, K, batch: 1, a_batch_stride: 0, b_batch_stride: 0 };
  const packA = (out: Tensor) => { const n = mT * (K / 4) * TM; e.run('matmul_pack', 'pack_a', { bind: { x: a, x4: a, out }, params: { rows: M, cols: K, batch: 1, src_batch_stride: 0, n }, constants: { TRANS: tA ? 1 : 0, P: TM }, workgroups: Math.ceil(n / 64) }); };
  const packB = (out: Tensor) => { const n = nS * K * 8; e.run('matmul_pack', 'pack_b', { bind: { x: b, x4: b, out }, params: { rows: K, cols: N, batch: 1, src_batch_stride: 0, n }, constants: { TRANS: tB ? 1 : 0 }, workgroups: Math.ceil(n / 64) }); };
  const ap = e.empty([mT * TM * K]), bp = e.empty([nS * 32 * K]);
  packA(ap); packB(bp);
  const main = (pa: boolean, pb: boolean) => e.run('matmul_sgp', 'matmul_sg8', { bind: { a: pa ? ap : a, b: pb ? bp : b, bias: e.placeholder(), c }, params, constants: { ...flags, PACK_A: pa ? 1 : 0, PACK_B: pb ? 1 : 0 }, workgroups: grid });
  const which = (process.env.RUNS ?? 'sg8,packAB,packAB(pre),packA,packB,packA(only),packB(only)').split(',');
  const all: Record<string, () => void> = {
    sg8: () => main(false, false),
    packAB: () => { packA(ap); packB(bp); main(true, true); },
    'packAB(pre)': () => main(true, true),
    packA: () => { packA(ap); main(true, false); },
    packB: () => { packB(bp); main(false, true); },
    'packA(only)': () => packA(ap),
    'packB(only)': () => packB(bp),
  };
  const runs = which.map((w) => [w, all[w]!] as const);
  // correctness: bit-identical outputs
  const outs: Float32Array[] = [];
  for (const [, r] of runs.filter(([w]) => !w.includes('only'))) { r(); outs.push(await c.read() as Float32Array); }
  const same = outs.every((o) => o.every((v, i) => Object.is(v, outs[0]![i])));
  const wall: number[][] = runs.map(() => []), cpu: number[][] = runs.map(() => []), gpu: number[][] = runs.map(() => []);
  const fl = 2 * M * N * K;
  const reps = +(process.env.REPS ?? (fl > 1e9 ? 5 : fl > 1e8 ? 9 : 15));
  for (let i = 0; i < reps; i++) for (let j = 0; j < runs.length; j++) {
    await e.sync();
    const c0 = process.cpuUsage(); const t0 = performance.now();
    e.startProfiling(); for (let r = 0; r < REP; r++) runs[j]![1](); const ts = await e.stopProfiling();
    wall[j]!.push(performance.now() - t0); const d = process.cpuUsage(c0); cpu[j]!.push((d.user + d.system) / 1000);
    gpu[j]!.push(ts.reduce((s, x) => s + x.ms, 0));
  }
  const lay = `${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`;
  console.log(`${M}×${N}×${K} ${lay} TM${TM} bit-identical: ${same}`);
  for (let j = 0; j < runs.length; j++) {
    const w = median(wall[j]!) / REP, cc = median(cpu[j]!) / REP, g = median(gpu[j]!) / REP, gmin = Math.min(...gpu[j]!) / REP;
    console.log(`  ${runs[j]![0].padEnd(12)} gpu ${g.toFixed(2).padStart(8)} ms ${(fl / g / 1e6).toFixed(1).padStart(5)} GFLOP/s (min ${gmin.toFixed(2)} ms ${(fl / gmin / 1e6).toFixed(1)}) | wall ${w.toFixed(2).padStart(8)} ms | cpu ${cc.toFixed(1).padStart(7)} ms → 2-core-eq ${(fl / (cc / 2) / 1e6).toFixed(1).padStart(5)}`);
  }
  for (const t of [a, b, c, ap, bp]) t.dispose();
}
e.destroy();
