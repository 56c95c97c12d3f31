// A hash of the bits of every implicit-GEMM conv pass (each tile and split that fits) on awkward
// shapes: run before and after a change that must keep the bits (index arithmetic, loaders).
// Run: npx tsx bench/scratch/igemm-bits.ts > before.txt; (change); … > after.txt; diff
import { createHash } from 'node:crypto';
import { createEngine } from '../../src/index.js';
import { conv2dForwardRaw, conv2dGradInputRaw, conv2dGradWeightRaw, conv2dShape, type Conv2dOptions } from '../../src/ops/conv2d.js';
import { IGEMM_SPLITS, IGEMM_TILES, igemmConstants, igemmFits } from '../../src/ops/conv2d-igemm.js';
import type { Conv2dPass } from '../../src/ops/conv2d-path.js';
import { Rng } from '../../src/util/rng.js';

type Shape4 = [number, number, number, number];
const CASES: { x: Shape4; w: Shape4; o: Conv2dOptions }[] = [
  { x: [2, 3, 7, 5], w: [5, 3, 3, 3], o: { stride: 2, padding: 1 } },
  { x: [2, 16, 8, 8], w: [16, 4, 3, 3], o: { stride: 2, padding: 1, groups: 4 } },
  { x: [2, 6, 7, 7], w: [10, 6, 1, 1], o: { stride: 2 } },
  { x: [1, 2, 12, 11], w: [3, 2, 3, 2], o: { stride: [2, 1], padding: [1, 2], dilation: [1, 2] } },
  { x: [2, 5, 6, 7], w: [6, 5, 1, 1], o: { padding: 1 } },
  { x: [3, 4, 9, 9], w: [20, 4, 3, 3], o: { padding: 1 } },
  { x: [8, 4, 16, 16], w: [12, 4, 3, 3], o: { padding: 1 } },
  { x: [4, 16, 28, 28], w: [16, 16, 3, 3], o: { padding: 1 } },
  { x: [4, 1, 28, 28], w: [16, 1, 3, 3], o: { padding: 1 } },
  { x: [2, 5, 9, 10], w: [5, 1, 3, 3], o: { padding: 2, dilation: 2, groups: 5 } },
];
const e = await createEngine({ kernelRules: 'gpu' });
const rnd = (n: number, seed: number) => {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
};
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
for (const [i, c] of CASES.entries()) {
  const g = conv2dShape(c.x, c.w, c.o);
  for (const pass of ['forward', 'grad-input', 'grad-weight'] as Conv2dPass[]) {
    const splits = pass === 'grad-weight' ? IGEMM_SPLITS : [undefined];
    const cfgs = IGEMM_TILES.flatMap((t) => splits.map((s) => igemmConstants(t, s))).filter((k) => igemmFits(g, pass, k, e.limits));
    const h = createHash('sha256');
    for (const constants of cfgs) {
      const out = await e.asyncScope(async () => {
        const o: Conv2dOptions = { ...c.o, impl: { config: { variant: 'igemm', constants } } };
        const x = e.tensor(rnd(size(c.x), 1 + i), c.x);
        const w = e.tensor(rnd(size(c.w), 2 + i), c.w);
        const dy = e.tensor(rnd(g.N * g.O * g.Ho * g.Wo, 3 + i), [g.N, g.O, g.Ho, g.Wo]);
        if (pass === 'forward') return conv2dForwardRaw(x, w, e.tensor(rnd(c.w[0], 4), [c.w[0]]), o).read();
        if (pass === 'grad-input') return conv2dGradInputRaw(dy, w, c.x, o).read();
        return conv2dGradWeightRaw(x, dy, c.w, o).read();
      });
      h.update(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    }
    console.log(`case ${i} ${pass}: ${cfgs.length} configs ${h.digest('hex').slice(0, 16)}`);
  }
}
e.destroy();
