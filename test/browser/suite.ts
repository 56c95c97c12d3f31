/**
 * The browser test suite: runs inside a Chromium page (test/browser/index.html),
 * driven by test/browser/run.mjs. Kernel results are compared with the
 * plain-TypeScript references in src/reference/; then a few AutoMix
 * iterations run end to end.
 *
 * Every op and reference module is imported statically and typed, so a
 * renamed or missing module fails the type check and the bundle instead of
 * quietly dropping its test; a test that fails to compute fails on its own
 * without stopping the others. There is no "skip": the runner fails on
 * anything but a pass.
 * Tolerances (|gpu − ref| ≤ atol + rtol·|ref|) are stated per test.
 */
import type { Engine } from '../../src/engine.js';
import * as activationOps from '../../src/ops/activation.js';
import * as batchnormOps from '../../src/ops/batchnorm.js';
import * as conv2dOps from '../../src/ops/conv2d.js';
import * as crossEntropyOps from '../../src/ops/cross-entropy.js';
import * as elementwiseOps from '../../src/ops/elementwise.js';
import * as matmulOps from '../../src/ops/matmul.js';
import * as mixBlockAttentionOps from '../../src/ops/mix-block-attention.js';
import * as blendOps from '../../src/ops/blend.js';
import * as poolOps from '../../src/ops/pool.js';
import * as reduceOps from '../../src/ops/reduce.js';
import * as softmaxOps from '../../src/ops/softmax.js';
import * as upsampleOps from '../../src/ops/upsample.js';
import * as activationRef from '../../src/reference/activation.js';
import * as batchnormRef from '../../src/reference/batchnorm.js';
import * as conv2dRef from '../../src/reference/conv2d.js';
import * as crossEntropyRef from '../../src/reference/cross-entropy.js';
import * as elementwiseRef from '../../src/reference/elementwise.js';
import * as matmulRef from '../../src/reference/matmul.js';
import * as mixBlockAttentionRef from '../../src/reference/mix-block-attention.js';
import * as blendRef from '../../src/reference/blend.js';
import * as poolRef from '../../src/reference/pool.js';
import * as reduceRef from '../../src/reference/reduce.js';
import * as softmaxRef from '../../src/reference/softmax.js';
import * as upsampleRef from '../../src/reference/upsample.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { clearTuneCache, type IndexedDbTuneStore, indexedDbTuneStore } from '../../src/tune/store-indexeddb.js';
import { adapterKey, Tuner } from '../../src/tune/tuner.js';
import type { TuneCacheDoc, TuneConfig, TuneRecord } from '../../src/tune/types.js';

// ---- the modules under test, by file name ------------------------------------

const OPS = {
  activation: activationOps,
  batchnorm: batchnormOps,
  conv2d: conv2dOps,
  'cross-entropy': crossEntropyOps,
  elementwise: elementwiseOps,
  matmul: matmulOps,
  'mix-block-attention': mixBlockAttentionOps,
  blend: blendOps,
  pool: poolOps,
  reduce: reduceOps,
  softmax: softmaxOps,
  upsample: upsampleOps,
} as const;
const REFS = {
  activation: activationRef,
  batchnorm: batchnormRef,
  conv2d: conv2dRef,
  'cross-entropy': crossEntropyRef,
  elementwise: elementwiseRef,
  matmul: matmulRef,
  'mix-block-attention': mixBlockAttentionRef,
  blend: blendRef,
  pool: poolRef,
  reduce: reduceRef,
  softmax: softmaxRef,
  upsample: upsampleRef,
} as const;

const op = async <K extends keyof typeof OPS>(name: K): Promise<(typeof OPS)[K]> => OPS[name];
const ref = async <K extends keyof typeof REFS>(name: K): Promise<(typeof REFS)[K]> => REFS[name];

// ---- helpers -----------------------------------------------------------------

interface Tol {
  atol: number;
  rtol: number;
}

/** Deterministic uniform values in [-scale, scale) (mulberry32). */
function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = (seed * 0x9e3779b9) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

function randInt(n: number, max: number, seed: number): Int32Array {
  return Int32Array.from(rand(n, seed), (v) => Math.min(max - 1, Math.floor(((v + 1) / 2) * max)));
}

/** Throws with the first mismatches when |got − want| > atol + rtol·|want| anywhere. */
function assertClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol): number {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  let worst = 0;
  let bad = 0;
  const first: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (Number.isFinite(err)) worst = Math.max(worst, err);
    if (!(err <= tol.atol + tol.rtol * Math.abs(want[i]!))) {
      bad++;
      if (first.length < 4) first.push(`[${i}] got ${got[i]}, want ${want[i]}`);
    }
  }
  if (bad) throw new Error(`${what}: ${bad}/${got.length} values outside atol ${tol.atol}, rtol ${tol.rtol}: ${first.join('; ')}`);
  return worst;
}

/** Runs `fn` in an engine scope (all tensors freed afterwards, kept ones included). */
async function scoped<T>(e: Engine, fn: () => Promise<T>): Promise<T> {
  return e.asyncScope(fn);
}

const fmtErr = (x: number) => x.toExponential(1);

// ---- tests -------------------------------------------------------------------

interface Ctx {
  engine: Engine;
}

type TestFn = (c: Ctx) => Promise<string>;

const tests: { name: string; fn: TestFn }[] = [];
const test = (name: string, fn: TestFn) => tests.push({ name, fn });

test('elementwise: add/sub/mul (broadcast), affine, relu, mul backward', async ({ engine: e }) => {
  const E = await op('elementwise');
  const R = await op('reduce');
  const ref1 = await ref('elementwise');
  const tol = { atol: 1e-6, rtol: 1e-6 };
  return scoped(e, async () => {
    const a = rand(3 * 5, 1);
    const b = rand(4 * 5, 2);
    const ta = e.tensor(a, [3, 1, 5]);
    const tb = e.tensor(b, [4, 5]);
    let worst = 0;
    const binary = async (name: string, got: Tensor, want: { data: Float64Array; shape: number[] }) => {
      if (got.shape.join() !== want.shape.join()) throw new Error(`${name}: shape [${got.shape}], expected [${want.shape}]`);
      worst = Math.max(worst, assertClose(name, await got.read(), want.data, tol));
    };
    await binary('add', E.add(ta, tb), ref1.addRef(a, [3, 1, 5], b, [4, 5]));
    await binary('mul', E.mul(ta, tb), ref1.mulRef(a, [3, 1, 5], b, [4, 5]));
    await binary(
      'sub',
      E.sub(ta, tb),
      ref1.binaryRef(a, [3, 1, 5], b, [4, 5], (x: number, y: number) => x - y),
    );
    worst = Math.max(
      worst,
      assertClose(
        'affine',
        await E.affine(ta, 2.5, -1).read(),
        Array.from(a, (v) => 2.5 * v - 1),
        tol,
      ),
    );
    const big = rand(70_001, 3);
    worst = Math.max(worst, assertClose('relu (70001)', await E.relu(e.tensor(big, [70_001])).read(), ref1.reluRef(big), tol));
    // Backward: d/da Σ a⊙b = b, d/db = a.
    const ga = e.tensor(a, [15], { requiresGrad: true });
    const gb = e.tensor(rand(15, 4), [15], { requiresGrad: true });
    R.sum(E.mul(ga, gb)).backward();
    worst = Math.max(worst, assertClose('mul backward da', await ga.grad!.read(), await gb.read(), tol));
    worst = Math.max(worst, assertClose('mul backward db', await gb.grad!.read(), a, tol));
    return `max |Δ| ${fmtErr(worst)}`;
  });
});

test('matmul: odd sizes, transposes, bias+ReLU, batched, 128×256×96', async ({ engine: e }) => {
  const M = await op('matmul');
  const R = await ref('matmul');
  const cases = [
    { M: 37, K: 53, N: 29 },
    { M: 1, K: 7, N: 1 },
    { M: 16, K: 40, N: 24, transA: true, transB: true, bias: true, activation: 'relu' as const },
    { M: 9, K: 17, N: 11, batch: 3, aBatched: true, bBatched: false },
    { M: 128, K: 256, N: 96 },
  ];
  let worst = 0;
  for (const [i, c] of cases.entries()) {
    await scoped(e, async () => {
      const batch = c.batch ?? 1;
      const aB = c.aBatched ?? false;
      const bB = c.bBatched ?? false;
      const a = rand((aB ? batch : 1) * c.M * c.K, 10 + i);
      const b = rand((bB ? batch : 1) * c.K * c.N, 20 + i);
      const bias = c.bias ? rand(c.N, 30 + i) : null;
      const aShape = c.transA ? [c.K, c.M] : [c.M, c.K];
      const bShape = c.transB ? [c.N, c.K] : [c.K, c.N];
      const ta = e.tensor(a, aB ? [batch, ...aShape] : aShape);
      const tb = e.tensor(b, bB ? [batch, ...bShape] : bShape);
      const out = M.matmul(ta, tb, { transA: c.transA, transB: c.transB, bias: bias ? e.tensor(bias, [c.N]) : null, activation: c.activation });
      const want = R.matmulRef(a, b, { ...c, batch, aBatched: aB, bBatched: bB, bias });
      // f32 dot products of K terms of size ≤ 1.
      worst = Math.max(worst, assertClose(`matmul case ${i}`, await out.read(), want, { atol: 1e-5 * c.K, rtol: 1e-5 }));
    });
  }
  return `${cases.length} cases, max |Δ| ${fmtErr(worst)}`;
});

test('reductions: sum (100003), mean, sumToShape', async ({ engine: e }) => {
  const R = await op('reduce');
  const ref1 = await ref('reduce');
  return scoped(e, async () => {
    const x = rand(100_003, 5);
    const t = e.tensor(x, [100_003]);
    const s = await R.sum(t).item();
    const want = ref1.sumRef(x);
    assertClose('sum', [s], [want], { atol: 1e-3, rtol: 1e-5 });
    assertClose('mean', [await R.mean(t).item()], [want / x.length], { atol: 1e-7, rtol: 1e-5 });
    const y = rand(4 * 6 * 5, 6);
    const got = await R.sumToShape(e.tensor(y, [4, 6, 5]), [1, 6, 1]).read();
    assertClose('sumToShape [4,6,5]→[1,6,1]', got, ref1.sumToShapeRef(y, [4, 6, 5], [1, 6, 1]), { atol: 1e-5, rtol: 1e-5 });
    return `sum ${s.toFixed(4)} vs ${want.toFixed(4)}`;
  });
});

test('softmax / log-softmax: narrow and wide rows, backward', async ({ engine: e }) => {
  const S = await op('softmax');
  const R = await ref('softmax');
  const tol = { atol: 2e-6, rtol: 1e-5 };
  let worst = 0;
  for (const [rows, cols] of [
    [7, 10],
    [3, 300],
  ] as const) {
    await scoped(e, async () => {
      const x = rand(rows * cols, rows + cols, 4);
      worst = Math.max(worst, assertClose(`softmax ${rows}×${cols}`, await S.softmax(e.tensor(x, [rows, cols])).read(), R.softmaxRef(x, cols), tol));
      const tx = e.tensor(x, [rows, cols], { requiresGrad: true });
      const y = S.logSoftmax(tx);
      worst = Math.max(worst, assertClose(`logSoftmax ${rows}×${cols}`, await y.read(), R.softmaxRef(x, cols, true), { atol: 1e-5, rtol: 1e-5 }));
      const g = rand(rows * cols, 99);
      y.backward(e.tensor(g, [rows, cols]));
      const yRef = R.softmaxRef(x, cols, true);
      worst = Math.max(
        worst,
        assertClose(`logSoftmax backward ${rows}×${cols}`, await tx.grad!.read(), R.softmaxBackwardRef(yRef, g, cols, true), { atol: 1e-5, rtol: 1e-4 }),
      );
    });
  }
  return `max |Δ| ${fmtErr(worst)}`;
});

test('cross-entropy: plain and mixed (λ = 0.3), backward', async ({ engine: e }) => {
  const CE = await op('cross-entropy');
  const R = await ref('cross-entropy');
  return scoped(e, async () => {
    const rows = 9;
    const cols = 10;
    const x = rand(rows * cols, 41, 3);
    const ya = randInt(rows, cols, 42);
    const yb = randInt(rows, cols, 43);
    const la = e.tensor(ya, [rows], { dtype: 'i32' });
    const lb = e.tensor(yb, [rows], { dtype: 'i32' });
    const plain = await CE.crossEntropy(e.tensor(x, [rows, cols]), la).item();
    assertClose('crossEntropy', [plain], [R.crossEntropyRef(x, cols, ya)], { atol: 1e-5, rtol: 1e-5 });
    const tx = e.tensor(x, [rows, cols], { requiresGrad: true });
    const loss = CE.mixedCrossEntropy(tx, la, lb, 0.3);
    const mixed = await loss.item();
    assertClose('mixedCrossEntropy', [mixed], [R.mixedCrossEntropyRef(x, cols, ya, yb, 0.3)], { atol: 1e-5, rtol: 1e-5 });
    loss.backward();
    const w = assertClose('mixedCrossEntropy backward', await tx.grad!.read(), R.mixedCrossEntropyBackwardRef(x, cols, ya, yb, 0.3), {
      atol: 1e-6,
      rtol: 1e-4,
    });
    return `loss ${plain.toFixed(5)} / mixed ${mixed.toFixed(5)}, grad max |Δ| ${fmtErr(w)}`;
  });
});

test('conv2d: stride 2 + padding + bias with backward; groups 2; 1×1', async ({ engine: e }) => {
  const C2 = await op('conv2d');
  const R = await ref('conv2d');
  const geom = (p: Partial<Record<string, number>>) => ({
    N: 1,
    C: 1,
    H: 1,
    W: 1,
    O: 1,
    KH: 1,
    KW: 1,
    sh: 1,
    sw: 1,
    ph: 0,
    pw: 0,
    dh: 1,
    dw: 1,
    groups: 1,
    ...p,
  });
  const cases = [
    { g: geom({ N: 2, C: 3, H: 9, W: 7, O: 4, KH: 3, KW: 3, sh: 2, sw: 2, ph: 1, pw: 1 }), opts: { stride: 2, padding: 1 }, bias: true, backward: true },
    { g: geom({ N: 1, C: 4, H: 6, W: 6, O: 6, KH: 3, KW: 3, ph: 1, pw: 1, groups: 2 }), opts: { padding: 1, groups: 2 }, bias: false, backward: false },
    { g: geom({ N: 3, C: 8, H: 5, W: 5, O: 16, sh: 2, sw: 2 }), opts: { stride: 2 }, bias: false, backward: true },
  ];
  let worst = 0;
  for (const [i, c] of cases.entries()) {
    await scoped(e, async () => {
      const { g } = c;
      const x = rand(g.N * g.C * g.H * g.W, 50 + i);
      const w = rand(g.O * (g.C / g.groups) * g.KH * g.KW, 60 + i);
      const b = c.bias ? rand(g.O, 70 + i) : null;
      const tx = e.tensor(x, [g.N, g.C, g.H, g.W], { requiresGrad: c.backward });
      const tw = e.tensor(w, [g.O, g.C / g.groups, g.KH, g.KW], { requiresGrad: c.backward });
      const tb = b ? e.tensor(b, [g.O], { requiresGrad: c.backward }) : null;
      const y = C2.conv2d(tx, tw, tb, c.opts);
      const K = (g.C / g.groups) * g.KH * g.KW;
      const tol = { atol: 2e-6 * K, rtol: 1e-5 };
      worst = Math.max(worst, assertClose(`conv2d case ${i} forward`, await y.read(), R.conv2dRef(x, w, b, g), tol));
      if (c.backward) {
        const dy = rand(y.size, 80 + i);
        y.backward(e.tensor(dy, y.shape));
        const want = R.conv2dBackwardRef(x, w, dy, g);
        const btol = { atol: 1e-4, rtol: 1e-4 };
        worst = Math.max(worst, assertClose(`conv2d case ${i} dx`, await tx.grad!.read(), want.dx, btol));
        worst = Math.max(worst, assertClose(`conv2d case ${i} dw`, await tw.grad!.read(), want.dw, btol));
        if (tb) worst = Math.max(worst, assertClose(`conv2d case ${i} db`, await tb.grad!.read(), want.db, btol));
      }
    });
  }
  return `${cases.length} cases, max |Δ| ${fmtErr(worst)}`;
});

test('batch norm (training): output, running stats, backward', async ({ engine: e }) => {
  const B = await op('batchnorm');
  const R = await ref('batchnorm');
  return scoped(e, async () => {
    const shape = [4, 3, 5, 6];
    const [, C] = shape as [number, number];
    const n = shape.reduce((p, q) => p * q, 1);
    const x = Float32Array.from(rand(n, 90), (v, i) => 2 * v + (i % 3)); // non-zero means
    const w = rand(C, 91);
    const bias = rand(C, 92);
    const rm = new Float32Array(C);
    const rv = new Float32Array(C).fill(1);
    const tx = e.tensor(x, shape, { requiresGrad: true });
    const tw = e.tensor(w, [C], { requiresGrad: true });
    const tbias = e.tensor(bias, [C], { requiresGrad: true });
    const trm = e.tensor(rm, [C]);
    const trv = e.tensor(rv, [C]);
    const y = B.batchNorm2d(tx, tw, tbias, trm, trv, { training: true, momentum: 0.1, eps: 1e-5 });
    const want = R.batchNorm2dRef(x, shape, w, bias, rm, rv, { training: true, momentum: 0.1, eps: 1e-5 });
    const tol = { atol: 1e-5, rtol: 1e-4 };
    let worst = assertClose('batchNorm2d y', await y.read(), want.y, tol);
    worst = Math.max(worst, assertClose('running mean', await trm.read(), want.runningMean, tol));
    worst = Math.max(worst, assertClose('running var', await trv.read(), want.runningVar, tol));
    const dy = rand(n, 93);
    y.backward(e.tensor(dy, shape));
    const g = R.batchNorm2dBackwardRef(x, shape, w, dy, want.mean, want.invstd, true);
    const btol = { atol: 1e-4, rtol: 1e-3 };
    worst = Math.max(worst, assertClose('dx', await tx.grad!.read(), g.dx, btol));
    worst = Math.max(worst, assertClose('dweight', await tw.grad!.read(), g.dweight, btol));
    worst = Math.max(worst, assertClose('dbias', await tbias.grad!.read(), g.dbias, btol));
    return `max |Δ| ${fmtErr(worst)}`;
  });
});

test('mix block attention logits (with and without the λ channel)', async ({ engine: e }) => {
  const MB = await op('mix-block-attention');
  const R = await ref('mix-block-attention');
  let worst = 0;
  for (const lam of [undefined, 0.3]) {
    await scoped(e, async () => {
      const N = 3;
      const C = 5;
      const h = 3;
      const w = 4;
      const d = 2;
      const Cp = C + (lam === undefined ? 0 : 1);
      const perm = [2, 0, 1];
      const z = rand(N * C * h * w, 100);
      const wq = rand(d * Cp, 101, 0.5);
      const bq = rand(d, 102, 0.5);
      const wv = rand(Cp, 103);
      const bv = rand(1, 104);
      const s = MB.mixBlockLogits(
        e.tensor(z, [N, C, h, w]),
        e.tensor(perm, [N], { dtype: 'i32' }),
        e.tensor(wq, [d, Cp]),
        e.tensor(bq, [d]),
        e.tensor(wv, [1, Cp]),
        e.tensor(bv, [1]),
        lam === undefined ? {} : { lam },
      );
      const want = R.mixBlockLogitsRef(z, perm, wq, bq, wv, bv, { N, C, L: h * w, d }, lam);
      worst = Math.max(worst, assertClose(`mixBlockLogits λ=${lam}`, await s.read(), want, { atol: 2e-5, rtol: 2e-4 }));
    });
  }
  return `max |Δ| ${fmtErr(worst)}`;
});

test('AutoMix path ops: sigmoid, nearest upsample, masked blend, global average pool', async ({ engine: e }) => {
  const A = await op('activation');
  const U = await op('upsample');
  const MX = await op('blend');
  const P = await op('pool');
  const [rA, rU, rM, rP] = await Promise.all([ref('activation'), ref('upsample'), ref('blend'), ref('pool')]);
  return scoped(e, async () => {
    const tol = { atol: 1e-6, rtol: 1e-5 };
    const s = rand(2 * 1 * 3 * 3, 110, 4);
    let worst = assertClose('sigmoid', await A.sigmoid(e.tensor(s, [2, 1, 3, 3])).read(), rA.sigmoidRef(s), tol);
    worst = Math.max(
      worst,
      assertClose('upsample ×4', await U.upsample(e.tensor(s, [2, 1, 3, 3]), 4, 'nearest').read(), rU.upsampleRef(s, [2, 1, 3, 3], 4, 'nearest'), tol),
    );
    const x = rand(3 * 2 * 4 * 5, 111);
    const m = Float32Array.from(rand(3 * 4 * 5, 112), (v) => (v + 1) / 2);
    const perm = [1, 2, 0];
    const blended = await MX.maskedBlend(e.tensor(x, [3, 2, 4, 5]), e.tensor(m, [3, 1, 4, 5]), e.tensor(perm, [3], { dtype: 'i32' })).read();
    worst = Math.max(worst, assertClose('maskedBlend', blended, rM.maskedBlendRef(x, m, perm, { N: 3, C: 2, S: 20 }), tol));
    worst = Math.max(worst, assertClose('globalAvgPool', await P.globalAvgPool(e.tensor(x, [3, 2, 4, 5])).read(), rP.globalAvgPoolRef(x, [3, 2, 4, 5]), tol));
    return `max |Δ| ${fmtErr(worst)}`;
  });
});

// ---- the tuning cache in IndexedDB (src/tune/store-indexeddb.ts) ----------------

/** A database name of its own per test, so the page's real cache is left alone. */
const testDbName = (what: string) => `automix-webgpu-test-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

function deleteDb(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error ?? new Error(`deleting IndexedDB '${name}' failed`));
  });
}

/** One cached record for a matmul shape on this engine's adapter: a valid candidate that is not the static rule. */
function matmulRecordFor(e: Engine): { doc: TuneCacheDoc; problem: matmulOps.MatmulProblem; config: TuneConfig } {
  const T = matmulOps.MATMUL_TUNING;
  const problem: matmulOps.MatmulProblem = {
    M: 33,
    K: 17,
    N: 65,
    batch: 1,
    aBatched: false,
    bBatched: false,
    transA: false,
    transB: false,
    bias: false,
    act: 'none',
  };
  const staticName = T.describe(T.staticConfig(e, problem));
  const config = T.candidates(e, problem).find((c) => T.describe(c) !== staticName);
  if (!config) throw new Error('matmul has no candidate besides the static rule on this adapter');
  const { key, adapter } = adapterKey(e);
  const record: TuneRecord = {
    config,
    ms: 1,
    staticMs: 2,
    static: staticName,
    tried: 2,
    tuneMs: 10,
    timing: 'wall-clock',
    date: new Date().toISOString(),
    timings: { [T.describe(config)]: 1, 'cut short': Number.POSITIVE_INFINITY },
  };
  return { doc: { version: 1, adapters: { [key]: { adapter, entries: { [`matmul@v${T.version}:${T.key(problem)}`]: record } } } }, problem, config };
}

test('tune cache: a record saved to IndexedDB is found by a new store (a reload) and by the tuner; clear removes it', async ({ engine: e }) => {
  const def = e.tuneStore as Partial<IndexedDbTuneStore> | null;
  if (def?.persistent !== true) {
    throw new Error(`createEngine() did not open the IndexedDB store: tuneStore is ${def ? `'${def.where}', persistent ${def.persistent}` : 'null'}`);
  }
  const database = testDbName('reload');
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  try {
    const first = await indexedDbTuneStore({ database, warn });
    if (!first.persistent || first.load() !== null) throw new Error(`a fresh database: persistent ${first.persistent}, load() ${JSON.stringify(first.load())}`);
    const { doc, problem, config } = matmulRecordFor(e);
    first.save(doc);
    await first.flush();
    // The reload: a new store reads the database afresh.
    const second = await indexedDbTuneStore({ database, warn });
    const got = second.load() as TuneCacheDoc | null;
    if (JSON.stringify(got) !== JSON.stringify(doc)) throw new Error(`read back ${JSON.stringify(got)}, saved ${JSON.stringify(doc)}`);
    const timings = Object.values(got!.adapters)[0]!.entries[Object.keys(Object.values(doc.adapters)[0]!.entries)[0]!]!.timings!;
    if (timings['cut short'] !== Number.POSITIVE_INFINITY) throw new Error(`an Infinity timing came back as ${timings['cut short']}`);
    const choice = new Tuner(e, { mode: 'cached', store: second }).choose(matmulOps.MATMUL_TUNING, problem);
    if (choice.source !== 'cache' || JSON.stringify(choice.config) !== JSON.stringify(config)) {
      throw new Error(`the tuner over the reloaded store chose ${JSON.stringify(choice)}, expected the cached ${JSON.stringify(config)}`);
    }
    await second.clear();
    const third = await indexedDbTuneStore({ database, warn });
    if (third.load() !== null) throw new Error(`after clear() a new store still reads ${JSON.stringify(third.load())}`);
    // clearTuneCache() on a database that holds a record again.
    third.save(doc);
    await third.flush();
    if (!(await clearTuneCache({ database, warn }))) throw new Error('clearTuneCache() returned false');
    if ((await indexedDbTuneStore({ database, warn })).load() !== null) throw new Error('after clearTuneCache() a new store still reads the record');
    if (warnings.length) throw new Error(`unexpected warnings: ${warnings.join(' | ')}`);
    return `'${first.where}': saved, read back by a new store (Infinity kept), the tuner's choice 'cache' ${matmulOps.MATMUL_TUNING.describe(config)}; cleared by clear() and by clearTuneCache(); default engine store '${def.where}'`;
  } finally {
    await deleteDb(database);
  }
});

test('tune cache: memory with one warning when IndexedDB is turned off, undefined, inaccessible, or fails to open', async ({ engine: e }) => {
  const { doc } = matmulRecordFor(e);
  const seen: string[] = [];
  /** The store must work in memory, not persist, and have warned exactly once. */
  const check = async (what: string, open: (warn: (m: string) => void) => Promise<IndexedDbTuneStore>, why: RegExp) => {
    const warnings: string[] = [];
    const s = await open((m) => warnings.push(m));
    s.save(doc);
    await s.flush();
    if (s.persistent || s.where !== 'memory') throw new Error(`${what}: persistent ${s.persistent}, where '${s.where}'`);
    if (JSON.stringify(s.load()) !== JSON.stringify(doc)) throw new Error(`${what}: the memory copy reads ${JSON.stringify(s.load())}`);
    if (warnings.length !== 1 || !why.test(warnings[0]!)) throw new Error(`${what}: warnings ${JSON.stringify(warnings)}, expected one matching ${why}`);
    seen.push(`${what}: ${warnings[0]!.replace('[tune] the tuning cache stays in memory for this page: ', '')}`);
  };
  await check('turned off', (warn) => indexedDbTuneStore({ indexedDB: null, warn }), /turned off/);

  // `indexedDB` undefined, then a getter that throws (a sandboxed frame): shadow the global, then restore it.
  const own = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB');
  const shadow = (get: () => unknown) => Object.defineProperty(globalThis, 'indexedDB', { configurable: true, get });
  const restore = () => {
    if (own) Object.defineProperty(globalThis, 'indexedDB', own);
    else delete (globalThis as { indexedDB?: unknown }).indexedDB;
  };
  try {
    shadow(() => undefined);
    await check('undefined', (warn) => indexedDbTuneStore({ warn }), /not defined/);
    shadow(() => {
      throw new DOMException('access to indexedDB is denied', 'SecurityError');
    });
    await check('inaccessible', (warn) => indexedDbTuneStore({ warn }), /SecurityError/);
  } finally {
    restore();
  }
  if (typeof indexedDB === 'undefined') throw new Error('indexedDB was not restored');

  // A real failed open: the database exists at a newer version than the store asks for (VersionError).
  const database = testDbName('version');
  try {
    await new Promise<void>((resolve, reject) => {
      const r = indexedDB.open(database, 7);
      r.onsuccess = () => {
        r.result.close();
        resolve();
      };
      r.onerror = () => reject(r.error);
    });
    await check('open fails', (warn) => indexedDbTuneStore({ database, warn }), /VersionError/);
  } finally {
    await deleteDb(database);
  }
  return seen.join('; ');
});

test('AutoMix training: 5 iterations of resnet18 ×0.125 on synthetic 16×16 images, the last two replayed', async ({ engine: e }) => {
  const { TrainingRun } = await import('../../src/train/run.js');
  const { defaultConfig } = await import('../../src/train/config.js');
  const optim = await import('../../src/optim/index.js');
  const H = 16;
  const classes = 4;
  const N = 16;
  const B = 8;
  // Class c: a bright 6×6 square in quadrant c, plus noise.
  const noise = rand(N * H * H, 200, 0.3);
  const xs = new Float32Array(N * H * H);
  const ys = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    const c = n % classes;
    ys[n] = c;
    const oy = c < 2 ? 1 : 9;
    const ox = c % 2 ? 9 : 1;
    for (let i = 0; i < H * H; i++) {
      const y = Math.floor(i / H);
      const x = i % H;
      xs[n * H * H + i] = (y >= oy && y < oy + 6 && x >= ox && x < ox + 6 ? 1.5 : -0.5) + noise[n * H * H + i]!;
    }
  }
  const run = new TrainingRun(e, { ...defaultConfig('automix'), width: 0.125 }, { c: 1, h: H, w: H, numClasses: classes });
  const st = run.automix!;
  // The mask for a fixed input, before and after training.
  const probe = async (): Promise<Float32Array> =>
    e.asyncScope(async () =>
      e
        .noGrad(() => {
          const xT = e.tensor(xs.subarray(0, B * H * H), [B, 1, H, H]);
          const z = st.momentum.backbone.forward(xT, { stopAfter: st.maskStage });
          return st.mixBlock.mask(z, e.tensor([1, 0, 3, 2, 5, 4, 7, 6], [B], { dtype: 'i32' }), 0.5, H);
        })
        .read(),
    );
  const mask0 = await probe();
  const steps = 5;
  const history: Record<string, number>[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const first = ((step * B) % N) as number;
      const tStep = performance.now();
      run.step(
        { x: xs.subarray(first * H * H, (first + B) * H * H), y: ys.subarray(first, first + B), shape: [B, 1, H, H] },
        step,
        optim.automixMomentum(step, steps),
      );
      const [r] = await run.results();
      if (!r!.applied) throw new Error(`step ${step} was not applied: ${JSON.stringify(r!.terms)}`);
      const v = { ...r!.terms, total: Object.values(r!.terms).reduce((a, b) => a + b, 0) };
      history.push(v);
      console.log(
        `  step ${step}${r!.replayed ? ' (replayed)' : ''} (${((performance.now() - tStep) / 1000).toFixed(1)} s): ${Object.entries(v)
          .map(([k, x]) => `${k} ${x.toFixed(4)}`)
          .join(', ')}`,
      );
    }
    const modes = run.variants().map((v) => `${v.variant}: ${v.mode}${v.reason ? ` (${v.reason})` : ''}`);
    if (run.variants().some((v) => v.mode !== 'replay')) throw new Error(`the step was not replayed: ${modes.join('; ')}`);
    const mask1 = await probe();
    let maskDelta = 0;
    for (let i = 0; i < mask0.length; i++) maskDelta = Math.max(maskDelta, Math.abs(mask1[i]! - mask0[i]!));
    const avg = (hs: Record<string, number>[], k: string) => hs.reduce((s, h) => s + h[k]!, 0) / hs.length;
    const oneFirst = avg(history.slice(0, 2), 'L_one_q');
    const oneLast = avg(history.slice(-2), 'L_one_q');
    const decreased = oneLast < oneFirst;
    const maskChanged = maskDelta > 1e-6;
    const summary = `L_one_q ${oneFirst.toFixed(4)} → ${oneLast.toFixed(4)} (first/last two steps), total ${history[0]!['total']!.toFixed(4)} → ${history.at(-1)!['total']!.toFixed(4)}, max |Δmask| ${fmtErr(maskDelta)}; ${modes.join('; ')}`;
    if (!decreased && !maskChanged) throw new Error(`the loss did not decrease and the mask did not change: ${summary}`);
    return summary;
  } finally {
    run.dispose();
  }
});

test("a GPU's kernels here (kernelRules 'gpu'): tiled and subgroup matmul vs f64; AutoMix steps within 1e-4 of the CPU rules', also on a compatibility-mode device", async ({
  engine: e,
}) => {
  const [{ createEngineWith }, gpuB, { browserKernelSources }, { memoryTuneStore }, { tunerOf }, { TrainingRun }, { defaultConfig }] = await Promise.all([
    import('../../src/engine.js'),
    import('../../src/device/gpu-browser.js'),
    import('../../src/kernels/sources-browser.js'),
    import('../../src/tune/store-memory.js'),
    import('../../src/tune/tuner.js'),
    import('../../src/train/run.js'),
    import('../../src/train/config.js'),
  ]);
  const g = await createEngineWith(await gpuB.browserGpu(), 'browser', browserKernelSources, gpuB.browserNoAdapterHelp, {
    kernelRules: 'gpu',
    tune: 'off',
    tuneStore: memoryTuneStore(),
  });
  try {
    // 1. The GPU matmul kernels, forced: a tile, and the subgroup kernel at this adapter's width when it is fixed.
    const width = g.ctx.subgroupWidth;
    const M = await op('matmul');
    const R = await ref('matmul');
    const configs: TuneConfig[] = [
      { variant: 'tiled_v4', constants: { BM: 32, BN: 32, BK: 32, TM: 4, TN: 4, WG: 64 } },
      ...(width ? [{ variant: 'subgroup', constants: { TM: 16, CN: 1, WG: Math.max(64, width), SGW: width } }] : []),
    ];
    const cases = [
      { M: 37, K: 52, N: 28, bias: true },
      { M: 16, K: 40, N: 24, transA: true, transB: true },
    ];
    let worst = 0;
    for (const cfg of configs) {
      const prev = tunerOf(g).force('matmul', cfg);
      try {
        for (const [i, c] of cases.entries()) {
          await scoped(g, async () => {
            const a = rand(c.M * c.K, 40 + i);
            const b = rand(c.K * c.N, 50 + i);
            const bias = c.bias ? rand(c.N, 60 + i) : null;
            const ta = g.tensor(a, c.transA ? [c.K, c.M] : [c.M, c.K]);
            const tb = g.tensor(b, c.transB ? [c.N, c.K] : [c.K, c.N]);
            const o = { transA: c.transA, transB: c.transB, bias: bias ? g.tensor(bias, [c.N]) : null, activation: 'relu' as const };
            const how = M.matmulChoice(ta, tb, o);
            if (how.source !== 'forced') throw new Error(`${cfg.variant} was not run for case ${i}: ${how.source} ${JSON.stringify(how.config)}`);
            const want = R.matmulRef(a, b, { ...c, bias, activation: 'relu' });
            worst = Math.max(worst, assertClose(`${cfg.variant} case ${i}`, await M.matmul(ta, tb, o).read(), want, { atol: 1e-5 * c.K, rtol: 1e-5 }));
          });
        }
      } finally {
        tunerOf(g).force('matmul', prev);
      }
    }
    // 2. Three AutoMix steps on each engine's rules, same data: the loss terms agree to rounding.
    const H = 16;
    const B = 8;
    const xs = rand(B * H * H, 300);
    const ys = randInt(B, 4, 301);
    const terms = async (eng: Engine) => {
      const run = new TrainingRun(eng, { ...defaultConfig('automix'), width: 0.125 }, { c: 1, h: H, w: H, numClasses: 4 });
      const out: Record<string, number>[] = [];
      try {
        for (let step = 0; step < 3; step++) {
          run.step({ x: xs, y: ys, shape: [B, 1, H, H] }, step, 0.99);
          const [r] = await run.results();
          if (!r!.applied) throw new Error(`step ${step} was not applied: ${JSON.stringify(r!.terms)}`);
          out.push(r!.terms);
        }
      } finally {
        run.dispose();
      }
      return out;
    };
    const cpu = await terms(e);
    let rel = 0;
    const compare = (other: Record<string, number>[], what: string) => {
      for (const [i, t] of cpu.entries())
        for (const k of Object.keys(t)) {
          const d = Math.abs(t[k]! - other[i]![k]!) / Math.max(1e-3, Math.abs(t[k]!));
          if (!(d <= 1e-4)) throw new Error(`step ${i} ${k}: ${other[i]![k]} ${what}, ${t[k]} on the CPU rules`);
          rel = Math.max(rel, d);
        }
    };
    compare(await terms(g), 'on the GPU rules');
    // 3. The same steps on the smallest device WebGPU allows: compatibility mode (a browser on
    // OpenGL ES or Direct3D 11), default limits, 128 invocations per workgroup.
    const small = await createEngineWith(await gpuB.browserGpu(), 'browser', browserKernelSources, gpuB.browserNoAdapterHelp, {
      featureLevel: 'compatibility',
      limits: 'default',
      kernelRules: 'gpu',
      tune: 'off',
      tuneStore: memoryTuneStore(),
    });
    try {
      if (!small.info.compatibilityMode || small.maxWorkgroupSize !== 128) {
        throw new Error(`asked for compatibility mode, got ${small.info.compatibilityMode ? '' : 'a core device, '}${small.maxWorkgroupSize} invocations`);
      }
      compare(await terms(small), 'in compatibility mode');
    } finally {
      small.destroy();
    }
    const convs = tunerOf(g)
      .choicesSince(0)
      .filter((u) => u.family === 'conv2d');
    if (!convs.length || convs.some((u) => !u.name.startsWith('igemm'))) throw new Error(`the GPU rules' convs: ${convs.map((u) => u.name).join(', ')}`);
    return `matmul ${configs.map((c) => c.variant).join(' + ')}${width ? ` (subgroups of ${width})` : ' (no fixed subgroup width: subgroup kernel not applicable)'}: max |Δ| ${fmtErr(worst)}; AutoMix terms within ${fmtErr(rel)} relative over 3 steps (GPU rules, and compatibility mode), convs ${convs[0]!.name}…`;
  } finally {
    g.destroy();
  }
});

// ---- runner --------------------------------------------------------------------

export interface TestResult {
  name: string;
  status: 'pass' | 'fail';
  ms: number;
  detail: string;
}

export interface SuiteResult {
  adapter: Record<string, unknown> | null;
  entry: string;
  kernelFamilies: string[];
  results: TestResult[];
}

// SwiftShader on two loaded cores takes up to ≈ 15 s per AutoMix step of the tiny model.
const TEST_TIMEOUT_MS = 180_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000} s`)), ms);
    }),
  ]);
}

const errText = (e: unknown) => (e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e));

/** Creates the engine through the browser entry; if that entry cannot load, says so and builds one from its parts. */
async function makeEngine(): Promise<{ engine: Engine; entry: TestResult; families: string[] }> {
  const t0 = performance.now();
  const { bundledKernelFamilies } = await import('../../src/kernels/sources-browser.js');
  try {
    const m = await import('../../src/browser.js');
    const engine = await m.createEngine();
    return {
      engine,
      families: [...bundledKernelFamilies],
      entry: {
        name: 'browser entry: createEngine() from src/browser.ts',
        status: 'pass',
        ms: performance.now() - t0,
        detail: `backend '${engine.info.backend}'`,
      },
    };
  } catch (err) {
    if ((err as Error).name === 'NoAdapterError') throw err;
    const [{ createEngineWith }, gpuB, { browserKernelSources }] = await Promise.all([
      import('../../src/engine.js'),
      import('../../src/device/gpu-browser.js'),
      import('../../src/kernels/sources-browser.js'),
    ]);
    const engine = await createEngineWith(await gpuB.browserGpu(), 'browser', browserKernelSources, gpuB.browserNoAdapterHelp);
    return {
      engine,
      families: [...bundledKernelFamilies],
      entry: {
        name: 'browser entry: createEngine() from src/browser.ts',
        status: 'fail',
        ms: performance.now() - t0,
        detail: `src/browser.ts failed to load: ${errText(err)} (the other tests use an engine built from src/engine.ts)`,
      },
    };
  }
}

export async function runSuite(filter?: string): Promise<SuiteResult> {
  const out: SuiteResult = { adapter: null, entry: '', kernelFamilies: [], results: [] };
  let engine: Engine;
  try {
    const made = await withTimeout(makeEngine(), 60_000, 'createEngine');
    engine = made.engine;
    out.kernelFamilies = made.families;
    out.results.push(made.entry);
    console.log(`[suite] ${made.entry.status.toUpperCase()} ${made.entry.name} — ${made.entry.detail}`);
  } catch (err) {
    out.results.push({ name: 'createEngine', status: 'fail', ms: 0, detail: errText(err) });
    return out;
  }
  out.adapter = { ...engine.info, features: [...engine.features].sort(), maxStorageBufferBindingSize: engine.limits.maxStorageBufferBindingSize };
  console.log(`[suite] adapter: ${JSON.stringify(engine.info)}`);
  try {
    for (const t of tests) {
      if (filter && !t.name.includes(filter)) continue;
      const t0 = performance.now();
      let r: TestResult;
      try {
        const detail = await withTimeout(t.fn({ engine }), TEST_TIMEOUT_MS, t.name);
        await engine.sync(); // surfaces GPU validation errors of this test
        r = { name: t.name, status: 'pass', ms: performance.now() - t0, detail };
      } catch (err) {
        r = { name: t.name, status: 'fail', ms: performance.now() - t0, detail: errText(err) };
        try {
          await engine.sync();
        } catch {
          /* already reported */
        }
      }
      out.results.push(r);
      console.log(`[suite] ${r.status.toUpperCase()} ${r.name} (${(r.ms / 1000).toFixed(1)} s) — ${r.detail}`);
    }
  } finally {
    engine.destroy();
  }
  return out;
}
