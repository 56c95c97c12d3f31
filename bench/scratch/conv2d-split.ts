// Where a conv2d pass's time goes on the im2col path: re-layouts (im2col family) vs GEMM (matmul),
// per pass, for the benchmark shape and the ResNet-18 ×0.25 layer shapes. Timestamps per dispatch,
// median of REPS. Run: npx tsx bench/scratch/conv2d-split.ts [batch] [28|32|bench] [path]
import { createEngine } from '../../src/index.js';
import { conv2dForwardRaw, conv2dGradInputRaw, conv2dGradWeightRaw } from '../../src/ops/conv2d.js';
const randn = (n: number, seed: number) => { let s = seed; const a = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = s / 2 ** 31 - 1; } return a; };
const REPS = Number(process.env.REPS ?? 3);
const B = Number(process.argv[2] ?? 32);
const which = process.argv[3] ?? '32';
const path = (process.argv[4] ?? 'auto') as 'auto';
type L = { name: string; C: number; O: number; H: number; k: number; s: number; p: number };
const resnet = (H0: number, c0: number): L[] => {
  const out: L[] = [{ name: `stem ${c0}→16`, C: c0, O: 16, H: H0, k: 3, s: 1, p: 1 }];
  let H = H0;
  let c = 16;
  for (const o of [16, 32, 64, 128]) {
    if (o !== c) {
      out.push({ name: `${c}→${o} s2`, C: c, O: o, H, k: 3, s: 2, p: 1 });
      out.push({ name: `${c}→${o} 1×1 s2`, C: c, O: o, H, k: 1, s: 2, p: 0 });
      H = Math.floor((H + 2 - 3) / 2) + 1;
    }
    out.push({ name: `${o}→${o} ${H}×${H}`, C: o, O: o, H, k: 3, s: 1, p: 1 });
    c = o;
  }
  return out;
};
const layers: L[] = which === 'bench' ? [{ name: 'bench 64→64 32×32', C: 64, O: 64, H: 32, k: 3, s: 1, p: 1 }] : which === '28' ? resnet(28, 1) : resnet(32, 3);
const e = await createEngine();
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const cpu0 = process.cpuUsage();
const tot: Record<string, { rel: number; mm: number }> = {};
for (const l of layers) {
  const Ho = Math.floor((l.H + 2 * l.p - l.k) / l.s) + 1;
  const x = e.tensor(randn(B * l.C * l.H * l.H, 1), [B, l.C, l.H, l.H]);
  const w = e.tensor(randn(l.O * l.C * l.k * l.k, 2), [l.O, l.C, l.k, l.k]);
  const dy = e.tensor(randn(B * l.O * Ho * Ho, 3), [B, l.O, Ho, Ho]);
  const o = { stride: l.s, padding: l.p, impl: { path } };
  const fl = 2 * B * l.O * Ho * Ho * l.C * l.k * l.k;
  const passes: [string, () => void][] = [
    ['fwd', () => conv2dForwardRaw(x, w, null, o).dispose()],
    ['gi', () => conv2dGradInputRaw(dy, w, x.shape, o).dispose()],
    ['gw', () => conv2dGradWeightRaw(x, dy, w.shape, o).dispose()],
  ];
  const row: string[] = [];
  for (const [pn, f] of passes) {
    f(); await e.sync();
    const rel: number[] = [], mm: number[] = [], all: number[] = [];
    const names = new Set<string>();
    for (let r = 0; r < REPS; r++) {
      e.startProfiling(); f(); const t = await e.stopProfiling();
      let a = 0, b = 0;
      for (const k of t) { if (k.kernel.startsWith('matmul')) b += k.ms; else { a += k.ms; names.add(k.kernel.split(':').pop()!); } }
      rel.push(a); mm.push(b); all.push(a + b);
    }
    const m = med(all);
    (tot[pn] ??= { rel: 0, mm: 0 }).rel += med(rel); tot[pn]!.mm += med(mm);
    row.push(`${pn} ${m.toFixed(1)} (rel ${med(rel).toFixed(1)} mm ${med(mm).toFixed(1)}) ${(fl / m / 1e6).toFixed(1)}GF [${[...names].join(',')}]`);
  }
  console.log(`${l.name.padEnd(16)} ${row.join(' | ')}`);
  x.dispose(); w.dispose(); dy.dispose();
}
for (const [k, v] of Object.entries(tot)) console.log(`total ${k}: relayout ${v.rel.toFixed(1)} ms, gemm ${v.mm.toFixed(1)} ms`);
const c = process.cpuUsage(cpu0); console.log(`cpu s ${((c.user + c.system) / 1e6).toFixed(1)}`);
e.destroy();
