import { createEngine, ops } from '../../src/index.js';
const e = await createEngine();
console.log(e.info, [...e.features]);
const M = 512, N = 512, K = 512;
const a = e.tensor(new Float32Array(M * K).fill(0.5), [M, K]);
const b = e.tensor(new Float32Array(K * N).fill(0.5), [K, N]);
for (let i = 0; i < 2; i++) { const c = ops.matmul(a, b); await c.read(); c.dispose(); }
e.startProfiling();
for (let i = 0; i < 5; i++) { const c = ops.matmul(a, b); c.dispose(); }
const t = await e.stopProfiling();
console.log(t.map((x) => `${x.kernel} ${x.ms.toFixed(2)}ms ${(2 * M * N * K / x.ms / 1e6).toFixed(2)} GFLOP/s`));
e.destroy();
