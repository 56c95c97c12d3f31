// Figures for docs/kernels/{matmul,softmax}.md: median GPU time per dispatch
// (timestamp queries) and median process CPU time (robust to other processes
// sharing the 2 cores: "2-core equivalent" = work / (cpu time / 2)).
import { createEngine, ops } from '../../src/index.js';
import { matmulRaw } from '../../src/ops/matmul.js';
import { softmaxBackwardRaw } from '../../src/ops/softmax.js';
import { rand, median } from './util.js';
const e = await createEngine();
async function measure(run: () => void, reps: number): Promise<{ gpu: number; cpu: number }> {
  run(); await e.sync();
  const g: number[] = [], c: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage(); e.startProfiling(); run();
    const t = await e.stopProfiling(); const d = process.cpuUsage(c0);
    g.push(t.reduce((s, x) => s + x.ms, 0)); c.push((d.user + d.system) / 1000);
  }
  return { gpu: median(g), cpu: median(c) };
}
const only = process.argv[2];
if (!only || only === 'matmul') {
  for (const n of [256, 512, 1024]) {
    const a = e.tensor(rand(n * n, 1), [n, n]), b = e.tensor(rand(n * n, 2), [n, n]);
    const reps = n === 1024 ? 5 : 7;
    const fl = 2 * n ** 3;
    const rows: [string, () => void][] = [
      ['NN', () => matmulRaw(a, b).dispose()],
      ['TN (dB = Aᵀ·dC)', () => matmulRaw(a, b, { transA: true }).dispose()],
      ['NT (dA = dC·Bᵀ)', () => matmulRaw(a, b, { transB: true }).dispose()],
      ['NN +bias+relu', () => matmulRaw(a, b, { bias: e.tensor(rand(n, 3), [n]), activation: 'relu' }).dispose()],
      ['old matmul.wgsl NN', () => {
        const c = e.empty([n, n]);
        e.run('matmul', 'matmul', { bind: { a, b, bias: e.placeholder(), c }, params: { M: n, N: n, K: n, batch: 1, a_batch_stride: 0, b_batch_stride: 0 }, workgroups: [n / 32, n / 32, 1] });
        c.dispose();
      }],
    ];
    for (const [name, run] of rows) {
      if (n === 1024 && name.startsWith('old') && process.argv[3] !== 'old') continue;
      const m = await measure(run, name.startsWith('old') ? 3 : reps);
      console.log(`matmul ${n}³ ${name.padEnd(20)} gpu ${m.gpu.toFixed(1).padStart(7)} ms  ${(fl / m.gpu / 1e6).toFixed(1).padStart(5)} GFLOP/s | cpu ${m.cpu.toFixed(0).padStart(5)} ms → 2-core-eq ${(fl / (m.cpu / 2) / 1e6).toFixed(1).padStart(5)} GFLOP/s`);
    }
  }
}
if (!only || only === 'softmax') {
  for (const [R, C] of [[4096, 1024], [4096, 10], [256, 8192]] as [number, number][]) {
    const x = e.tensor(rand(R * C, 4), [R, C]);
    const g = e.tensor(rand(R * C, 5), [R, C]);
    const y = ops.softmax(x);
    const bytes = R * C * 4;
    for (const [name, run, traffic] of [
      ['softmax fwd', () => ops.softmax(x).dispose(), 2 * bytes],
      ['logSoftmax fwd', () => ops.logSoftmax(x).dispose(), 2 * bytes],
      ['softmax bwd', () => softmaxBackwardRaw(y, g, false).dispose(), 3 * bytes],
    ] as [string, () => void, number][]) {
      const m = await measure(run, 7);
      console.log(`[${R}, ${C}] ${name.padEnd(15)} gpu ${m.gpu.toFixed(2).padStart(7)} ms  ${(traffic / m.gpu / 1e6).toFixed(2)} GB/s | cpu ${m.cpu.toFixed(1)} ms → 2-core-eq ${(traffic / (m.cpu / 2) / 1e6).toFixed(2)} GB/s`);
    }
  }
  for (const [N, C] of [[128, 10], [4096, 1000]] as [number, number][]) {
    const x = e.tensor(rand(N * C, 6), [N, C], { requiresGrad: true });
    const la = e.tensor(Int32Array.from({ length: N }, (_, i) => i % C), [N], { dtype: 'i32' });
    const m = await measure(() => { const l = ops.mixedCrossEntropy(x, la, la, 0.3); l.backward(); x.grad!.dispose(); x.grad = null; l.dispose(); }, 7);
    console.log(`mixedCrossEntropy fwd+bwd [${N}, ${C}] gpu ${m.gpu.toFixed(2)} ms (3 dispatches) | cpu ${m.cpu.toFixed(1)} ms`);
  }
}
e.destroy();
