// Batch norm passes (fused training forward with ReLU, backward into x, weight and bias) on the
// ResNet-18 ×0.25 layer shapes of the 28×28 main job: GPU ms per kernel and per shape (median of rounds),
// and the bytes each pass must move at least, as GB/s.
// Run: npx tsx bench/scratch/bn-layers.ts [batch=100] [rounds=5]
import { createEngine, ops } from '../../src/index.js';

const B = Number(process.argv[2] ?? 100);
const ROUNDS = Number(process.argv[3] ?? 5);
const SHAPES = [
  [B, 16, 28, 28],
  [B, 32, 14, 14],
  [B, 64, 7, 7],
  [B, 128, 4, 4],
];
const e = await createEngine();
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
let total = 0;
for (const shape of SHAPES) {
  const n = shape.reduce((a, b) => a * b, 1);
  const C = shape[1]!;
  const per = new Map<string, number[]>();
  for (let r = 0; r <= ROUNDS; r++) {
    await e.asyncScope(async () => {
      const x = e.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 2 + 1), shape, { requiresGrad: true });
      const w = e.tensor(new Float32Array(C).fill(1.2), [C], { requiresGrad: true });
      const b = e.tensor(new Float32Array(C).fill(0.1), [C], { requiresGrad: true });
      const rm = e.tensor(new Float32Array(C), [C]);
      const rv = e.tensor(new Float32Array(C).fill(1), [C]);
      const dy = e.tensor(Float32Array.from({ length: n }, (_, i) => Math.cos(i)), shape);
      await e.sync();
      e.startProfiling();
      const y = ops.batchNorm2d(x, w, b, rm, rv, { training: true, relu: true });
      ops.sum(ops.mul(y, dy)).backward();
      const t = await e.stopProfiling();
      if (r === 0) return;
      const agg = new Map<string, number>();
      for (const k of t) if (k.kernel.startsWith('batchnorm')) agg.set(k.kernel, (agg.get(k.kernel) ?? 0) + k.ms);
      for (const [k, v] of agg) per.set(k, [...(per.get(k) ?? []), v]);
    });
  }
  const mb = (n * 4) / 1e6;
  console.log(`[${shape}] ${mb.toFixed(1)} MB per tensor`);
  for (const v of per.values()) total += med(v);
  for (const [k, v] of per) console.log(`  ${k.padEnd(36)} ${med(v).toFixed(2).padStart(8)} ms  ${(mb / med(v)).toFixed(2)} GB/s per tensor pass`);
}
console.log(`total ${total.toFixed(2)} ms`);
e.destroy();
