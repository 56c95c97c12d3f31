/** How the tuner reads a measured time (src/tune/clock.ts `readTime`). */
import { describe, expect, it } from 'vitest';
import { readTime } from '../../src/tune/clock.js';

describe('readTime', () => {
  it('keeps a positive, finite time', () => {
    expect(readTime(1.25, true)).toEqual({ ran: true, ms: 1.25 });
    expect(readTime(0.004, false)).toEqual({ ran: true, ms: 0.004 });
  });

  it('a failed or cut-short measurement has no output to check and never wins', () => {
    for (const ms of [Number.NaN, -1, Infinity]) {
      expect(readTime(ms, false)).toEqual({ ran: false, ms: Infinity });
      expect(readTime(ms, true)).toEqual({ ran: false, ms: Infinity });
    }
  });

  it('0 ms (below the clock’s resolution) ran, so its output is checked; a candidate never wins with it, the static rule keeps it, so nothing beats it', () => {
    expect(readTime(0, false)).toEqual({ ran: true, ms: Infinity });
    expect(readTime(0, true)).toEqual({ ran: true, ms: 0 });
  });
});
