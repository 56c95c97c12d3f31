import { conv2dShape, splitKPlan } from '../../src/ops/conv2d.js';
const L: [string, number[], number[], any][] = [
  ['stem 3→16 3×3, 32×32', [100, 3, 32, 32], [16, 3, 3, 3], { padding: 1 }],
  ['16→16 3×3, 32×32', [100, 16, 32, 32], [16, 16, 3, 3], { padding: 1 }],
  ['16→32 3×3 s2', [100, 16, 32, 32], [32, 16, 3, 3], { padding: 1, stride: 2 }],
  ['16→32 1×1 s2', [100, 16, 32, 32], [32, 16, 1, 1], { stride: 2 }],
  ['32→32 3×3, 16×16', [100, 32, 16, 16], [32, 32, 3, 3], { padding: 1 }],
  ['32→64 3×3 s2', [100, 32, 16, 16], [64, 32, 3, 3], { padding: 1, stride: 2 }],
  ['64→64 3×3, 8×8', [100, 64, 8, 8], [64, 64, 3, 3], { padding: 1 }],
  ['64→128 3×3 s2', [100, 64, 8, 8], [128, 64, 3, 3], { padding: 1, stride: 2 }],
  ['128→128 3×3, 4×4', [100, 128, 4, 4], [128, 128, 3, 3], { padding: 1 }],
];
for (const [n, x, w, o] of L) {
  const g = conv2dShape(x, w, o); const P = splitKPlan(g);
  const CK = (g.C / g.groups) * g.KH * g.KW;
  const old = g.groups * Math.ceil(g.O / g.groups / 4) * Math.ceil(CK / 4);
  console.log(`| ${n} | ${g.O}×${CK} | ${P.K} | ${P.TM}×${P.TN} | ${P.tiles} | ${P.S} × ${P.chunk} | ${P.tiles * P.S} | ${(P.S * g.O * CK * 4 / 1e6).toFixed(2)} | ${old} |`);
}
