// ResNet-18 ×0.25 CIFAR training step (the bench's "training step" model, AutoMix off, replayed as the
// bench runs it) with conv2d forced to the old static rule (im2col where it applied: tuner force 'im2col')
// vs the current static rule ('sg' where it applies): two engines in one process (a replayed step keeps the
// choices of its capture), steps interleaved A,B,A,B: median wall ms and process CPU ms per step.
// Run: npx tsx bench/scratch/conv2d-sg-step.ts [batch] [rounds] [replay auto|off]
import { createEngine } from '../../src/index.js';
import { tunerOf } from '../../src/tune/tuner.js';
import type { TuneConfig } from '../../src/tune/types.js';
import { makeStep } from '../steps.js';
const B = Number(process.argv[2] ?? 32);
const ROUNDS = Number(process.argv[3] ?? 5);
const replay = (process.argv[4] ?? 'auto') as 'auto' | 'off';
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const sides: Record<'old' | 'new', TuneConfig | null> = { old: { variant: 'im2col', constants: {} }, new: null };
const runs = {} as Record<'old' | 'new', { step: () => unknown; wall: number[]; cpu: number[] }>;
for (const name of ['old', 'new'] as const) {
  const e = await createEngine();
  tunerOf(e).force('conv2d', sides[name]);
  const bench = await makeStep('resnet18', 0.25, 'none', B, replay)(e);
  await bench.step();
  await bench.step();
  runs[name] = { step: bench.step, wall: [], cpu: [] };
}
for (let r = 0; r < ROUNDS; r++) {
  for (const name of ['old', 'new'] as const) {
    const s = runs[name];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await s.step();
    s.wall.push(performance.now() - t0);
    const c1 = process.cpuUsage(c0);
    s.cpu.push((c1.user + c1.system) / 1e3);
  }
}
for (const name of ['old', 'new'] as const) {
  const s = runs[name];
  console.log(`${name.padEnd(4)} batch ${B}: wall ${med(s.wall).toFixed(0)} ms (${((B / med(s.wall)) * 1e3).toFixed(1)} img/s), cpu ${med(s.cpu).toFixed(0)} ms; walls ${s.wall.map((v) => v.toFixed(0)).join(' ')}`);
}
process.exit(0);
