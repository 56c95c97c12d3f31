// The unfused Mix Block forward (L = 256, d = 6) with and without the subgroup matmul.
import { createEngine, ops } from '../../src/index.js';
import { mixBlockLogitsRef } from '../../src/reference/mix-block.js';
const randn = (n: number, seed: number, sc = 1) => { let s = seed >>> 0 || 1; const o = new Float32Array(n); for (let i = 0; i < n; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; o[i] = (((s >>> 0) / 4294967296) * 2 - 1) * sc; } return o; };
for (const sg of [true, false]) {
  const e = await createEngine();
  if (!sg) (e.ctx.features as Set<string>).delete('subgroups');
  const [N, C, h, w, d] = [2, 12, 16, 16, 6];
  const z = randn(N * C * h * w, 1), wq = randn(d * C, 2, 0.5), bq = randn(d, 3, 0.5), wv = randn(C, 4), bv = randn(1, 5);
  const s = ops.mixBlockLogits(e.tensor(z, [N, C, h, w]), e.tensor([1, 0], [2], { dtype: 'i32' }), e.tensor(wq, [d, C]), e.tensor(bq, [d]), e.tensor(wv, [1, C]), e.tensor(bv, [1]), { impl: 'unfused' });
  const got = await s.read();
  const want = mixBlockLogitsRef(z, [1, 0], wq, bq, wv, bv, { N, C, L: h * w, d });
  console.log({ subgroupMatmul: sg, worst: Math.max(...got.map((v, i) => Math.abs(v - want[i]!))) });
  e.destroy();
}
