// kernels/conv2d_sg.wgsl variants (override constants) on one shape, interleaved in one process:
// median ms of the pass's dispatches per variant (timestamps). Run: npx tsx bench/scratch/conv2d-sg-var.ts [N C O H stride] [reps]
import { createEngine } from '../../src/index.js';
import { conv2dShape } from '../../src/ops/conv2d.js';
import type { Conv2dPass } from '../../src/ops/conv2d-path.js';
import { sgSteps } from '../../src/ops/conv2d-sg.js';
import { runDispatchList } from '../../src/ops/dispatch-list.js';
const randn = (n: number, seed: number) => { let s = seed; const a = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = s / 2 ** 31 - 1; } return a; };
const [N, C, O, H, S] = (process.argv[2] ?? '32,64,64,32,1').split(',').map(Number) as [number, number, number, number, number];
const REPS = Number(process.argv[3] ?? 5);
// Each variant: sgSteps options (runQuads, rows) and override constants to set on the conv2d_sg* dispatch.
const VARIANTS: Record<string, { runQuads?: number; rows?: number; k?: Record<string, number> }> = JSON.parse(process.env.VARIANTS ?? '{"rq1":{},"rq2":{"runQuads":2}}');
const PASSES = (process.env.PASSES ?? 'forward,grad-weight').split(',') as Conv2dPass[];
const e = await createEngine();
const g = conv2dShape([N, C, H, H], [O, C, 3, 3], { stride: S, padding: 1 });
const x = e.tensor(randn(N * C * H * H, 1), [N, C, H, H]);
const w = e.tensor(randn(O * C * 9, 2), [O, C, 3, 3]);
const dy = e.tensor(randn(N * O * g.Ho * g.Wo, 3), [N, O, g.Ho, g.Wo]);
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const fl = 2 * N * O * g.Ho * g.Wo * C * 9;
for (const pass of PASSES) {
  const outShape = pass === 'forward' ? [N, O, g.Ho, g.Wo] : pass === 'grad-input' ? [N, C, H, H] : [O, C, 3, 3];
  const run = (v: { runQuads?: number; rows?: number; k?: Record<string, number> }) => {
    const base = sgSteps(g, pass, false, v);
    const steps = base.steps.map((s) => (s.kind === 'dispatch' && s.entry.startsWith('conv2d_sg') ? { ...s, constants: { ...s.constants, ...v.k } } : s));
    const out = e.empty(outShape);
    for (const t of runDispatchList(e, steps, { x, w, dy, out }, base.temps, 'v')) t.dispose();
    return out;
  };
  const ref = await run({}).read();
  const times: Record<string, number[]> = {};
  for (const [name, v] of Object.entries(VARIANTS)) {
    const got = await run(v).read();
    let same = true; for (let i = 0; i < got.length; i++) if (got[i] !== ref[i]) { same = false; break; }
    if (!same) console.log(`${name}: DIFFERENT from base`);
  }
  for (let r = 0; r < REPS; r++) for (const [name, v] of Object.entries(VARIANTS)) {
    e.startProfiling(); run(v).dispose(); const t = await e.stopProfiling();
    (times[name] ??= []).push(t.filter((k) => k.kernel.includes('conv2d_sg:conv2d_sg')).reduce((a, k) => a + k.ms, 0));
  }
  console.log(`${pass} ${N},${C},${O},${H},s${S}: ` + Object.entries(times).map(([n, t]) => `${n} ${med(t).toFixed(1)} ms (${(fl / med(t) / 1e6).toFixed(1)} GF)`).join(' | '));
}
e.destroy();
