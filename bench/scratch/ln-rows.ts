// Layer norm passes (forward, backward into x, weight and bias) on ViT-tiny's rows at batch 32
// ([2080, 192]): median GPU ms per kernel over 7 rounds.
// Run: npx tsx bench/scratch/ln-rows.ts
import { createEngine, ops } from '../../src/index.js';
const e = await createEngine();
const R = 2080, D = 192;
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const per = new Map<string, number[]>();
for (let r = 0; r < 8; r++) {
  await e.asyncScope(async () => {
    const x = e.tensor(Float32Array.from({ length: R * D }, (_, i) => Math.sin(i)), [R, D], { requiresGrad: true });
    const w = e.tensor(new Float32Array(D).fill(1.1), [D], { requiresGrad: true });
    const b = e.tensor(new Float32Array(D).fill(0.1), [D], { requiresGrad: true });
    const dy = e.tensor(Float32Array.from({ length: R * D }, (_, i) => Math.cos(i)), [R, D]);
    await e.sync();
    e.startProfiling();
    const y = ops.layerNorm(x, w, b);
    ops.sum(ops.mul(y, dy)).backward();
    const t = await e.stopProfiling();
    if (r === 0) return;
    for (const k of t) if (k.kernel.startsWith('layernorm')) per.set(k.kernel, [...(per.get(k.kernel) ?? []), k.ms]);
  });
}
for (const [k, v] of per) console.log(k.padEnd(30), med(v).toFixed(2));
e.destroy();
