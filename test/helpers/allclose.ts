/**
 * Comparisons with stated tolerances: |gpu − ref| ≤ atol + rtol·|ref|.
 * On failure the message lists the first mismatches, then stops.
 */
import { expect } from 'vitest';

export interface Tol {
  atol: number;
  rtol: number;
}

export function allcloseReport(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} ≠ expected ${expected.length}`;
  const bad: string[] = [];
  let count = 0;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const err = Math.abs(a - e);
    const lim = tol.atol + tol.rtol * Math.abs(e);
    if (!(err <= lim)) {
      count++;
      worst = Math.max(worst, Number.isFinite(err) ? err : Infinity);
      if (bad.length < 6) bad.push(`[${i}] got ${a}, want ${e} (|Δ| ${err.toExponential(2)} > ${lim.toExponential(2)})`);
    }
  }
  if (count === 0) return null;
  return `${count}/${actual.length} elements differ (atol ${tol.atol}, rtol ${tol.rtol}, worst |Δ| ${worst.toExponential(2)}):\n  ${bad.join('\n  ')}`;
}

export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol = { atol: 1e-5, rtol: 1e-4 }): void {
  const r = allcloseReport(actual, expected, tol);
  expect(r, r ?? '').toBeNull();
}

/** The IEEE 754 bit patterns of `a` (a view, no copy). */
export const f32Bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/**
 * Bit-for-bit equality — for a faster kernel that must equal the one it
 * replaces — except that any NaN equals any NaN: which operand's payload an
 * operation on two NaNs returns is not specified (IEEE 754, WGSL) and differs
 * between scalar and vector instructions on x86. +0 and −0 differ.
 */
export function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const g = f32Bits(got);
  const w = f32Bits(want);
  const i = g.findIndex((v, j) => v !== w[j] && !(Number.isNaN(got[j]) && Number.isNaN(want[j])));
  expect(i, `${what}: first differing element ${i} (got ${got[i]} = 0x${g[i]?.toString(16)}, want ${want[i]} = 0x${w[i]?.toString(16)})`).toBe(-1);
}

export { uniformData } from '../../src/util/random-data.js';
