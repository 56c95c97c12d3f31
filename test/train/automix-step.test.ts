// The bi-level AutoMix iteration (docs/method.md §1) on tiny inputs, against a plain
// f64 TypeScript reference of the same iteration with the same weights, λ and
// π: every loss term, the Mix Block's gradients and the online network's
// gradients (finite differences of the reference losses).
import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { mixedCrossEntropyRef, crossEntropyRef } from '../../src/reference/cross-entropy.js';
import { mixBlockLogitsRef } from '../../src/reference/mix-block-attention.js';
import { maskedBlendRef } from '../../src/reference/blend.js';
import { upsampleRef } from '../../src/reference/upsample.js';
import { MixBlock } from '../../src/nn/mix-block.js';
import { automixStep, type AutoMixState } from '../../src/train/steps.js';
import { defaultConfig } from '../../src/train/config.js';
import { Rng } from '../../src/util/rng.js';
import { allcloseReport, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { CLASSES, type Params, tinyForwardRef, tinyNetwork } from './tiny-net.js';

const N = 4;
const C = 6; // stage-3 channels
const D = 3; // C/2
const L = 4; // 2×2
const H = 8;

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** m_b [N,1,8,8] from the reference Mix Block. */
function maskRef(z: Float64Array, perm: Int32Array, phi: Params): Float64Array {
  const s = mixBlockLogitsRef(
    z,
    perm,
    phi.get('mix_block.qk.weight')!,
    phi.get('mix_block.qk.bias')!,
    phi.get('mix_block.v.weight')!,
    phi.get('mix_block.v.bias')!,
    { N, C, L, d: D },
  );
  return upsampleRef(Float64Array.from(s, sigmoid), [N, 1, 2, 2], 4, 'nearest');
}

interface Draws {
  lamMb: number;
  lamBb: number;
  permMb: Int32Array;
  permBb: Int32Array;
}

function losses(q: Params, k: Params, phi: Params, x: Float64Array, y: Int32Array, r: Draws, maskBbFixed?: Float64Array) {
  const z = tinyForwardRef(k, x, N, { stopAfter: 3 }).out;
  const mMb = maskRef(z, r.permMb, phi);
  let mBb = maskBbFixed ?? maskRef(z, r.permBb, phi);
  if (!maskBbFixed && (r.lamBb <= 0.08 || r.lamBb >= 0.92)) mBb = new Float64Array(mBb.length).fill(1 - r.lamBb);
  let mean = 0;
  for (const v of mMb) mean += v / mMb.length;
  const lMask = 0.1 * Math.max(Math.abs(1 - mean - r.lamMb) - 0.1, 0);
  const dims = { N, C: 1, S: H * H };
  const xMb = maskedBlendRef(x, mMb, r.permMb, dims);
  const xBb = maskedBlendRef(x, mBb, r.permBb, dims);
  const yb = (p: Int32Array) => Int32Array.from(p, (i) => y[i]!);
  const lMixK = mixedCrossEntropyRef(tinyForwardRef(k, xMb, N, { head: 'head_mix' }).out, CLASSES, y, yb(r.permMb), r.lamMb);
  const lOneQ = crossEntropyRef(tinyForwardRef(q, x, N, { head: 'head_one' }).out, CLASSES, y);
  const lMixQ = mixedCrossEntropyRef(tinyForwardRef(q, xBb, N, { head: 'head_mix' }).out, CLASSES, y, yb(r.permBb), r.lamBb);
  return { L_mix_q: lMixQ, L_one_q: lOneQ, L_mix_k: lMixK, L_mask: lMask, mBb };
}

// eps 1e-7 in f64: small enough that no ReLU pre-activation crosses zero
// inside the difference (at 1e-5 one did, for one seed), large enough that
// rounding stays ~1e-9 relative.
function numericGrad(params: Params, f: () => number, eps = 1e-7): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [name, v] of params) {
    const g = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const o = v[i]!;
      v[i] = o + eps;
      const up = f();
      v[i] = o - eps;
      const down = f();
      v[i] = o;
      g[i] = (up - down) / (2 * eps);
    }
    out.set(name, g);
  }
  return out;
}

describe('AutoMix iteration vs the f64 reference', () => {
  for (const seed of [3, 11]) {
    it(`loss terms and gradients agree (seed ${seed})`, async () => {
      const e = await testEngine();
      const online = tinyNetwork(e, ['head_mix', 'head_one'], 1, 'online');
      const momentum = tinyNetwork(e, ['head_mix', 'head_one'], 1, 'momentum');
      const mixBlock = new MixBlock(e, C, 2);
      // Random weights of a useful size (the real inits make the heads ~0).
      const fill = (names: string[], set: { load: (m: Map<string, Float32Array>) => void }, s: number, scale: number) => {
        const m = new Map<string, Float32Array>();
        names.forEach((n, i) => {
          const t = online.params.names.includes(n) ? online.params.get(n) : mixBlock.params.get(n);
          m.set(
            n,
            uniformData(t.size, s * 100 + i).map((v) => v * scale + (n.endsWith('bn.weight') ? 1 : 0)),
          );
        });
        set.load(m);
        return m;
      };
      const qVals = fill(online.params.names, online.params, seed, 0.5);
      momentum.params.load(qVals); // f_k starts as an exact copy of f_q
      const phiVals = fill(mixBlock.params.names, mixBlock.params, seed + 1, 0.4);
      momentum.params.setRequiresGrad(false);
      const state: AutoMixState = { online, momentum, mixBlock, maskStage: 3 };

      const x = uniformData(N * H * H, seed + 7);
      const y = Int32Array.from({ length: N }, (_, i) => (i * 7 + seed) % CLASSES);
      const rng = new Rng(seed);
      const r2 = rng.clone();
      const draws: Draws = { lamMb: r2.beta(2, 2), lamBb: r2.beta(2, 2), permMb: r2.permutation(N), permBb: r2.permutation(N) };

      const gpu = await e.asyncScope(async () => {
        online.params.zeroGrad();
        mixBlock.params.zeroGrad();
        const xt = e.tensor(x, [N, 1, H, H]);
        const yt = e.tensor(y, [N], { dtype: 'i32' });
        const out = automixStep(state, { engine: e, x: xt, xHost: x, y: yt, yHost: y, rng, cfg: { ...defaultConfig('automix') } });
        const t = out.terms;
        ops.add(ops.add(t.L_mix_q!, t.L_one_q!), ops.add(t.L_mix_k!, t.L_mask!)).backward();
        const terms: Record<string, number> = {};
        for (const [k, v] of Object.entries(t)) terms[k] = await v.item();
        return terms;
      });
      const f64 = (m: Map<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, Float64Array.from(v)]));
      const q = f64(qVals);
      const k = f64(qVals);
      const phi = f64(phiVals);
      const x64 = Float64Array.from(x);
      const ref = losses(q, k, phi, x64, y, draws);
      for (const term of ['L_mix_q', 'L_one_q', 'L_mix_k', 'L_mask'] as const) {
        const rep = allcloseReport([gpu[term]!], [ref[term]], { atol: 2e-5, rtol: 1e-4 });
        expect(rep, `${term}: ${rep}`).toBeNull();
      }
      // Mix Block gradients: d(L_mix_k + L_mask)/dφ; the backbone's mask is detached.
      const gPhi = numericGrad(phi, () => {
        const l = losses(q, k, phi, x64, y, draws, ref.mBb);
        return l.L_mix_k + l.L_mask;
      });
      const gpuPhi = await readGrads(mixBlock.params);
      for (const [n, g] of gPhi) {
        const rep = allcloseReport(gpuPhi.get(n)!, g, { atol: 1e-4, rtol: 2e-3 });
        expect(rep, `∂/∂${n}: ${rep}`).toBeNull();
      }
      // Online network: d(L_one_q + L_mix_q)/dθ_q with the backbone mask fixed.
      const gQ = numericGrad(q, () => {
        const l = losses(q, k, phi, x64, y, draws, ref.mBb);
        return l.L_one_q + l.L_mix_q;
      });
      const gpuQ = await readGrads(online.params);
      for (const [n, g] of gQ) {
        const rep = allcloseReport(gpuQ.get(n)!, g, { atol: 1e-4, rtol: 2e-3 });
        expect(rep, `∂/∂${n}: ${rep}`).toBeNull();
      }
      // The frozen momentum network received no gradient.
      expect(momentum.params.params.every((p) => !p.requiresGrad)).toBe(true);
      online.dispose();
      momentum.dispose();
      mixBlock.dispose();
    });
  }
});

async function readGrads(set: { gradFlat: { read(): Promise<Float32Array> }; names: string[]; offsets: number[]; params: { size: number }[] }) {
  const flat = await set.gradFlat.read();
  const out = new Map<string, Float32Array>();
  set.names.forEach((n, i) => out.set(n, flat.slice(set.offsets[i]!, set.offsets[i]! + set.params[i]!.size)));
  return out;
}
