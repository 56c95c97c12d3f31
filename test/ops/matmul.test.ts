// Batched matmul vs the f64 reference: all transpose combinations, batched and
// broadcast operands, bias + ReLU, shapes that hit the vec4/subgroup kernel
// (contiguous dims multiples of 4) and the general kernel (odd shapes).
// Then every variant (general, sg8, tiled, tiled_v4), forced through the
// tuner, on awkward shapes (M, N, K ∈ {1, 3, 17, 33, 65, 127}, non-multiples
// of every tile), batch 1 and 3, every transpose, bias + ReLU, and through
// the backward (finite differences).
// Tolerances: atol 2e-6·√K + 1e-6 (f32 accumulation over K terms of |x| ≤ 1),
// rtol 1e-4; between two variants max |Δ| ≤ 2e-6·√K·max |C| + 1e-6
// (MATMUL_VARIANT_RTOL, the tuner's acceptance test); gradcheck atol 1e-4 / rtol 1e-3.
import { afterEach, describe, expect, it } from 'vitest';
import { ops, ShapeError, tunerOf, type Engine, type Tensor } from '../../src/index.js';
import { MATMUL_TUNING, MATMUL_VARIANT_RTOL, matmulChoice, sg8StaticTM, type MatmulOptions, type MatmulProblem } from '../../src/ops/matmul.js';
import { matmulRef } from '../../src/reference/matmul.js';
import type { TuneConfig } from '../../src/tune/types.js';
import { expectAllClose, expectSameBits, uniformData } from '../helpers/allclose.js';
import { adapterFacts } from '../helpers/adapter.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { expectInPlaceGradsMatch } from '../helpers/grad-in-place.js';

/** [transA, transB]: the four layouts. */
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

const tolFor = (K: number) => ({ atol: 2e-6 * Math.sqrt(K) + 1e-6, rtol: 1e-4 });

// [M, K, N]
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [33, 65, 17],
  [1, 7, 1],
  [257, 129, 65],
  [37, 20, 36], // vec4 path, M not a multiple of the tile, N not a multiple of 32
  [8, 4, 4],
  [1, 12, 8],
  [70, 64, 100],
  // Regression: the subgroup kernel steps k by 4; with K = 6 and Aᵀ it once
  // took this shape and returned wrong values (found by the Mix Block tests).
  [256, 6, 256],
  [16, 6, 8],
];

// ---- every variant, forced ---------------------------------------------------

const tile = (variant: 'tiled' | 'tiled_v4', BM: number, BN: number, BK: number, TM: number, TN: number): TuneConfig => ({
  variant,
  constants: { BM, BN, BK, TM, TN, WG: (BM / TM) * (BN / TN) },
});
const GENERAL: TuneConfig = { variant: 'general', constants: {} };

// Scalar-load variants run any shape; vec4 variants need N % 4 == 0 and the
// contiguous dimension of A (K, or M for Aᵀ) and of Bᵀ (K) to be multiples of 4;
// the subgroup variant reads A as scalars and needs N % 4 == 0 and, for Bᵀ, K % 4 == 0.
interface Variant {
  cfg: TuneConfig;
  vec4: boolean;
  /** The adapter must have subgroups exactly 8 wide (sg8), or of one fixed width (subgroup). */
  needs?: 'subgroups8' | 'fixed-width subgroups';
  /** Whether the variant takes [M×K]·[K×N] with these transposes (default: the vec4 rule above, or any shape). */
  layout?: (M: number, K: number, N: number, tA: boolean, tB: boolean) => boolean;
  /** Its awkward shapes (default: QUAD for vec4 variants, ODD for the others). */
  shapes?: [number, number, number][];
}
/** The subgroup variant at the adapter's width (SGW is filled in per adapter: `withWidth`). */
const subgroup = (TM: number, CN: number, WG: number): Variant => ({
  cfg: { variant: 'subgroup', constants: { TM, CN, WG, SGW: 0 } },
  vec4: true,
  needs: 'fixed-width subgroups',
  layout: (_M, K, N, _tA, tB) => N % 4 === 0 && (!tB || K % 4 === 0),
  // A of any shape (odd M and K), N a multiple of 4, and the QUAD shapes.
  shapes: [
    [3, 17, 36],
    [33, 65, 12],
    [1, 7, 4],
    [127, 3, 20],
    [65, 33, 132],
    [1, 1, 8],
    [20, 17, 12],
    [36, 68, 44],
  ],
});
const VARIANTS: Variant[] = [
  { cfg: GENERAL, vec4: false },
  { cfg: { variant: 'sg8', constants: { TM: 8 } }, vec4: true, needs: 'subgroups8' },
  { cfg: { variant: 'sg8', constants: { TM: 24 } }, vec4: true, needs: 'subgroups8' },
  { cfg: tile('tiled', 16, 64, 16, 2, 8), vec4: false },
  { cfg: tile('tiled', 64, 64, 16, 8, 8), vec4: false },
  { cfg: tile('tiled_v4', 32, 32, 32, 4, 4), vec4: true },
  { cfg: tile('tiled_v4', 128, 64, 16, 8, 8), vec4: true },
  // The next tile fetched during the products (PREFETCH): several k-steps, every transpose.
  { cfg: { variant: 'tiled_v4', constants: { ...tile('tiled_v4', 32, 32, 16, 4, 4).constants, PREFETCH: 1 } }, vec4: true },
  // One subgroup per workgroup (TM 8 and 32); 16 rows × 2 vec4 columns over 64 invocations (several subgroups).
  subgroup(8, 1, 0),
  subgroup(32, 1, 0),
  subgroup(16, 2, 64),
  // Split-K in chunks of 4 k (any K > 4 is split, into up to 33 parts); larger tiles and chunks below.
  {
    cfg: { variant: 'splitk', constants: { BM: 32, BN: 32, BK: 4, TM: 4, TN: 4, WG: 64, KCHUNK: 4 } },
    vec4: true,
    layout: (M, K, N, tA, tB) => vec4ok(M, K, N, tA, tB) && K > 4,
  },
];

const vec4ok = (M: number, K: number, N: number, tA: boolean, tB: boolean) => N % 4 === 0 && (tA ? M % 4 === 0 : K % 4 === 0) && (!tB || K % 4 === 0);

// [M, K, N]: every one of 1, 3, 17, 33, 65, 127 in every position (none a tile multiple).
const ODD: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 33],
  [17, 33, 65],
  [33, 65, 127],
  [65, 127, 3],
  [127, 3, 17],
  [1, 127, 65],
];
// The same idea in multiples of 4 (never of 8); [20, 17, 12] runs only Aᵀ·B
// (K is contiguous in neither operand there) on tiled_v4.
const QUAD: [number, number, number][] = [
  [4, 4, 4],
  [12, 20, 36],
  [36, 68, 132],
  [132, 12, 20],
  [4, 132, 68],
  [20, 17, 12],
];

describe('matmul', async () => {
  const e = await testEngine();
  for (const [M, K, N] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`[${M}×${K}]·[${K}×${N}] transA=${transA} transB=${transB}`, async () => {
          await e.asyncScope(async () => {
            const ad = uniformData(M * K, M + K + (transA ? 1 : 0));
            const bd = uniformData(K * N, N + 3 * K + (transB ? 1 : 0));
            const a = e.tensor(ad, transA ? [K, M] : [M, K]);
            const b = e.tensor(bd, transB ? [N, K] : [K, N]);
            const c = ops.matmul(a, b, { transA, transB });
            expect(c.shape).toEqual([M, N]);
            expectAllClose(await c.read(), matmulRef(ad, bd, { M, N, K, transA, transB }), tolFor(K));
          });
        });
      }
    }
  }

  for (const [M, K, N] of [
    [5, 7, 3],
    [8, 16, 40],
  ] as [number, number, number][]) {
    it(`bias and ReLU epilogue, all transposes [${M}×${K}×${N}]`, async () => {
      await e.asyncScope(async () => {
        const bias = uniformData(N, 77);
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const ad = uniformData(M * K, 5),
              bd = uniformData(K * N, 6);
            const a = e.tensor(ad, transA ? [K, M] : [M, K]);
            const b = e.tensor(bd, transB ? [N, K] : [K, N]);
            const bt = e.tensor(bias, [N]);
            for (const activation of ['none', 'relu'] as const) {
              const c = ops.matmul(a, b, { transA, transB, bias: bt, activation });
              expectAllClose(await c.read(), matmulRef(ad, bd, { M, N, K, transA, transB, bias, activation }), tolFor(K));
            }
          }
        }
      });
    });
  }

  for (const [M, K, N] of [
    [5, 6, 7],
    [9, 8, 12],
  ] as [number, number, number][]) {
    it(`batched and broadcast-batch operands [3, ${M}×${K}×${N}]`, async () => {
      await e.asyncScope(async () => {
        const B = 3;
        const ad = uniformData(B * M * K, 8),
          bd = uniformData(B * K * N, 9);
        const a2 = uniformData(M * K, 10),
          b2 = uniformData(K * N, 11);
        for (const transB of [false, true]) {
          const bShape = transB ? [B, N, K] : [B, K, N];
          const b2Shape = transB ? [N, K] : [K, N];
          // both batched
          let c = ops.matmul(e.tensor(ad, [B, M, K]), e.tensor(bd, bShape), { transB });
          expect(c.shape).toEqual([B, M, N]);
          expectAllClose(await c.read(), matmulRef(ad, bd, { M, N, K, batch: B, aBatched: true, bBatched: true, transB }), tolFor(K));
          // A shared across the batch
          c = ops.matmul(e.tensor(a2, [M, K]), e.tensor(bd, bShape), { transB });
          expectAllClose(await c.read(), matmulRef(a2, bd, { M, N, K, batch: B, aBatched: false, bBatched: true, transB }), tolFor(K));
          // B shared across the batch, transposed A
          c = ops.matmul(e.tensor(ad, [B, K, M]), e.tensor(b2, b2Shape), { transA: true, transB });
          expectAllClose(await c.read(), matmulRef(ad, b2, { M, N, K, batch: B, aBatched: true, bBatched: false, transA: true, transB }), tolFor(K));
        }
      });
    });
  }

  it('512×512×512', async () => {
    await e.asyncScope(async () => {
      const n = 512;
      const ad = uniformData(n * n, 21),
        bd = uniformData(n * n, 22);
      const c = await ops.matmul(e.tensor(ad, [n, n]), e.tensor(bd, [n, n])).read();
      // full check against the reference in f64 would take ~1 s of JS: check 64 rows
      const rows = Array.from({ length: 64 }, (_, i) => (i * 37) % n);
      const sub = new Float64Array(64 * n),
        got = new Float32Array(64 * n);
      const aRows = new Float32Array(64 * n);
      rows.forEach((r, i) => {
        aRows.set(ad.subarray(r * n, (r + 1) * n), i * n);
        got.set(c.subarray(r * n, (r + 1) * n), i * n);
      });
      sub.set(matmulRef(aRows, bd, { M: 64, N: n, K: n }));
      expectAllClose(got, sub, tolFor(n));
    });
  });

  it('K = 0 gives zeros; empty outputs', async () => {
    await e.asyncScope(async () => {
      const c = ops.matmul(e.tensor([], [3, 0]), e.tensor([], [0, 4]));
      expectAllClose(await c.read(), new Float32Array(12));
    });
  });

  it('bad shapes throw ShapeError', async () => {
    await e.asyncScope(async () => {
      const a = e.tensor(uniformData(6, 1), [2, 3]);
      expect(() => ops.matmul(a, e.tensor(uniformData(8, 1), [4, 2]))).toThrow(ShapeError);
      expect(() => ops.matmul(a, e.tensor(uniformData(6, 1), [2, 3]))).toThrow(ShapeError);
      expect(() => ops.matmul(a, e.tensor(uniformData(6, 1), [3, 2]), { transA: true })).toThrow(ShapeError);
      expect(() => ops.matmul(e.tensor(uniformData(3, 1), [3]), e.tensor(uniformData(6, 1), [3, 2]))).toThrow(ShapeError);
      expect(() => ops.matmul(e.tensor(uniformData(24, 1), [2, 2, 3, 2]), e.tensor(uniformData(6, 1), [2, 3]))).toThrow(ShapeError);
      expect(() => ops.matmul(e.tensor(uniformData(12, 1), [2, 2, 3]), e.tensor(uniformData(18, 1), [3, 3, 2]))).toThrow(ShapeError);
      expect(() => ops.matmul(a, e.tensor(uniformData(6, 1), [3, 2]), { bias: e.tensor([1, 2, 3], [3]) })).toThrow(ShapeError);
      expect(() => ops.matmul(a, e.tensor([1, 2, 3, 4, 5, 6], [3, 2], { dtype: 'i32' }))).toThrow(ShapeError);
    });
  });

  // gradcheck w.r.t. A, B and bias; one shape per kernel path.
  for (const [M, K, N] of [
    [3, 5, 2],
    [4, 8, 4],
  ] as [number, number, number][]) {
    for (const [transA, transB] of [
      [false, false],
      [true, true],
    ] as [boolean, boolean][]) {
      for (const activation of ['none', 'relu'] as const) {
        it(`gradcheck matmul+bias ${activation} [${M}×${K}×${N}] tA=${transA} tB=${transB}`, async () => {
          const ad = uniformData(M * K, 41),
            bd = uniformData(K * N, 42);
          // keep pre-activations away from the ReLU kink for finite differences
          const bias = Float32Array.from(uniformData(N, 43), (v) => v + (v > 0 ? 0.3 : -0.3));
          await gradcheck(
            e,
            [
              { data: ad, shape: transA ? [K, M] : [M, K] },
              { data: bd, shape: transB ? [N, K] : [K, N] },
              { data: bias, shape: [N] },
            ],
            ([a, b, bb]) => ops.matmul(a!, b!, { transA, transB, bias: bb!, activation }),
            ([a, b, bb]) => matmulRef(a!, b!, { M, N, K, transA, transB, bias: bb!, activation }),
          );
        });
      }
    }
  }
  it('gradcheck batched A with shared B [2, 4×8×4]', async () => {
    await gradcheck(
      e,
      [
        { data: uniformData(2 * 4 * 8, 51), shape: [2, 4, 8] },
        { data: uniformData(8 * 4, 52), shape: [8, 4] },
      ],
      ([a, b]) => ops.matmul(a!, b!),
      ([a, b]) => matmulRef(a!, b!, { M: 4, N: 4, K: 8, batch: 2, aBatched: true, bBatched: false }),
    );
  });

  describe('variants (forced)', () => {
    const hasSg8 = adapterFacts(e).subgroups8;
    const width = e.ctx.subgroupWidth;
    /** A variant this adapter cannot run is reported skipped, with what it needs. */
    const missing = (v: Variant) => (v.needs === 'subgroups8' && !hasSg8) || (v.needs === 'fixed-width subgroups' && !width);
    const needs = (v: Variant) => (v.needs ? ` [needs ${v.needs}]` : '');
    /** The config at this adapter's subgroup width (WG 0: one subgroup). */
    const withWidth = (cfg: TuneConfig): TuneConfig =>
      cfg.variant === 'subgroup' ? { ...cfg, constants: { ...cfg.constants, SGW: width, WG: cfg.constants['WG'] || width } } : cfg;
    afterEach(() => {
      tunerOf(e).force('matmul', null);
    });

    /** Runs one matmul with `cfg` forced; returns its output and whether cfg actually ran. */
    function run(e: Engine, cfg: TuneConfig, a: Tensor, b: Tensor, o: MatmulOptions): { c: Tensor; forced: boolean } {
      const prev = tunerOf(e).force('matmul', cfg);
      try {
        const forced = matmulChoice(a, b, o).source === 'forced';
        return { c: ops.matmul(a, b, o), forced };
      } finally {
        tunerOf(e).force('matmul', prev);
      }
    }

    for (const v of VARIANTS) {
      const { vec4 } = v;
      const cfg = withWidth(v.cfg);
      const name = `${cfg.variant} ${JSON.stringify(cfg.constants)}`;
      const shapes = v.shapes ?? (vec4 ? QUAD : ODD);
      it.skipIf(missing(v))(`${name}: awkward shapes, every transpose, batch 1 and 3, bias + ReLU, vs f64 and vs general${needs(v)}`, async () => {
        let ran = 0;
        await e.asyncScope(async () => {
          for (const [si, [M, K, N]] of shapes.entries()) {
            for (const transA of [false, true]) {
              for (const transB of [false, true]) {
                const applies = v.layout
                  ? v.layout(M, K, N, transA, transB)
                  : !vec4 || (vec4ok(M, K, N, transA, transB) && (v.needs !== 'subgroups8' || K % 4 === 0));
                for (const batch of [1, 3]) {
                  // batch 3: both operands batched, A shared or B shared, in turn
                  const aB = batch === 3 && si % 3 !== 1;
                  const bB = batch === 3 && si % 3 !== 2;
                  const epi = (si + (transA ? 1 : 0) + (batch === 3 ? 1 : 0)) % 2 === 0;
                  const ad = uniformData((aB ? batch : 1) * M * K, 100 + si * 4 + (transA ? 1 : 0));
                  const bd = uniformData((bB ? batch : 1) * K * N, 200 + si * 4 + (transB ? 2 : 0));
                  const bias = uniformData(N, 300 + si);
                  const aS = transA ? [K, M] : [M, K];
                  const bS = transB ? [N, K] : [K, N];
                  const a = e.tensor(ad, aB ? [batch, ...aS] : aS);
                  const b = e.tensor(bd, bB ? [batch, ...bS] : bS);
                  const o: MatmulOptions = { transA, transB, ...(epi ? { bias: e.tensor(bias, [N]), activation: 'relu' as const } : {}) };
                  const { c, forced } = run(e, cfg, a, b, o);
                  expect(forced, `${name} on [${M}×${K}×${N}] tA=${transA} tB=${transB}`).toBe(applies);
                  if (!forced) continue;
                  ran++;
                  const got = await c.read();
                  const want = matmulRef(ad, bd, {
                    M,
                    N,
                    K,
                    batch: aB || bB ? batch : 1,
                    aBatched: aB,
                    bBatched: bB,
                    transA,
                    transB,
                    ...(epi ? { bias, activation: 'relu' as const } : {}),
                  });
                  expectAllClose(got, want, tolFor(K));
                  // The hidden choice must not change the result beyond the tuner's tolerance.
                  const g = await run(e, GENERAL, a, b, o).c.read();
                  let diff = 0;
                  let scale = 0;
                  for (let i = 0; i < g.length; i++) {
                    diff = Math.max(diff, Math.abs(got[i]! - g[i]!));
                    scale = Math.max(scale, Math.abs(g[i]!));
                  }
                  expect(diff, `${name} vs general on [${M}×${K}×${N}]`).toBeLessThanOrEqual(MATMUL_VARIANT_RTOL * Math.sqrt(K) * scale + 1e-6);
                }
              }
            }
          }
        });
        expect(ran).toBeGreaterThan(0);
      });

      for (const [transA, transB, epi] of [
        [false, false, true],
        [true, true, false],
        [true, false, true],
      ] as [boolean, boolean, boolean][]) {
        const [M, K, N] = vec4 ? [4, 8, 12] : [5, 7, 3];
        it.skipIf(missing(v))(
          `${name}: gradcheck through the backward [${M}×${K}×${N}] tA=${transA} tB=${transB}${epi ? ' bias+ReLU' : ''}${needs(v)}`,
          async () => {
            const ad = uniformData(M * K, 61),
              bd = uniformData(K * N, 62);
            const bias = Float32Array.from(uniformData(N, 63), (v) => v + (v > 0 ? 0.3 : -0.3));
            tunerOf(e).force('matmul', cfg);
            const inputs = [
              { data: ad, shape: transA ? [K, M] : [M, K] },
              { data: bd, shape: transB ? [N, K] : [K, N] },
              ...(epi ? [{ data: bias, shape: [N] }] : []),
            ];
            // Forward and the backward's NT/TN matmuls all run the forced variant.
            await gradcheck(
              e,
              inputs,
              ([a, b, bb]) => {
                expect(matmulChoice(a!, b!, { transA, transB }).source).toBe('forced');
                return ops.matmul(a!, b!, { transA, transB, ...(epi ? { bias: bb!, activation: 'relu' as const } : {}) });
              },
              ([a, b, bb]) => matmulRef(a!, b!, { M, N, K, transA, transB, ...(epi ? { bias: bb!, activation: 'relu' as const } : {}) }),
            );
          },
        );
      }
    }

    // Gradients added in place (src/autograd/leaf-grad.ts): with each variant forced, the
    // backward's GEMMs add a leaf's gradient into its .grad (ACCUMULATE), the bias's and a
    // shared operand's through the reduction's last pass; the bits must be those of the old
    // path (the gradient, then a separate acc_add), over two backwards into an existing
    // .grad, into none, and with one weight used by two matmuls.
    for (const v of VARIANTS) {
      const cfg = withWidth(v.cfg);
      const name = `${cfg.variant} ${JSON.stringify(cfg.constants)}`;
      // Multiples of 4 for the vec4 variants (every backward layout then runs them too).
      const [M, K, N] = v.vec4 ? [12, 20, 36] : [17, 33, 7];
      it.skipIf(missing(v))(
        `${name}: gradients added in place equal matmul + acc_add bit for bit (every transpose, batched, shared, bias + ReLU, one weight twice)${needs(v)}`,
        async () => {
          const prev = tunerOf(e).force('matmul', cfg);
          try {
            for (const [transA, transB] of TRANSPOSES) {
              const aS = transA ? [K, M] : [M, K];
              const bS = transB ? [N, K] : [K, N];
              const tag = `${name} tA=${transA} tB=${transB}`;
              const mm = (a: Tensor, b: Tensor, bias: Tensor | null, relu: boolean) => {
                const o: MatmulOptions = { transA, transB, ...(bias ? { bias } : {}), ...(relu ? { activation: 'relu' as const } : {}) };
                expect(matmulChoice(a, b, o).source, tag).toBe('forced');
                return ops.matmul(a, b, o);
              };
              // 2-D, bias + ReLU: A, B and the bias each into an existing .grad.
              const plain = await expectInPlaceGradsMatch(
                e,
                [
                  { shape: aS, grad: true },
                  { shape: bS, grad: true },
                  { shape: [N], grad: true },
                ],
                ([a, b, bias]) => mm(a!, b!, bias!, true),
                `${tag} 2-D bias+ReLU`,
              );
              // No acc_add left, and nothing else added.
              expect(plain.inPlace.accAdds).toEqual([0, 0]);
              expect(plain.old.accAdds.every((n) => n >= 3)).toBe(true);
              expect(plain.old.backward.map((n, i) => n - plain.old.accAdds[i]!)).toEqual(plain.inPlace.backward);
              // Batched A and B; then a shared B (its gradient summed over the batch into .grad); then a shared A.
              await expectInPlaceGradsMatch(
                e,
                [
                  { shape: [3, ...aS], grad: true },
                  { shape: [3, ...bS], grad: true },
                ],
                ([a, b]) => mm(a!, b!, null, false),
                `${tag} batched`,
              );
              await expectInPlaceGradsMatch(
                e,
                [
                  { shape: [3, ...aS], grad: true },
                  { shape: bS, grad: true },
                  { shape: [N], grad: true },
                ],
                ([a, b, bias]) => mm(a!, b!, bias!, true),
                `${tag} B shared`,
              );
              await expectInPlaceGradsMatch(
                e,
                [
                  { shape: aS, grad: true },
                  { shape: [3, ...bS], grad: true },
                ],
                ([a, b]) => mm(a!, b!, null, false),
                `${tag} A shared`,
              );
              // One weight in two matmuls (and a frozen input), its .grad existing or not.
              for (const grad of [true, false]) {
                await expectInPlaceGradsMatch(
                  e,
                  [
                    { shape: aS, grad: true },
                    { shape: aS, grad: false, frozen: true },
                    { shape: bS, grad },
                    { shape: [N], grad },
                  ],
                  ([a, a2, w, bias]) => ops.add(mm(a!, w!, bias!, true), mm(a2!, w!, bias!, false)),
                  `${tag} one weight twice, .grad ${grad ? 'existing' : 'none'}`,
                );
              }
            }
          } finally {
            tunerOf(e).force('matmul', prev);
          }
        },
      );
    }

    // The static rule's TM (sg8StaticTM) is a speed choice only: TM never changes an
    // output's summation order, so the static choice equals the old static TM 32 bit for bit.
    it('sg8 static TM: the least padded rows × row cost', () => {
      expect([1, 8, 9, 16, 17, 24, 25, 32, 33, 64, 128, 144, 1024].map(sg8StaticTM)).toEqual([8, 8, 16, 16, 24, 24, 32, 32, 24, 24, 24, 24, 24]);
    });
    it.skipIf(!hasSg8)(`sg8 static TM: the static choice, bit-identical to TM 32${needs(VARIANTS[1]!)}`, async () => {
      const problem = (M: number, N: number, K: number, transA: boolean, transB: boolean, batch: number): MatmulProblem => ({
        M,
        N,
        K,
        batch,
        aBatched: false,
        bBatched: batch > 1,
        transA,
        transB,
        bias: true,
        act: 'relu',
      });
      await e.asyncScope(async () => {
        // [M, K, N]: TM 16, 24 and 24 with a ragged last tile (M = 100), N not a multiple of 32
        for (const [M, K, N] of [
          [12, 20, 36],
          [20, 36, 68],
          [100, 68, 132],
        ] as [number, number, number][]) {
          for (const [transA, transB] of TRANSPOSES) {
            const batch = transA === transB ? 1 : 3; // B batched, A shared
            const want = sg8StaticTM(M);
            expect(MATMUL_TUNING.staticConfig(e, problem(M, N, K, transA, transB, batch))).toEqual({ variant: 'sg8', constants: { TM: want } });
            const ad = uniformData(M * K, 400 + M);
            const bd = uniformData(batch * K * N, 500 + N);
            const a = e.tensor(ad, transA ? [K, M] : [M, K]);
            const bS = transB ? [N, K] : [K, N];
            const b = e.tensor(bd, batch > 1 ? [batch, ...bS] : bS);
            const o: MatmulOptions = { transA, transB, bias: e.tensor(uniformData(N, 600), [N]), activation: 'relu' };
            const chosen = run(e, { variant: 'sg8', constants: { TM: want } }, a, b, o);
            const tm32 = run(e, { variant: 'sg8', constants: { TM: 32 } }, a, b, o);
            expect(chosen.forced && tm32.forced).toBe(true);
            expectSameBits(await chosen.c.read(), await tm32.c.read(), `TM ${want} vs TM 32 on [${M}×${K}×${N}] tA=${transA} tB=${transB}`);
          }
        }
      });
    });
  });
});
