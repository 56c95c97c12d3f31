// matmul configurations compared interleaved (A, B, C, A, B, C, …) in one process through
// matmulRaw with the configuration forced: median GPU time (timestamps), its rate, and the
// median process CPU time → "2-core-eq" rate (robust to another process on the 2 cores).
// npx tsx bench/scratch/matmul-configs.ts [shape ...]
//   shape: MxNxK[:batch[A|B|AB]][:NN|NT|TN|TT]   e.g. 1024x1024x1024  32x196x288:32B  64x576x1568:1:NT
// env: CFGS="sg8 TM32,sg8 TM24,..." (describe() names), PER (calls per measurement), REPS
import { createEngine } from '../../src/index.js';
import { matmulRaw, MATMUL_TUNING, type MatmulProblem } from '../../src/ops/matmul.js';
import { tunerOf } from '../../src/tune/tuner.js';
import type { TuneConfig } from '../../src/tune/types.js';
import { rand, median } from './util.js';
const e = await createEngine();
const shapes = process.argv.slice(2).length ? process.argv.slice(2) : ['256x256x256', '512x512x512', '1024x1024x1024'];
const names = (process.env.CFGS ?? 'sg8 TM32,sg8 TM24,sg8 TM16').split(',');
const tuner = tunerOf(e);
for (const s of shapes) {
  const [mnk, bspec = '1', lay = 'NN'] = s.split(':');
  const [M, N, K] = mnk!.split('x').map(Number) as [number, number, number];
  const batch = parseInt(bspec!) || 1;
  const aB = batch > 1 && bspec!.includes('A'), bB = batch > 1 && bspec!.includes('B');
  const tA = lay![0] === 'T', tB = lay![1] === 'T';
  const p: MatmulProblem = { M, N, K, batch, aBatched: aB, bBatched: bB, transA: tA, transB: tB, bias: false, act: 'none' };
  const a = e.tensor(rand((aB ? batch : 1) * M * K, 1), [...(aB ? [batch] : []), ...(tA ? [K, M] : [M, K])]);
  const b = e.tensor(rand((bB ? batch : 1) * K * N, 2), [...(bB ? [batch] : []), ...(tB ? [N, K] : [K, N])]);
  const cands = [...MATMUL_TUNING.candidates(e, p), ...names.map((n): TuneConfig => ({ variant: n.split(' ')[0]!, constants: n.includes('TM') ? { TM: +n.split('TM')[1]! } : {} }))];
  const cfgs = names.map((n) => cands.find((c) => MATMUL_TUNING.describe(c) === n)).filter((c): c is TuneConfig => !!c && MATMUL_TUNING.valid(e, p, c));
  const run = (cfg: TuneConfig) => { tuner.force('matmul', cfg); matmulRaw(a, b, { transA: tA, transB: tB }).dispose(); tuner.force('matmul', null); };
  const outs: Float32Array[] = [];
  for (const cfg of cfgs) { tuner.force('matmul', cfg); const c = matmulRaw(a, b, { transA: tA, transB: tB }); tuner.force('matmul', null); outs.push(await c.read() as Float32Array); c.dispose(); }
  const same = outs.map((o) => o.every((v, i) => Object.is(v, outs[0]![i])));
  const fl = 2 * batch * M * N * K;
  const PER = +(process.env.PER ?? Math.max(1, Math.round(2e8 / fl)));
  const reps = +(process.env.REPS ?? (fl * PER > 1e9 ? 5 : 9));
  const gpu: number[][] = cfgs.map(() => []), cpu: number[][] = cfgs.map(() => []);
  for (let i = 0; i < reps; i++) for (let j = 0; j < cfgs.length; j++) {
    await e.sync();
    const c0 = process.cpuUsage();
    e.startProfiling(); for (let r = 0; r < PER; r++) run(cfgs[j]!); const ts = await e.stopProfiling();
    const d = process.cpuUsage(c0); cpu[j]!.push((d.user + d.system) / 1000 / PER);
    gpu[j]!.push(ts.reduce((x, t) => x + t.ms, 0) / PER);
  }
  console.log(`${s} (${PER} calls per measurement, ${reps} rounds) bit-identical to the first: ${same.join(' ')}`);
  for (let j = 0; j < cfgs.length; j++) {
    const g = median(gpu[j]!), c = median(cpu[j]!);
    console.log(`  ${MATMUL_TUNING.describe(cfgs[j]!).padEnd(16)} gpu ${g.toFixed(3).padStart(9)} ms ${(fl / g / 1e6).toFixed(1).padStart(5)} GFLOP/s | cpu ${c.toFixed(2).padStart(8)} ms → 2-core-eq ${(fl / (c / 2) / 1e6).toFixed(1).padStart(5)}`);
  }
  a.dispose(); b.dispose();
}
e.destroy();
