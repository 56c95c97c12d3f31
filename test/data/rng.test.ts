// Seeded PRNG: determinism, state round-trip, and distribution sanity checks.

import { describe, it, expect } from 'vitest';
import { Rng } from '../../src/util/rng.js';

function meanVar(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
  return [m, v];
}

describe('Rng', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 50 }, () => a.nextU32());
    const sb = Array.from({ length: 50 }, () => b.nextU32());
    const sc = Array.from({ length: 50 }, () => c.nextU32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    // Seeds beyond 32 bits are not folded together.
    expect(new Rng(1).nextU32()).not.toBe(new Rng(1 + 2 ** 32).nextU32());
  });

  it('state round-trip continues the identical sequence', () => {
    const r = new Rng(7);
    for (let i = 0; i < 123; i++) r.uniform();
    r.beta(0.3, 0.3);
    const state = r.getState();
    expect(state).toHaveLength(4);
    const restored = Rng.fromState(JSON.parse(JSON.stringify(state)) as number[]);
    const next = () => [r.uniform(), r.int(1000), r.normal(), r.beta(2, 2), r.gamma(0.5)];
    const nextRestored = () => [restored.uniform(), restored.int(1000), restored.normal(), restored.beta(2, 2), restored.gamma(0.5)];
    for (let i = 0; i < 20; i++) expect(nextRestored()).toEqual(next());
    expect(Array.from(restored.permutation(10))).toEqual(Array.from(r.permutation(10)));
  });

  it('rejects malformed state', () => {
    expect(() => Rng.fromState([1, 2, 3])).toThrow(RangeError);
    expect(() => Rng.fromState([1, 2, 3, -1])).toThrow(RangeError);
    expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow(RangeError);
  });

  it('fromKeys depends on every key and their order', () => {
    const v = (...k: number[]) => Rng.fromKeys(...k).nextU32();
    expect(v(1, 2, 3)).toBe(v(1, 2, 3));
    expect(v(1, 2, 3)).not.toBe(v(1, 2, 4));
    expect(v(1, 2, 3)).not.toBe(v(3, 2, 1));
    expect(v(0)).not.toBe(v(0, 0));
  });

  it('uniform is in [0,1) with mean 1/2; int(n) covers 0..n-1 evenly', () => {
    const r = new Rng(1);
    const us = Array.from({ length: 20000 }, () => r.uniform());
    expect(Math.min(...us)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...us)).toBeLessThan(1);
    expect(meanVar(us)[0]).toBeCloseTo(0.5, 1);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70000; i++) counts[r.int(7)]!++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
  });

  it('normal has mean 0 and variance 1', () => {
    const r = new Rng(2);
    const [m, v] = meanVar(Array.from({ length: 20000 }, () => r.normal()));
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
  });

  it('gamma(alpha) has mean alpha for alpha >= 1 and < 1', () => {
    const r = new Rng(3);
    for (const alpha of [0.3, 1, 2.5]) {
      const [m, v] = meanVar(Array.from({ length: 20000 }, () => r.gamma(alpha)));
      expect(Math.abs(m - alpha) / alpha).toBeLessThan(0.05);
      expect(Math.abs(v - alpha) / alpha).toBeLessThan(0.12); // Var Gamma(a,1) = a
    }
  });

  it('beta(2,2): mean ~0.5, variance ~0.05', () => {
    const r = new Rng(4);
    const [m, v] = meanVar(Array.from({ length: 20000 }, () => r.beta(2, 2)));
    expect(Math.abs(m - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(v - 0.05)).toBeLessThan(0.003); // exact: ab/((a+b)^2 (a+b+1)) = 0.05
  });

  it('beta(0.2,0.2): mean ~0.5, mass concentrated near 0 and 1, never NaN', () => {
    const r = new Rng(5);
    const xs = Array.from({ length: 20000 }, () => r.beta(0.2, 0.2));
    expect(xs.every((x) => x >= 0 && x <= 1)).toBe(true);
    const [m, v] = meanVar(xs);
    expect(Math.abs(m - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(v - 1 / 1.4 / 4)).toBeLessThan(0.01); // 0.04/(0.16*1.4) = 0.1786
    const extreme = xs.filter((x) => x < 0.1 || x > 0.9).length / xs.length;
    expect(extreme).toBeGreaterThan(0.6);
  });

  it('beta with a tiny alpha stays finite (log-space gamma ratio)', () => {
    const r = new Rng(6);
    const xs = Array.from({ length: 2000 }, () => r.beta(0.01, 0.01));
    expect(xs.every((x) => Number.isFinite(x) && x >= 0 && x <= 1)).toBe(true);
  });

  it('permutation is a uniform permutation with fixed points allowed', () => {
    const r = new Rng(8);
    const p = r.permutation(100);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // Position of element 0 in permutations of 4 is uniform; fixed points occur.
    const pos = new Array<number>(4).fill(0);
    let fixed = 0;
    for (let t = 0; t < 20000; t++) {
      const q = r.permutation(4);
      pos[q.indexOf(0)]!++;
      if (q[0] === 0) fixed++;
    }
    for (const c of pos) expect(Math.abs(c - 5000)).toBeLessThan(300);
    expect(fixed).toBeGreaterThan(4500);
    expect(r.permutation(0).length).toBe(0);
  });

  it('shuffleInPlace shuffles arrays and typed arrays in place', () => {
    const r = new Rng(9);
    const a = ['a', 'b', 'c', 'd', 'e', 'f'];
    const ret = r.shuffleInPlace(a);
    expect(ret).toBe(a);
    expect([...a].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const t = new Float32Array([1, 2, 3, 4]);
    r.shuffleInPlace(t);
    expect(Array.from(t).sort()).toEqual([1, 2, 3, 4]);
  });
});
