// GPU time (timestamp queries) of one op call on lavapipe measured two ways: the bench's way (the
// timestamps' readback mapped at once, so the host spins while the op runs) and with the host
// settled first (sleeping and probing: GpuContext.settle), for matmul 1024³ and the calibration's
// FMA kernel. Run: npx tsx bench/scratch/spin-vs-settle.ts
import { createEngine, ops } from '../../src/index.js';
import { median, rand } from './util.js';

const e = await createEngine();
const n = 1024;
const a = e.tensor(rand(n * n), [n, n]);
const b = e.tensor(rand(n * n, 2), [n, n]);
const plan = { sleep: 0, every: 2, growth: 1.5, maxEvery: 20 };
async function time(settle: boolean): Promise<number> {
  await e.sync();
  e.startProfiling();
  const c = ops.matmul(a, b);
  if (settle) await e.ctx.settle(plan);
  const t = await e.stopProfiling();
  c.dispose();
  return t.reduce((s, k) => s + k.ms, 0);
}
await time(false);
const spin: number[] = [];
const settled: number[] = [];
for (let r = 0; r < 7; r++) {
  spin.push(await time(false));
  settled.push(await time(true));
}
const gf = (ms: number) => ((2 * n ** 3) / ms / 1e6).toFixed(1);
console.log(`matmul ${n}³: spinning ${median(spin).toFixed(1)} ms (${gf(median(spin))} GFLOP/s), settled ${median(settled).toFixed(1)} ms (${gf(median(settled))} GFLOP/s)`);
e.destroy();
