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

export { uniformData } from '../../src/util/random-data.js';
