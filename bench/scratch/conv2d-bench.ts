// conv2d 3×3, N=32, 64→64, 32×32, stride 1, pad 1: forward, grad-input, grad-weight.
// Timestamp queries per dispatch; median of REPS runs. Run: npx tsx bench/scratch/conv2d-bench.ts
import { createEngine, ops } from '../../src/index.js';
import { conv2dForwardRaw, conv2dGradInputRaw, conv2dGradWeightRaw } from '../../src/ops/conv2d.js';
const randn = (n: number, seed: number) => { let s = seed; const a = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = s / 2 ** 31 - 1; } return a; };
const REPS = Number(process.env.REPS ?? 5);
const e = await createEngine();
const [N, C, O, H, W] = [32, 64, 64, 32, 32];
const x = e.tensor(randn(N * C * H * W, 1), [N, C, H, W]);
const w = e.tensor(randn(O * C * 9, 2), [O, C, 3, 3]);
const dy = e.tensor(randn(N * O * H * W, 3), [N, O, H, W]);
const flops = 2 * N * O * H * W * C * 9;
const o = { padding: 1 };
const passes: [string, () => void][] = [
  ['forward', () => conv2dForwardRaw(x, w, null, o).dispose()],
  ['grad-input', () => conv2dGradInputRaw(dy, w, x.shape, o).dispose()],
  ['grad-weight', () => conv2dGradWeightRaw(x, dy, w.shape, o).dispose()],
];
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
let total = 0;
for (const [name, f] of passes) {
  f(); await e.sync();
  const runs: number[] = [];
  const per: Record<string, number[]> = {};
  for (let r = 0; r < REPS; r++) {
    e.startProfiling();
    f();
    const t = await e.stopProfiling();
    runs.push(t.reduce((s, k) => s + k.ms, 0));
    for (const k of t) (per[k.kernel] ??= []).push(k.ms);
  }
  const m = med(runs);
  total += m;
  console.log(`${name.padEnd(12)} ${m.toFixed(1)} ms  ${(flops / m / 1e6).toFixed(1)} GFLOP/s   [${Object.entries(per).map(([k, v]) => `${k} ${med(v).toFixed(1)}`).join(', ')}]`);
}
console.log(`combined     ${total.toFixed(1)} ms  ${((3 * flops) / total / 1e6).toFixed(1)} GFLOP/s`);
// Control: the repo's matmul 512³ (3.4 GFLOP/s on an idle machine at 13:00), to show the machine's load.
const a = e.tensor(randn(512 * 512, 4), [512, 512]);
ops.matmul(a, a).dispose(); await e.sync();
e.startProfiling(); for (let i = 0; i < 3; i++) ops.matmul(a, a).dispose();
const mm = med((await e.stopProfiling()).map((k) => k.ms));
console.log(`control: matmul 512³ ${mm.toFixed(1)} ms ${(2 * 512 ** 3 / mm / 1e6).toFixed(2)} GFLOP/s`);
e.destroy();
