// SGD / AdamW / EMA kernels (kernels/optim.wgsl) against the f64 reference
// (src/reference/optim.ts), over ParamSets with awkward shapes.
import { describe, expect, it, vi } from 'vitest';
import { ShapeError, type Engine } from '../../src/index.js';
import { ParamSet } from '../../src/nn/params.js';
import { AdamW, copyParams, emaUpdate, SGD, type AdamWGroupOptions, type SGDGroupOptions } from '../../src/optim/index.js';
import { adamwStepRef, emaRef, sgdStepRef, type AdamWRefOptions, type SGDRefOptions } from '../../src/reference/optim.js';
import { expectAllClose, randn } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

const SHAPES = [[3], [5, 7], [1], [2, 3, 3, 3]];
const TOL = { atol: 2e-6, rtol: 1e-5 };

function makeSet(e: Engine, seed: number, label = 'params', shapes = SHAPES): ParamSet {
  return new ParamSet(
    e,
    shapes.map((shape, i) => ({ name: `${label}.p${i}`, shape, init: randn(shape.reduce((a, b) => a * b, 1), seed * 100 + i) })),
    label,
  );
}

/** Host f64 mirror of a set's parameters. */
async function mirror(set: ParamSet): Promise<Float64Array[]> {
  const m = await set.read();
  return set.names.map((n) => Float64Array.from(m.get(n)!));
}

/** Writes step-dependent random gradients and returns them. */
function writeGrads(set: ParamSet, step: number, seed: number): Float32Array[] {
  return set.grads.map((g, i) => {
    const v = randn(g.size, 7919 * (step + 1) + 31 * seed + i);
    g.write(v);
    return v;
  });
}

async function expectSetClose(set: ParamSet, ref: Float64Array[], tol = TOL): Promise<void> {
  const m = await set.read();
  set.names.forEach((n, i) => expectAllClose(m.get(n)!, ref[i]!, tol));
  // Padding of the arena stays zero.
  const flat = await set.flat.read();
  const inside = new Uint8Array(flat.length);
  set.params.forEach((p, i) => inside.fill(1, set.offsets[i]!, set.offsets[i]! + p.size));
  const bad = flat.findIndex((v, i) => !inside[i] && v !== 0);
  expect(bad, `padding element ${bad} is ${flat[bad]}`).toBe(-1);
}

/** Number of dispatches `fn` records (timestamp queries, or a spy without them). */
async function countDispatches(e: Engine, fn: () => void): Promise<{ total: number; optim: number }> {
  await e.sync();
  if (e.startProfiling()) {
    fn();
    const t = await e.stopProfiling();
    return { total: t.length, optim: t.filter((x) => x.kernel.startsWith('optim:')).length };
  }
  const spy = vi.spyOn(e.ctx, 'dispatch');
  try {
    fn();
    const labels = spy.mock.calls.map((c) => (c[0] as { label: string }).label);
    return { total: labels.length, optim: labels.filter((l) => l.startsWith('optim:')).length };
  } finally {
    spy.mockRestore();
  }
}

describe('SGD', () => {
  const cases: [string, SGDRefOptions][] = [
    ['plain', { lr: 0.1 }],
    ['momentum', { lr: 0.1, momentum: 0.9 }],
    ['nesterov + weight decay', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-2 }],
    ['weight decay, no momentum', { lr: 0.1, weightDecay: 0.05 }],
    ['dampening + weight decay', { lr: 0.1, momentum: 0.8, dampening: 0.3, weightDecay: 1e-3 }],
  ];
  for (const [name, o] of cases) {
    it(`${name}: 5 steps match the reference`, async () => {
      const e = await testEngine();
      const set = makeSet(e, 1);
      const opt = new SGD([{ params: set, ...o }]);
      const ref = await mirror(set);
      const bufs = ref.map((r) => new Float64Array(r.length));
      for (let s = 0; s < 5; s++) {
        const g = writeGrads(set, s, 1);
        opt.step();
        ref.forEach((r, i) => sgdStepRef(r, g[i]!, bufs[i]!, o, s === 0));
      }
      expect(opt.stepCount).toBe(5);
      await expectSetClose(set, ref);
      if (o.momentum) {
        const st = opt.stateTensors();
        for (let i = 0; i < set.names.length; i++) expectAllClose(await st[`${set.names[i]}.momentum_buffer`]!.read(), bufs[i]!, TOL);
      } else {
        expect(Object.keys(opt.stateTensors())).toEqual([]);
      }
      opt.dispose();
      set.dispose();
    });
  }

  it('groups with different LRs and options; one dispatch per group', async () => {
    const e = await testEngine();
    const a = makeSet(e, 2, 'a');
    const b = makeSet(e, 3, 'b', [[4, 5], [65], [2]]);
    const oa: SGDRefOptions = { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 };
    const ob: SGDRefOptions = { lr: 0.01, momentum: 0.5, nesterov: true };
    const opt = new SGD([{ params: a, ...oa }, { params: b, ...ob }]);
    const ra = await mirror(a);
    const rb = await mirror(b);
    const ba = ra.map((r) => new Float64Array(r.length));
    const bb = rb.map((r) => new Float64Array(r.length));
    for (let s = 0; s < 4; s++) {
      if (s === 2) {
        opt.setLr(0, 0.05);
        oa.lr = 0.05;
      }
      const ga = writeGrads(a, s, 2);
      const gb = writeGrads(b, s, 3);
      const n = await countDispatches(e, () => opt.step());
      expect(n).toEqual({ total: 2, optim: 2 });
      ra.forEach((r, i) => sgdStepRef(r, ga[i]!, ba[i]!, oa, s === 0));
      rb.forEach((r, i) => sgdStepRef(r, gb[i]!, bb[i]!, ob, s === 0));
    }
    expect(opt.groups.map((g) => g.lr)).toEqual([0.05, 0.01]);
    await expectSetClose(a, ra);
    await expectSetClose(b, rb);
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('one step of one group is one optim dispatch', async () => {
    const e = await testEngine();
    const set = makeSet(e, 4);
    for (const o of [{ lr: 0.1 }, { lr: 0.1, momentum: 0.9 }] as SGDGroupOptions[]) {
      const opt = new SGD([{ ...o, params: set }]);
      writeGrads(set, 0, 4);
      expect(await countDispatches(e, () => opt.step())).toEqual({ total: 1, optim: 1 });
      opt.dispose();
    }
    set.dispose();
  });

  it('state save/load continues identically (first-step flag included)', async () => {
    const e = await testEngine();
    const o: SGDRefOptions = { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 1e-3 };
    const full = makeSet(e, 5, 'full');
    const part = makeSet(e, 5, 'part');
    const optFull = new SGD([{ params: full, ...o }]);
    const optPart = new SGD([{ params: part, ...o }]);
    expect(Object.keys(optPart.stateTensors())).toEqual([]); // like PyTorch: no state before a step
    const grads: Float32Array[][] = [];
    for (let s = 0; s < 5; s++) {
      grads.push(writeGrads(full, s, 5));
      optFull.step();
    }
    for (let s = 0; s < 2; s++) {
      part.grads.forEach((g, i) => g.write(grads[s]![i]!));
      optPart.step();
    }
    // Checkpoint: parameters + momentum buffers + step count, then a fresh model and optimiser.
    const params = await part.read();
    const state = new Map<string, Float32Array>();
    for (const [k, t] of Object.entries(optPart.stateTensors())) state.set(k.replace(/^part\./, 'resumed.'), await t.read());
    expect(state.size).toBe(SHAPES.length);
    const resumed = makeSet(e, 99, 'resumed');
    resumed.load(new Map([...params].map(([k, v]) => [k.replace(/^part\./, 'resumed.'), v])));
    const optRes = new SGD([{ params: resumed, ...o }]);
    optRes.loadState(state, optPart.stepCount);
    expect(optRes.stepCount).toBe(2);
    for (let s = 2; s < 5; s++) {
      resumed.grads.forEach((g, i) => g.write(grads[s]![i]!));
      optRes.step();
    }
    const a = await full.read();
    const b = await resumed.read();
    full.names.forEach((n, i) => expect(Array.from(b.get(resumed.names[i]!)!)).toEqual(Array.from(a.get(n)!)));
    // A partial group is refused; an empty map starts the group afresh.
    expect(() => optRes.loadState(new Map([['resumed.p0.momentum_buffer', new Float32Array(3)]]))).toThrow(ShapeError);
    expect(() => optRes.loadState(new Map([...state].map(([k, v]) => [k, k.endsWith('p1.momentum_buffer') ? new Float32Array(3) : v])))).toThrow(ShapeError);
    optRes.loadState(new Map());
    expect(Object.keys(optRes.stateTensors())).toEqual([]);
    for (const x of [optFull, optPart, optRes]) x.dispose();
    for (const x of [full, part, resumed]) x.dispose();
  });

  it('rejects invalid settings', async () => {
    const e = await testEngine();
    const set = makeSet(e, 6);
    expect(() => new SGD([{ params: set, lr: 0.1, nesterov: true }])).toThrow(RangeError);
    expect(() => new SGD([{ params: set, lr: -1 }])).toThrow(RangeError);
    expect(() => new SGD([{ params: set, lr: 0.1 }, { params: set, lr: 0.2 }])).toThrow(RangeError);
    expect(() => new SGD([{ params: set, lr: 0.1 }]).setLr(1, 0.1)).toThrow(RangeError);
    set.dispose();
  });
});

describe('AdamW', () => {
  it('two groups over 5 steps match the reference; one dispatch per group', async () => {
    const e = await testEngine();
    const a = makeSet(e, 7, 'a');
    const b = makeSet(e, 8, 'b', [[2, 3, 3, 3], [1]]);
    const oa: AdamWRefOptions = { lr: 1e-2 };
    const ob: AdamWRefOptions = { lr: 3e-3, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 };
    const opt = new AdamW([{ params: a, ...oa }, { params: b, ...ob } as AdamWGroupOptions]);
    expect(opt.groups[0]!.betas).toEqual([0.9, 0.999]);
    expect(opt.groups[0]!.weightDecay).toBe(0.01);
    const ra = await mirror(a);
    const rb = await mirror(b);
    const ma = ra.map((r) => new Float64Array(r.length));
    const va = ra.map((r) => new Float64Array(r.length));
    const mb = rb.map((r) => new Float64Array(r.length));
    const vb = rb.map((r) => new Float64Array(r.length));
    for (let s = 0; s < 5; s++) {
      const ga = writeGrads(a, s, 7);
      const gb = writeGrads(b, s, 8);
      if (s === 0) expect(await countDispatches(e, () => opt.step())).toEqual({ total: 2, optim: 2 });
      else opt.step();
      ra.forEach((r, i) => adamwStepRef(r, ga[i]!, ma[i]!, va[i]!, oa, s + 1));
      rb.forEach((r, i) => adamwStepRef(r, gb[i]!, mb[i]!, vb[i]!, ob, s + 1));
    }
    expect(opt.stepCount).toBe(5);
    await expectSetClose(a, ra);
    await expectSetClose(b, rb);
    const st = opt.stateTensors();
    for (let i = 0; i < a.names.length; i++) {
      expectAllClose(await st[`${a.names[i]}.exp_avg`]!.read(), ma[i]!, TOL);
      expectAllClose(await st[`${a.names[i]}.exp_avg_sq`]!.read(), va[i]!, TOL);
    }
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('state save/load (moments + step count) continues identically', async () => {
    const e = await testEngine();
    const full = makeSet(e, 9, 'm');
    const part = makeSet(e, 9, 'm');
    const optFull = new AdamW([{ params: full, lr: 1e-2 }]);
    const optPart = new AdamW([{ params: part, lr: 1e-2 }]);
    const grads: Float32Array[][] = [];
    for (let s = 0; s < 5; s++) {
      grads.push(writeGrads(full, s, 9));
      optFull.step();
    }
    for (let s = 0; s < 3; s++) {
      part.grads.forEach((g, i) => g.write(grads[s]![i]!));
      optPart.step();
    }
    const params = await part.read();
    const state = new Map<string, Float32Array>();
    for (const [k, t] of Object.entries(optPart.stateTensors())) state.set(k, await t.read());
    const resumed = makeSet(e, 42, 'm');
    resumed.load(params);
    const optRes = new AdamW([{ params: resumed, lr: 1e-2 }]);
    expect(() => optRes.loadState(new Map([...state].slice(1)))).toThrow(ShapeError);
    optRes.loadState(state, optPart.stepCount);
    for (let s = 3; s < 5; s++) {
      resumed.grads.forEach((g, i) => g.write(grads[s]![i]!));
      optRes.step();
    }
    const a = await full.read();
    const b = await resumed.read();
    for (const n of full.names) expect(Array.from(b.get(n)!)).toEqual(Array.from(a.get(n)!));
    for (const x of [optFull, optPart, optRes]) x.dispose();
    for (const x of [full, part, resumed]) x.dispose();
  });
});

describe('EMA', () => {
  it('emaUpdate matches the reference, one dispatch over the arena', async () => {
    const e = await testEngine();
    const k = makeSet(e, 10, 'k');
    const q = makeSet(e, 11, 'q');
    const rk = await mirror(k);
    const rq = await mirror(q);
    for (const m of [0.9, 0.999, 0.99902445]) {
      expect(await countDispatches(e, () => emaUpdate(k, q, m))).toEqual({ total: 1, optim: 1 });
      rk.forEach((r, i) => emaRef(r, rq[i]!, m));
    }
    await expectSetClose(k, rk);
    k.dispose();
    q.dispose();
  });

  it('1 − m is exact at m = 0.999999 (computed in f64 on the host)', async () => {
    const e = await testEngine();
    const zeros = SHAPES.map((s) => ({ name: 'x', shape: s, init: new Float32Array(s.reduce((a, b) => a * b, 1)) }));
    const k = new ParamSet(e, zeros.map((z, i) => ({ ...z, name: `p${i}` })), 'k');
    const q = new ParamSet(e, zeros.map((z, i) => ({ ...z, name: `p${i}`, init: z.init.map(() => 1) })), 'q');
    emaUpdate(k, q, 0.999999);
    for (const v of (await k.read()).values()) expectAllClose(v, new Float64Array(v.length).fill(1 - 0.999999), { atol: 0, rtol: 1e-6 });
    k.dispose();
    q.dispose();
  });

  it('copyParams copies exactly; layout mismatches throw ShapeError', async () => {
    const e = await testEngine();
    const k = makeSet(e, 12, 'k');
    const q = makeSet(e, 13, 'q');
    copyParams(k, q);
    const a = await k.flat.read();
    expect(Array.from(a)).toEqual(Array.from(await q.flat.read()));
    const other = makeSet(e, 14, 'o', [[3], [7, 5], [1], [2, 3, 3, 3]]);
    const fewer = makeSet(e, 15, 'f', SHAPES.slice(0, 3));
    expect(() => emaUpdate(k, other, 0.99)).toThrow(ShapeError);
    expect(() => emaUpdate(k, fewer, 0.99)).toThrow(ShapeError);
    expect(() => copyParams(k, other)).toThrow(ShapeError);
    expect(() => emaUpdate(k, q, 1.5)).toThrow(RangeError);
    for (const x of [k, q, other, fewer]) x.dispose();
  });
});
