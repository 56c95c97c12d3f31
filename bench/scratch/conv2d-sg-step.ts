// ResNet-18 ×0.25 CIFAR training step (the bench's "training step" model, AutoMix off) with conv2d forced
// to the old static rule (im2col where it applied: tuner force 'im2col') vs the current static rule ('sg'
// where it applies), interleaved A,B,A,B in one process (replay off, so each step makes its choices):
// median wall ms per step, GPU ms (timestamps, conv kernels split out) and process CPU ms.
// Run: npx tsx bench/scratch/conv2d-sg-step.ts [batch] [rounds]
import { createEngine } from '../../src/index.js';
import { tunerOf } from '../../src/tune/tuner.js';
import type { TuneConfig } from '../../src/tune/types.js';
import { makeStep } from '../steps.js';
const B = Number(process.argv[2] ?? 32);
const ROUNDS = Number(process.argv[3] ?? 5);
const e = await createEngine();
const bench = await makeStep('resnet18', 0.25, 'none', B, 'off')(e);
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const sides: Record<'old' | 'new', { force: TuneConfig | null }> = { old: { force: { variant: 'im2col', constants: {} } }, new: { force: null } };
const res: Record<string, { wall: number[]; gpu: number[]; conv: number[]; cpu: number[] }> = {};
for (const name of ['old', 'new'] as const) { tunerOf(e).force('conv2d', sides[name].force); await bench.step(); await bench.step(); }
for (let r = 0; r < ROUNDS; r++) {
  for (const name of ['old', 'new'] as const) {
    tunerOf(e).force('conv2d', sides[name].force);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    e.startProfiling();
    await bench.step();
    const wall = performance.now() - t0;
    const tim = await e.stopProfiling();
    const c1 = process.cpuUsage(c0);
    const s = (res[name] ??= { wall: [], gpu: [], conv: [], cpu: [] });
    s.wall.push(wall);
    s.cpu.push((c1.user + c1.system) / 1e3);
    s.gpu.push(tim.reduce((a, k) => a + k.ms, 0));
    // conv kernels: the sg kernels, im2col re-layouts, and the matmuls the im2col path launches (matmul also runs the fc layer: small).
    s.conv.push(tim.filter((k) => /^(conv2d|im2col|matmul)/.test(k.kernel)).reduce((a, k) => a + k.ms, 0));
  }
}
for (const [name, s] of Object.entries(res)) {
  console.log(`${name.padEnd(4)} wall ${med(s.wall).toFixed(0)} ms (${(B / med(s.wall) * 1e3).toFixed(1)} img/s)  gpu ${med(s.gpu).toFixed(0)}  conv+matmul ${med(s.conv).toFixed(0)}  cpu ${med(s.cpu).toFixed(0)} ms   walls ${s.wall.map((v) => v.toFixed(0)).join(' ')}`);
}
tunerOf(e).force('conv2d', null);
bench.dispose?.();
e.destroy();
