/** How the tuner reads a measured time (src/tune/clock.ts `usableMs`). */
import { describe, expect, it } from 'vitest';
import { usableMs } from '../../src/tune/clock.js';

describe('usableMs', () => {
  it('keeps a positive, finite time', () => {
    expect(usableMs(1.25, true)).toBe(1.25);
    expect(usableMs(0.004, false)).toBe(0.004);
  });

  it('a failed or cut-short measurement never wins', () => {
    for (const ms of [Number.NaN, -1, Infinity]) {
      expect(usableMs(ms, false)).toBe(Infinity);
      expect(usableMs(ms, true)).toBe(Infinity);
    }
  });

  it('0 ms (below the clock’s resolution) is no win for a candidate; the static rule keeps it, so nothing beats it', () => {
    expect(usableMs(0, false)).toBe(Infinity);
    expect(usableMs(0, true)).toBe(0);
  });
});
