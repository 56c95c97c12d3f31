/**
 * Mix Block attention: fused vs unfused, forward and backward, per kernel,
 * timed with timestamp queries. N = 100, C = 256, d = 128 (ResNet-18 stage 3),
 * L = 64 (8×8) and 256 (16×16). Run: npx tsx bench/scratch/mb-attn-bench.ts [reps]
 */
import { createEngine, ops, type Tensor } from '../../src/index.js';
const randn = (n: number, seed: number, sc = 1) => { let s = seed >>> 0 || 1; const o = new Float32Array(n); for (let i = 0; i < n; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; o[i] = (((s >>> 0) / 4294967296) * 2 - 1) * sc; } return o; };
const e = await createEngine();
console.log(e.info.description, new Date().toISOString());
const reps = Number(process.argv[2] ?? 3);
const [N, C, d] = [100, 256, 128];
const results: Record<string, unknown>[] = [];
for (const side of [8, 16]) {
  const L = side * side;
  const z = e.tensor(randn(N * C * L, 1), [N, C, side, side]);
  const perm = e.tensor(Array.from({ length: N }, (_, i) => (i * 37 + 11) % N), [N], { dtype: 'i32' });
  const wq = e.tensor(randn(d * C, 2, 0.05), [d, C], { requiresGrad: true });
  const bq = e.tensor(randn(d, 3, 0.05), [d], { requiresGrad: true });
  const wv = e.tensor(randn(C, 4, 0.05), [1, C], { requiresGrad: true });
  const bv = e.tensor(randn(1, 5, 0.05), [1], { requiresGrad: true });
  const ds = e.tensor(randn(N * L, 6), [N, 1, side, side]);
  for (const impl of ['fused', 'unfused'] as const) {
    const step = (): Tensor => {
      const s = ops.mixBlockLogits(z, perm, wq, bq, wv, bv, { impl });
      s.backward(ds);
      return s;
    };
    e.scope(() => step()); // warm-up: pipelines compiled, pool filled
    for (const t of [wq, bq, wv, bv]) { t.grad?.dispose(); t.grad = null; }
    await e.sync();
    // Dispatch index → phase, from the launch order in src/ops/mix-block-attention.ts.
    const phases = impl === 'fused'
      ? ['proj', 'proj', 'attn_fwd', 'attn_bwd', 'attn_bwd', 'param_grads', 'param_grads', 'param_grads', 'param_grads', 'param_grads', 'param_grads']
      : ['proj', 'proj', 'attn_fwd', 'attn_fwd', 'attn_fwd', 'attn_fwd', 'attn_bwd', 'attn_bwd', 'attn_bwd', 'attn_bwd', 'param_grads', 'param_grads', 'param_grads', 'param_grads', 'param_grads', 'param_grads'];
    const per: Record<string, number[]> = {};
    for (let r = 0; r < reps; r++) {
      e.startProfiling();
      e.scope(() => step());
      const tm = await e.stopProfiling();
      for (const t of [wq, bq, wv, bv]) { t.grad?.dispose(); t.grad = null; }
      if (tm.length !== phases.length) throw new Error(`expected ${phases.length} dispatches, got ${tm.length}: ${tm.map((t) => t.kernel)}`);
      const agg: Record<string, number> = {};
      tm.forEach((t, i) => { agg[phases[i]!] = (agg[phases[i]!] ?? 0) + t.ms; });
      agg.total = tm.reduce((a, t) => a + t.ms, 0);
      for (const [k, v] of Object.entries(agg)) (per[k] ??= []).push(v);
    }
    const min = (a: number[]) => Math.min(...a);
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    console.log(`L=${L} ${impl}: ` + Object.entries(per).map(([k, v]) => `${k} min ${min(v).toFixed(1)} / med ${med(v).toFixed(1)} ms`).join(', '));
    const total = min(per.total!);
    results.push({ L, impl, minMs: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, min(v)])), medMs: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, med(v)])), total });
  }
}
console.log(JSON.stringify(results));
e.destroy();
