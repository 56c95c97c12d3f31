// conv2d 'sg' (kernels/conv2d_sg.wgsl, implicit GEMM, no im2col buffer) vs 'im2col' (im2col + matmul_sg8),
// interleaved A,B,A,B in one process: per pass and shape, median ms of the pass's dispatches (timestamps),
// whether the outputs are bit-identical, and the process CPU time of each side.
// Run: npx tsx bench/scratch/conv2d-sg.ts [batch] [28|32|bench] [reps]
import { createEngine } from '../../src/index.js';
import { conv2dForwardRaw, conv2dGradInputRaw, conv2dGradWeightRaw } from '../../src/ops/conv2d.js';
const randn = (n: number, seed: number) => { let s = seed; const a = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = s / 2 ** 31 - 1; } return a; };
const B = Number(process.argv[2] ?? 32);
const which = process.argv[3] ?? '32';
const REPS = Number(process.argv[4] ?? 5);
const A = (process.env.A ?? 'im2col') as 'im2col';
const Bp = (process.env.B ?? 'sg') as 'im2col';
type L = { name: string; C: number; O: number; H: number; k: number; s: number; p: number };
const resnet = (H0: number, c0: number): L[] => {
  const out: L[] = [{ name: `stem ${c0}→16`, C: c0, O: 16, H: H0, k: 3, s: 1, p: 1 }];
  let H = H0, c = 16;
  for (const o of [16, 32, 64, 128]) {
    if (o !== c) { out.push({ name: `${c}→${o} s2`, C: c, O: o, H, k: 3, s: 2, p: 1 }); H = Math.floor((H + 2 - 3) / 2) + 1; }
    out.push({ name: `${o}→${o} ${H}×${H}`, C: o, O: o, H, k: 3, s: 1, p: 1 });
    c = o;
  }
  return out;
};
const layers: L[] = which === 'bench' ? [{ name: 'bench 64→64 32×32', C: 64, O: 64, H: 32, k: 3, s: 1, p: 1 }] : which === 'down' ? [{ name: 'down 64→128 s2 32', C: 64, O: 128, H: 32, k: 3, s: 2, p: 1 }] : which === '28' ? resnet(28, 1) : resnet(32, 3);
const e = await createEngine();
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const cpu = { a: 0, b: 0 };
for (const l of layers) {
  const Ho = Math.floor((l.H + 2 * l.p - l.k) / l.s) + 1;
  const x = e.tensor(randn(B * l.C * l.H * l.H, 1), [B, l.C, l.H, l.H]);
  const w = e.tensor(randn(l.O * l.C * l.k * l.k, 2), [l.O, l.C, l.k, l.k]);
  const bias = e.tensor(randn(l.O, 4), [l.O]);
  const dy = e.tensor(randn(B * l.O * Ho * Ho, 3), [B, l.O, Ho, Ho]);
  const fl = 2 * B * l.O * Ho * Ho * l.C * l.k * l.k;
  const row: string[] = [];
  for (const pass of (process.env.PASSES ?? 'fwd,gi,gw').split(',')) {
    const run = (path: string) => {
      const o = { stride: l.s, padding: l.p, impl: { path: path as 'im2col' } };
      return pass === 'fwd' ? conv2dForwardRaw(x, w, null, o) : pass === 'gi' ? conv2dGradInputRaw(dy, w, x.shape, o) : conv2dGradWeightRaw(x, dy, w.shape, o);
    };
    const ra = run(A), rb = run(Bp);
    const [va, vb] = [await ra.read(), await rb.read()] as Float32Array[];
    ra.dispose(); rb.dispose();
    let same = true, maxd = 0;
    const ia = new Uint32Array(va.buffer), ib = new Uint32Array(vb.buffer);
    for (let i = 0; i < va.length; i++) { if (ia[i] !== ib[i]) same = false; maxd = Math.max(maxd, Math.abs(va[i]! - vb[i]!)); }
    const ta: number[] = [], tb: number[] = [];
    for (let r = 0; r < REPS; r++) {
      for (const [path, arr, key] of [[A, ta, 'a'], [Bp, tb, 'b']] as const) {
        const c0 = process.cpuUsage();
        e.startProfiling(); run(path).dispose(); const t = await e.stopProfiling();
        const c1 = process.cpuUsage(c0); cpu[key] += (c1.user + c1.system) / 1e3;
        arr.push(t.reduce((s, k) => s + k.ms, 0));
      }
    }
    row.push(`${pass} ${A} ${med(ta).toFixed(1)} ${Bp} ${med(tb).toFixed(1)} ms (${(fl / med(ta) / 1e6).toFixed(1)}→${(fl / med(tb) / 1e6).toFixed(1)} GF) ${same ? 'same bits' : `DIFF ${maxd.toExponential(1)}`}`);
  }
  console.log(`${l.name.padEnd(18)} ${row.join(' | ')}`);
  x.dispose(); w.dispose(); dy.dispose(); bias.dispose();
}
console.log(`process CPU ms: ${A} ${cpu.a.toFixed(0)}, ${Bp} ${cpu.b.toFixed(0)}`);
e.destroy();
