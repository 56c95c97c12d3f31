// Pure schedules: cosine LR per epoch (docs/method.md §5) and AutoMix's EMA momentum (docs/method.md §3).
import { describe, expect, it } from 'vitest';
import { automixMomentum, cosineLr, scaledEmaStart } from '../../src/optim/index.js';

describe('cosineLr', () => {
  it('anneals from base to min per epoch', () => {
    expect(cosineLr(0, 400, 0.1, 0.05)).toBeCloseTo(0.1, 15);
    expect(cosineLr(200, 400, 0.1, 0.05)).toBeCloseTo(0.075, 15);
    expect(cosineLr(400, 400, 0.1, 0.05)).toBeCloseTo(0.05, 15);
    expect(cosineLr(100, 400, 0.1, 0)).toBeCloseTo(0.05 * (1 + Math.SQRT1_2), 15);
    expect(cosineLr(399, 400, 0.2, 0.05)).toBeCloseTo(0.05 + 0.075 * (1 + Math.cos((Math.PI * 399) / 400)), 15);
  });

  it('linear warm-up scales the cosine value', () => {
    const o = { warmupEpochs: 5 };
    expect(cosineLr(0, 100, 1, 0, o)).toBeCloseTo(0.1, 15);
    expect(cosineLr(2, 100, 1, 0, o)).toBeCloseTo(cosineLr(2, 100, 1, 0) * (1 - 0.6 * 0.9), 15);
    expect(cosineLr(5, 100, 1, 0, o)).toBe(cosineLr(5, 100, 1, 0));
    expect(cosineLr(0, 100, 1, 0, { warmupEpochs: 5, warmupRatio: 0 })).toBe(0);
  });
});

describe('automixMomentum', () => {
  const K = 200_000; // 400 epochs × 500 iterations
  it('is constant for the first 10% of iterations', () => {
    expect(automixMomentum(0, K)).toBe(0.999);
    expect(automixMomentum(K * 0.1 - 1, K)).toBe(0.999);
  });
  it('jumps to ≈0.999024 at 10% and follows the cosine in k/K to m_end', () => {
    const at10 = automixMomentum(K * 0.1, K);
    expect(at10).toBeCloseTo(0.999999 - (0.000999 * (Math.cos(0.1 * Math.PI) + 1)) / 2, 15);
    expect(at10).toBeCloseTo(0.999024, 6);
    expect(automixMomentum(K / 2, K)).toBeCloseTo((0.999 + 0.999999) / 2, 15);
    expect(automixMomentum(K, K)).toBeCloseTo(0.999999, 15);
    expect(automixMomentum(K, K, 0.999, 0.99999)).toBeCloseTo(0.99999, 15);
    for (let k = K * 0.1; k < K; k += K / 20) expect(automixMomentum(k + K / 20, K)).toBeGreaterThan(automixMomentum(k, K));
  });
});

describe('scaledEmaStart', () => {
  it("is the reference's 0.999 at the reference's length and keeps (1 − m₀)·K = 200 for shorter runs", () => {
    expect(scaledEmaStart(200_000)).toBeCloseTo(0.999, 15);
    expect(scaledEmaStart(1_000_000)).toBe(0.999);
    expect(scaledEmaStart(6000)).toBeCloseTo(1 - 1 / 30, 15); // 10 epochs × 600 iterations
    expect(scaledEmaStart(240)).toBeCloseTo(1 / 6, 15);
    expect(scaledEmaStart(100)).toBe(0);
    for (const K of [300, 6000, 50_000]) expect((1 - scaledEmaStart(K)) * K).toBeCloseTo(200, 9);
    expect(() => scaledEmaStart(0)).toThrow(/K must be > 0/);
  });
});
