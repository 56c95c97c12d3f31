/** How long the host sleeps before mapping a step's readback (src/train/wait-estimate.ts). */
import { describe, expect, it } from 'vitest';
import { expectedStepMs, sleepBeforeMap } from '../../src/train/wait-estimate.js';

describe('expectedStepMs', () => {
  it('is unknown (0) until three steps have finished', () => {
    expect(expectedStepMs([])).toBe(0);
    expect(expectedStepMs([30, 40])).toBe(0);
    expect(expectedStepMs([30, 40, 35])).toBe(35);
  });

  it('is the median, so one stalled step does not move it', () => {
    expect(expectedStepMs([20, 22, 21, 19, 5000])).toBe(21);
  });
});

describe('sleepBeforeMap', () => {
  const recent = [100, 100, 100];

  it('sleeps until 90 % of the expected step has passed', () => {
    expect(sleepBeforeMap(recent, 1000, 0, 1000)).toBe(90);
    expect(sleepBeforeMap(recent, 1000, 0, 1050)).toBe(40);
  });

  it('counts from the previous step’s end when the GPU was still busy at submit', () => {
    expect(sleepBeforeMap(recent, 1000, 1100, 1000)).toBe(100); // capped at one expected step
    expect(sleepBeforeMap(recent, 1000, 1050, 1100)).toBe(40);
  });

  it('does not sleep when the step is already due, the estimate is short or unknown', () => {
    expect(sleepBeforeMap(recent, 1000, 0, 1095)).toBe(0);
    expect(sleepBeforeMap([3, 3, 3], 1000, 0, 1000)).toBe(0);
    expect(sleepBeforeMap([500], 1000, 0, 1000)).toBe(0);
  });

  it('after a stall, sleeps by the median, not by the stall', () => {
    expect(sleepBeforeMap([20, 22, 21, 19, 5000], 1000, 0, 1000)).toBeCloseTo(18.9, 6);
  });
});
