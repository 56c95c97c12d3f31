// SGD / AdamW / EMA kernels (kernels/optim.wgsl) against the f64 reference
// (src/reference/optim.ts), over ParamSets with awkward shapes.
import { describe, expect, it, vi } from 'vitest';
import { ShapeError, type Engine } from '../../src/index.js';
import type { RunSpec } from '../../src/engine.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { ParamSet } from '../../src/nn/params.js';
import { AdamW, copyParams, emaCoefficients, emaUpdate, SGD, type AdamWGroupOptions, type SGDGroupOptions } from '../../src/optim/index.js';
import { adamwStepRef, emaRef, sgdStepRef, type AdamWRefOptions, type SGDRefOptions } from '../../src/reference/optim.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

const SHAPES = [[3], [5, 7], [1], [2, 3, 3, 3]];
const TOL = { atol: 2e-6, rtol: 1e-5 };

function makeSet(e: Engine, seed: number, label = 'params', shapes = SHAPES): ParamSet {
  return new ParamSet(
    e,
    shapes.map((shape, i) => ({
      name: `${label}.p${i}`,
      shape,
      init: uniformData(
        shape.reduce((a, b) => a * b, 1),
        seed * 100 + i,
      ),
    })),
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
    const v = uniformData(g.size, 7919 * (step + 1) + 31 * seed + i);
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

/** The bits of f32 values, for bit-for-bit comparisons. */
function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** A set's whole parameter arena and an optimiser's state, read back. */
async function snapshot(set: ParamSet, opt: { stateTensors(): Record<string, Tensor> }): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = { params: bits(await set.flat.read()) };
  // Keys without the set's label, so that sets with different labels compare.
  for (const [k, t] of Object.entries(opt.stateTensors())) out[k.slice(set.label.length + 1)] = bits(await t.read());
  return out;
}

/** Writes the same random gradients into sets of equal layouts, multiplied in f32 by `scales[k]` (default 1) in set k. */
function writeSameGrads(sets: ParamSet[], step: number, scales: number[] = []): void {
  const g = sets[0]!.grads.map((t, i) => uniformData(t.size, 7919 * (step + 1) + i));
  sets.forEach((set, k) => {
    const s = Math.fround(scales[k] ?? 1);
    set.grads.forEach((t, i) => t.write(s === 1 ? g[i]! : g[i]!.map((x) => Math.fround(x * s))));
  });
}

interface RecordedRun {
  entry: string;
  params: RunSpec['params'];
  /** The GPU buffer bound to each binding. */
  bind: Map<string, GPUBuffer>;
}

/**
 * The dispatches `fn` records, through a wrapper around `engine.run` that
 * keeps each one's entry, uniform params and bound buffers; and the number of
 * host uploads (`tensor.write`, `engine.tensor`) it made.
 */
function recordRuns(e: Engine, fn: () => void): { runs: RecordedRun[]; uploads: number } {
  const runs: RecordedRun[] = [];
  const original = e.run.bind(e);
  const run = vi.spyOn(e, 'run').mockImplementation((family: string, entry: string, spec: RunSpec) => {
    const bind = new Map(Object.entries(spec.bind).map(([k, v]) => [k, v instanceof Tensor ? v.buffer : v]));
    runs.push({ entry: `${family}:${entry}`, params: structuredClone(spec.params), bind });
    original(family, entry, spec);
  });
  const upload = vi.spyOn(e, '_upload');
  try {
    fn();
    return { runs, uploads: upload.mock.calls.length };
  } finally {
    run.mockRestore();
    upload.mockRestore();
  }
}

/** Two recordings of the same dispatches: same entries, uniform params and buffers. */
function expectSameRuns(a: RecordedRun[], b: RecordedRun[]): void {
  expect(a.length).toBeGreaterThan(0);
  expect(b.map((r) => [r.entry, r.params])).toEqual(a.map((r) => [r.entry, r.params]));
  a.forEach((r, i) => {
    expect([...b[i]!.bind.keys()].sort()).toEqual([...r.bind.keys()].sort());
    for (const [k, buf] of r.bind) expect(b[i]!.bind.get(k) === buf, `binding '${k}' of ${r.entry}`).toBe(true);
  });
}

type Optimiser = SGD | AdamW;

/**
 * The split step and the gate, bit for bit, for optimisers built by `make`:
 *  - step() equals prepare() + update(gate = [1, 1]) (lr changing on the way);
 *  - a gate [0, x] leaves parameters and state untouched, even with non-finite
 *    gradients and scale;
 *  - a gate [1, s] equals a plain step on gradients scaled by s beforehand.
 */
async function checkSplitAndGate(e: Engine, make: (set: ParamSet) => Optimiser): Promise<void> {
  const ones = e.tensor([1, 1], [2]);
  const a = makeSet(e, 21, 'a');
  const b = makeSet(e, 21, 'b');
  const [oa, ob] = [make(a), make(b)];
  for (let s = 0; s < 4; s++) {
    if (s === 2) for (const o of [oa, ob]) o.setLr(0, o.groups[0]!.lr * 0.5);
    writeSameGrads([a, b], s);
    oa.step();
    ob.prepare();
    ob.update(ones);
    expect(await snapshot(b, ob)).toEqual(await snapshot(a, oa));
  }
  expect(ob.stepCount).toBe(4);

  // Skipped: non-finite gradients, gate [0, NaN].
  const before = await snapshot(b, ob);
  b.grads.forEach((t, i) => t.write(new Float32Array(t.size).fill(i % 2 ? Infinity : NaN)));
  const skip = e.tensor([0, NaN], [2]);
  ob.step(skip);
  expect(await snapshot(b, ob)).toEqual(before);

  // Scaled: gate [1, s] vs gradients multiplied by s (in f32) first.
  const c = makeSet(e, 22, 'c');
  const d = makeSet(e, 22, 'd');
  const [oc, od] = [make(c), make(d)];
  for (const [s, scale] of [0.37, 1.7, 2 ** -5, 0.0123].entries()) {
    writeSameGrads([c, d], s, [1, scale]);
    const gate = e.tensor([1, scale], [2]);
    oc.step(gate);
    od.step();
    gate.dispose();
    expect(await snapshot(c, oc)).toEqual(await snapshot(d, od));
  }

  // A gate must be 2 f32 values.
  const bad = e.tensor([1, 1, 1], [3]);
  expect(() => oc.step(bad)).toThrow(ShapeError);
  for (const x of [ones, skip, bad]) x.dispose();
  for (const x of [oa, ob, oc, od]) x.dispose();
  for (const x of [a, b, c, d]) x.dispose();
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
    const opt = new SGD([
      { params: a, ...oa },
      { params: b, ...ob },
    ]);
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

  const gateCases: [string, Omit<SGDGroupOptions, 'params'>][] = [
    ['plain + weight decay', { lr: 0.1, weightDecay: 0.05 }],
    ['momentum', { lr: 0.1, momentum: 0.9 }],
    ['nesterov + weight decay', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-2 }],
    ['dampening + weight decay', { lr: 0.1, momentum: 0.8, dampening: 0.3, weightDecay: 1e-3 }],
  ];
  for (const [name, o] of gateCases) {
    it(`${name}: step() = prepare() + update([1, 1]); gate [0, x] skips; gate [1, s] = gradients scaled by s (bit for bit)`, async () => {
      const e = await testEngine();
      await checkSplitAndGate(e, (set) => new SGD([{ params: set, ...o }]));
    });
  }

  it('update() after the first step: the same uniforms and buffers for any lr, and no host writes', async () => {
    const e = await testEngine();
    const a = makeSet(e, 23, 'a');
    const b = makeSet(e, 24, 'b', [[4, 5], [65]]);
    const opt = new SGD([
      { params: a, lr: 0.1, momentum: 0.9, weightDecay: 1e-4 },
      { params: b, lr: 0.2 },
    ]);
    const gate = e.tensor([1, 0.5], [2]);
    writeGrads(a, 0, 23);
    writeGrads(b, 0, 24);
    opt.step(gate); // the first step: the momentum group's uniform says "first"
    const seen: RecordedRun[][] = [];
    for (const lr of [0.05, 0.01]) {
      opt.setLr(0, lr);
      opt.setLr(1, 2 * lr);
      opt.prepare();
      const r = recordRuns(e, () => opt.update(gate));
      expect(r.uploads).toBe(0);
      expect(r.runs.map((x) => x.entry)).toEqual(['optim:sgd_momentum', 'optim:sgd']);
      seen.push(r.runs);
    }
    expectSameRuns(seen[0]!, seen[1]!);
    // Without a gate, too.
    const plain = [0.3, 0.4].map((lr) => {
      opt.setLr(0, lr);
      opt.prepare();
      return recordRuns(e, () => opt.update());
    });
    for (const r of plain) expect(r.uploads).toBe(0);
    expectSameRuns(plain[0]!.runs, plain[1]!.runs);
    gate.dispose();
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('an optimiser built inside a scope keeps its buffers; dispose() frees them', async () => {
    const e = await testEngine();
    const set = makeSet(e, 25);
    const live = e.memory().liveTensors;
    const opt = e.scope(() => new SGD([{ params: set, lr: 0.1, momentum: 0.9 }]));
    writeGrads(set, 0, 25);
    e.scope(() => opt.step());
    await e.sync();
    opt.dispose();
    expect(e.memory().liveTensors).toBe(live);
    set.dispose();
  });

  it('rejects invalid settings', async () => {
    const e = await testEngine();
    const set = makeSet(e, 6);
    expect(() => new SGD([{ params: set, lr: 0.1, nesterov: true }])).toThrow(RangeError);
    expect(() => new SGD([{ params: set, lr: -1 }])).toThrow(RangeError);
    expect(
      () =>
        new SGD([
          { params: set, lr: 0.1 },
          { params: set, lr: 0.2 },
        ]),
    ).toThrow(RangeError);
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

  for (const [name, o] of [
    ['defaults', { lr: 1e-2 }],
    ['betas, eps, weight decay', { lr: 3e-3, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 }],
  ] as [string, Omit<AdamWGroupOptions, 'params'>][]) {
    it(`${name}: step() = prepare() + update([1, 1]); gate [0, x] skips; gate [1, s] = gradients scaled by s (bit for bit)`, async () => {
      const e = await testEngine();
      await checkSplitAndGate(e, (set) => new AdamW([{ params: set, ...o }]));
    });
  }

  it('update(): the same uniforms and buffers at every step count and lr, and no host writes', async () => {
    const e = await testEngine();
    const a = makeSet(e, 26, 'a');
    const b = makeSet(e, 27, 'b', [[2, 3, 3, 3], [1]]);
    const opt = new AdamW([
      { params: a, lr: 1e-2 },
      { params: b, lr: 3e-3, betas: [0.8, 0.99], weightDecay: 0.1 },
    ]);
    const seen: RecordedRun[][] = [];
    for (let s = 0; s < 3; s++) {
      writeGrads(a, s, 26);
      writeGrads(b, s, 27);
      opt.setLr(1, 3e-3 / (s + 1));
      opt.prepare();
      const r = recordRuns(e, () => opt.update());
      expect(r.uploads).toBe(0);
      expect(r.runs.map((x) => x.entry)).toEqual(['optim:adamw', 'optim:adamw']);
      seen.push(r.runs);
    }
    expect(opt.stepCount).toBe(3);
    expectSameRuns(seen[0]!, seen[1]!);
    expectSameRuns(seen[0]!, seen[2]!);
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

  it('m as a tensor [m, 1 − m] equals m as a number bit for bit; gate [0, …] leaves the target unchanged', async () => {
    const e = await testEngine();
    const a = makeSet(e, 16, 'k');
    const b = makeSet(e, 16, 'k');
    const q = makeSet(e, 17, 'q');
    const coef = e.tensor([0, 0], [2]);
    for (const m of [0.9, 0.999, 0.99902445, 0.999999, 0, 1]) {
      emaUpdate(a, q, m);
      coef.write(emaCoefficients(m));
      emaUpdate(b, q, coef);
      expect(bits(await b.flat.read())).toEqual(bits(await a.flat.read()));
    }
    // gate[0] = 0 skips (both forms); gate[1] is not used by the EMA.
    const before = bits(await a.flat.read());
    const skip = e.tensor([0, 1], [2]);
    coef.write(emaCoefficients(0.5));
    emaUpdate(a, q, 0.5, skip);
    emaUpdate(b, q, coef, skip);
    expect(bits(await a.flat.read())).toEqual(before);
    expect(bits(await b.flat.read())).toEqual(before);
    const apply = e.tensor([1, 123], [2]);
    emaUpdate(a, q, 0.5);
    emaUpdate(b, q, coef, apply);
    expect(bits(await b.flat.read())).toEqual(bits(await a.flat.read()));
    for (const x of [coef, skip, apply]) x.dispose();
    for (const x of [a, b, q]) x.dispose();
  });

  it('emaCoefficients: [m, 1 − m] from f64; the number form leaves no tensors; bad arguments throw', async () => {
    const e = await testEngine();
    expect(Array.from(emaCoefficients(0.999999))).toEqual([Math.fround(0.999999), Math.fround(1 - 0.999999)]);
    expect(() => emaCoefficients(1.5)).toThrow(RangeError);
    expect(() => emaCoefficients(NaN)).toThrow(RangeError);
    const k = makeSet(e, 18, 'k');
    const q = makeSet(e, 19, 'q');
    const live = e.memory().liveTensors;
    emaUpdate(k, q, 0.99);
    emaUpdate(k, q, 0.98);
    expect(e.memory().liveTensors).toBe(live);
    const three = e.tensor([0.9, 0.1, 0], [3]);
    expect(() => emaUpdate(k, q, three)).toThrow(ShapeError);
    expect(() => emaUpdate(k, q, 0.9, three)).toThrow(ShapeError);
    three.dispose();
    k.dispose();
    q.dispose();
  });

  it('emaUpdate with a tensor m: the same uniforms and buffers for any m, and no host writes', async () => {
    const e = await testEngine();
    const k = makeSet(e, 20, 'k');
    const q = makeSet(e, 21, 'q');
    const coef = e.tensor([0, 0], [2]);
    const gate = e.tensor([1, 1], [2]);
    for (const g of [gate, undefined]) {
      const seen = [0.99, 0.999999].map((m) => {
        coef.write(emaCoefficients(m));
        const r = recordRuns(e, () => emaUpdate(k, q, coef, g));
        expect(r.uploads).toBe(0);
        expect(r.runs.map((x) => x.entry)).toEqual(['optim:ema']);
        return r.runs;
      });
      expectSameRuns(seen[0]!, seen[1]!);
    }
    for (const x of [coef, gate]) x.dispose();
    k.dispose();
    q.dispose();
  });

  it('1 − m is exact at m = 0.999999 (computed in f64 on the host)', async () => {
    const e = await testEngine();
    const zeros = SHAPES.map((s) => ({ name: 'x', shape: s, init: new Float32Array(s.reduce((a, b) => a * b, 1)) }));
    const k = new ParamSet(
      e,
      zeros.map((z, i) => ({ ...z, name: `p${i}` })),
      'k',
    );
    const q = new ParamSet(
      e,
      zeros.map((z, i) => ({ ...z, name: `p${i}`, init: z.init.map(() => 1) })),
      'q',
    );
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
