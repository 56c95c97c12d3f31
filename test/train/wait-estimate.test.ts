/** How the host waits for a step's readback (src/train/wait-estimate.ts). */
import { describe, expect, it } from 'vitest';
import { expectedStepMs, waitPlan } from '../../src/train/wait-estimate.js';

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

describe('waitPlan', () => {
  const recent = [1000, 1000, 1000];

  it('sleeps until 85 % of the expected step has passed, then probes every 2 % of it', () => {
    expect(waitPlan(recent, 1000, 1000)).toEqual({ sleep: 850, every: 20, growth: 1, maxEvery: 20 });
    expect(waitPlan(recent, 1000, 1100).sleep).toBe(750);
  });

  it('counts from when the GPU started the step, and never sleeps more than one expected step', () => {
    expect(waitPlan(recent, 2000, 1000).sleep).toBe(1000);
  });

  it('probes at once when the step is already due', () => {
    expect(waitPlan(recent, 1000, 1849).sleep).toBe(0);
    expect(waitPlan(recent, 1000, 3000).sleep).toBe(0);
  });

  it('keeps the probe interval within 2–50 ms', () => {
    expect(waitPlan([50, 50, 50], 0, 0).every).toBe(2);
    expect(waitPlan([10_000, 10_000, 10_000], 0, 0).every).toBe(50);
  });

  it('without an estimate, probes from the start, 2 ms apart, growing 1.5× up to 50 ms', () => {
    expect(waitPlan([], 1000, 1000)).toEqual({ sleep: 0, every: 2, growth: 1.5, maxEvery: 50 });
    expect(waitPlan([500, 600], 1000, 1000).sleep).toBe(0);
  });

  it('maps at once for steps expected under 4 ms (a timer would cost more)', () => {
    expect(waitPlan([3, 3, 3], 1000, 1000)).toEqual({ sleep: 0, every: 0, growth: 1, maxEvery: 0 });
  });

  it('after a stall, plans by the median, not by the stall', () => {
    expect(waitPlan([200, 220, 210, 190, 50_000], 0, 0).sleep).toBeCloseTo(178.5, 6);
  });
});
