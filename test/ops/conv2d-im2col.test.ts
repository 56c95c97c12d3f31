// The im2col path's relayouts (kernels/im2col.wgsl): `im2col_rows` (stride
// 1 along W, W and Wo multiples of 4; runs of output quads per invocation),
// `im2col` (every other shape; runs of quads of q) and `dy_t4` (HW a
// multiple of 4) move exactly the data the reference kernels `im2col_quads`
// (one quad per invocation) and `dy_t` move. Each pass of each case
// runs with every run length (1–4 quads) and with the reference kernels only;
// the column matrix and the pass's output must be equal bit for bit, and the
// output must match the f64 reference. (groups > 1 never takes the im2col
// path: conv2d.test.ts checks its fallback.)
import { describe, expect, it } from 'vitest';
import { conv2dShape } from '../../src/ops/conv2d.js';
import { CPU_RUN_QUADS, GPU_RUN_QUADS, im2colSteps } from '../../src/ops/conv2d-im2col.js';
import type { Conv2dPass } from '../../src/ops/conv2d-path.js';
import type { Conv2dBuffer } from '../../src/ops/conv2d-steps.js';
import { runDispatchList } from '../../src/ops/dispatch-list.js';
import { conv2dBackwardRef, conv2dRef } from '../../src/reference/conv2d.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { type Conv2dCase, conv2dCaseGeom } from '../helpers/conv2d-case.js';
import { testEngine } from '../helpers/engine.js';

type Case = Conv2dCase;

// Most take im2col_rows in at least one pass; the last ones (from
// RUNS_ONLY: odd W, stride 2, 14×14, 7×7) take it in none and run
// the run kernel `im2col` instead.
const CASES: Case[] = [
  { name: 'batch 1, one channel, 28×28 pad 1 (7 quads a row: runs of 4 + 3)', x: [1, 1, 28, 28], w: [3, 1, 3, 3], o: { padding: 1 }, bias: true },
  { name: 'odd H 5×8, pad 1', x: [2, 3, 5, 8], w: [5, 3, 3, 3], o: { padding: 1 } },
  { name: '4×4, pad 1 (one quad a row)', x: [3, 5, 4, 4], w: [6, 5, 3, 3], o: { padding: 1 }, bias: true },
  { name: 'pad 0 (10 → 8)', x: [2, 2, 7, 12], w: [3, 2, 3, 5], o: { padding: [1, 0] } },
  { name: 'pad 2, 5×5 kernel, 20 wide (5 quads a row)', x: [2, 2, 6, 20], w: [3, 2, 5, 5], o: { padding: 2 }, bias: true },
  { name: 'dilation 2, pad 0 (8 → 4)', x: [2, 3, 9, 8], w: [4, 3, 3, 3], o: { dilation: 2 } },
  { name: 'dilation 2, pad 2', x: [1, 2, 6, 12], w: [3, 2, 3, 3], o: { padding: 2, dilation: 2 } },
  { name: 'stride 2 along H only, pad 1', x: [2, 3, 9, 16], w: [4, 3, 3, 3], o: { stride: [2, 1], padding: 1 }, bias: true },
  { name: 'stride 2, pad 1 (grad-input: col2im)', x: [2, 4, 16, 16], w: [8, 4, 3, 3], o: { stride: 2, padding: 1 } },
  { name: '1×3 kernel, pad (0, 5) (segment past both ends)', x: [2, 2, 3, 4], w: [2, 2, 1, 3], o: { padding: [0, 5] } },
  { name: '1×1, pad 0, 12 wide', x: [2, 6, 3, 12], w: [5, 6, 1, 1] },
  { name: 'odd W 7 (run kernel)', x: [2, 3, 5, 7], w: [4, 3, 3, 3], o: { padding: 1 } },
  { name: 'stride 2 along W (run kernel)', x: [1, 2, 8, 8], w: [3, 2, 3, 3], o: { stride: [1, 2], padding: 1 } },
  { name: '14×14 pad 1 (run kernel: quads straddle rows)', x: [3, 2, 14, 14], w: [3, 2, 3, 3], o: { padding: 1 }, bias: true },
  { name: '7×7 pad 1, HW 49 (quads straddle images)', x: [3, 3, 7, 7], w: [2, 3, 3, 3], o: { padding: 1 } },
  { name: 'stride 2, pad 1, 14 → 7 (run kernel)', x: [2, 3, 14, 14], w: [4, 3, 3, 3], o: { stride: 2, padding: 1 } },
  { name: '1×1 stride 2, 13 → 7 (odd W)', x: [3, 4, 13, 13], w: [5, 4, 1, 1], o: { stride: 2 } },
  { name: 'odd W 9, 5×3 kernel, dilation 2, pad (4, 1)', x: [2, 2, 11, 9], w: [3, 2, 5, 3], o: { padding: [4, 1], dilation: 2 } },
];
/** The cases from CASES[RUNS_ONLY] on take the run kernel `im2col`, never im2col_rows. */
const RUNS_ONLY = 11;

const PASSES: Conv2dPass[] = ['forward', 'grad-input', 'grad-weight'];
/** The entry each fast variant stands in for. */
const GENERAL: Record<string, string> = { im2col_rows: 'im2col_quads', im2col: 'im2col_quads', dy_t4: 'dy_t' };
const RUNS = [...new Set([GPU_RUN_QUADS, 2, 3, CPU_RUN_QUADS])];
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const geom = conv2dCaseGeom;

const engine = await testEngine();

/** One pass through the im2col path's dispatch list with `runQuads`: its column matrix (if any) and its output. */
async function runPass(c: Case, pass: Conv2dPass, runQuads: number, seed: number) {
  const g = conv2dShape(c.x, c.w, c.o);
  const steps = im2colSteps(g, pass, !!c.bias && pass === 'forward', runQuads);
  const entries = steps.steps.map((s) => (s.kind === 'dispatch' ? s.entry : 'matmul'));
  return engine.asyncScope(async () => {
    const outSize = pass === 'forward' ? g.N * g.O * g.Ho * g.Wo : pass === 'grad-input' ? size(c.x) : size(c.w);
    const buffers: Partial<Record<Conv2dBuffer, Tensor>> = {
      x: engine.tensor(uniformData(size(c.x), seed), [size(c.x)]),
      w: engine.tensor(uniformData(size(c.w), seed + 1), [size(c.w)]),
      dy: engine.tensor(uniformData(g.N * g.O * g.Ho * g.Wo, seed + 3), [g.N * g.O * g.Ho * g.Wo]),
      bias: engine.tensor(uniformData(g.O, seed + 2), [g.O]),
      out: engine.empty([outSize], 'f32', 'test.out'),
    };
    if (steps.temps.col) buffers.col = engine.empty([steps.temps.col], 'f32', 'test.col');
    if (steps.temps.dyt) buffers.dyt = engine.empty([steps.temps.dyt], 'f32', 'test.dyt');
    const made = runDispatchList(engine, steps.steps, buffers, steps.temps, 'test');
    const col = buffers.col ? await buffers.col.read() : null;
    const dyt = buffers.dyt ? await buffers.dyt.read() : null;
    const out = await buffers.out!.read();
    for (const t of made) t.dispose();
    return { entries, col, dyt, out };
  });
}

function reference(c: Case, pass: Conv2dPass, seed: number): Float64Array {
  const g = conv2dShape(c.x, c.w, c.o);
  const xd = uniformData(size(c.x), seed);
  const wd = uniformData(size(c.w), seed + 1);
  const bd = uniformData(g.O, seed + 2);
  const dyd = uniformData(g.N * g.O * g.Ho * g.Wo, seed + 3);
  if (pass === 'forward') return conv2dRef(xd, wd, c.bias ? bd : null, geom(c));
  const back = conv2dBackwardRef(xd, wd, dyd, geom(c));
  return pass === 'grad-input' ? back.dx : back.dw;
}

describe('im2col_rows, im2col and dy_t4 move the same data as the reference im2col_quads and dy_t', () => {
  CASES.forEach((c, i) => {
    for (const pass of PASSES) {
      it(`${c.name}: ${pass}`, async () => {
        const seed = 100 + 10 * i;
        const general = await runPass(c, pass, 0, seed);
        expect(general.entries).not.toContain('im2col_rows');
        expect(general.entries).not.toContain('im2col');
        expectAllClose(general.out, reference(c, pass, seed), { atol: 1e-4, rtol: 1e-4 });
        for (const rq of RUNS) {
          const rows = await runPass(c, pass, rq, seed);
          expect(rows.entries.map((e) => GENERAL[e] ?? e)).toEqual(general.entries);
          if (rows.col) expect(rows.col, `col, ${rq} quads a run`).toEqual(general.col);
          if (rows.dyt) expect(rows.dyt, `dyt, ${rq} quads a run`).toEqual(general.dyt);
          expect(rows.out, `output, ${rq} quads a run`).toEqual(general.out);
        }
      });
    }
  });

  it('takes im2col_rows where it applies, and the run kernel im2col where W or Wo is not a multiple of 4 or W is strided', () => {
    const uses = (c: Case, pass: Conv2dPass, entry: string) =>
      im2colSteps(conv2dShape(c.x, c.w, c.o), pass, false).steps.some((s) => s.kind === 'dispatch' && s.entry === entry);
    expect(PASSES.map((p) => uses(CASES[0]!, p, 'im2col_rows'))).toEqual([true, true, true]);
    expect(uses(CASES[8]!, 'grad-input', 'im2col_rows')).toBe(false); // col2im, no im2col
    expect(uses(CASES[8]!, 'forward', 'im2col_rows')).toBe(false); // stride 2
    expect(uses(CASES[8]!, 'forward', 'im2col')).toBe(true);
    for (const c of CASES.slice(RUNS_ONLY))
      for (const p of PASSES) {
        expect(uses(c, p, 'im2col_rows'), `${c.name}: ${p}`).toBe(false);
        expect(uses(c, p, 'im2col_quads'), `${c.name}: ${p}`).toBe(false); // the reference only with runQuads 0
      }
    // Every pass that builds a col there runs im2col (stride-2 grad-input is col2im).
    for (const c of CASES.slice(RUNS_ONLY)) expect(uses(c, 'grad-weight', 'im2col'), c.name).toBe(true);
  });
});
