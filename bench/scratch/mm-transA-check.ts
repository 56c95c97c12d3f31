// Repro for the lead: matmulRaw(transA) vs a CPU product, shapes from the Mix Block's unfused scores.
import { createEngine } from '../../src/index.js';
import { matmulRaw } from '../../src/ops/matmul.js';
const randn = (n: number, seed: number) => { let s = seed >>> 0 || 1; const o = new Float32Array(n); for (let i = 0; i < n; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; o[i] = ((s >>> 0) / 4294967296) * 2 - 1; } return o; };
const e = await createEngine();
for (const [B, K, M, N, ta] of [[2, 6, 256, 256, true], [2, 8, 256, 256, true], [2, 6, 16, 16, true], [1, 6, 64, 64, true], [2, 12, 7, 256, false]] as const) {
  const a = randn(B * K * M, 1), b = randn(B * K * N, 2);
  const A = ta ? e.tensor(a, [B, K, M]) : e.tensor(a, [B, M, K]);
  const c = await matmulRaw(A, e.tensor(b, [B, K, N]), { transA: ta }).read();
  let worst = 0;
  for (let z = 0; z < B; z++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0; for (let k = 0; k < K; k++) s += (ta ? a[(z * K + k) * M + i]! : a[(z * M + i) * K + k]!) * b[(z * K + k) * N + j]!;
    worst = Math.max(worst, Math.abs(s - c[(z * M + i) * N + j]!));
  }
  console.log({ B, K, M, N, transA: ta, worst });
}
e.destroy();
