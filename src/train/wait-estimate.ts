/**
 * How the host waits for a step's readback without taking a core from the
 * GPU. Dawn's Node binding keeps the main thread busy for as long as one of
 * its promises is pending; on a CPU adapter (lavapipe) that core is taken
 * from the GPU's own worker threads, and every dispatch waits for its
 * slowest worker: a step awaited by a map issued at once took 2.5–2.7 s on
 * two cores where the same step with the host asleep took 1.4–1.6 s
 * (bench/scratch/wait-probe.ts). So the host sleeps, then probes: it issues
 * the map and, when it is not granted within a moment, aborts it (`unmap`)
 * and sleeps again (`mapWhenDone` in src/device/map-probe.ts) — no promise
 * stays pending while the step runs.
 *
 * The plan comes from the GPU time of the recent steps (their median: one
 * outlier — a paused process, a machine waking up — cannot make the host
 * sleep long past a step's end): sleep until 85 % of the expected time has
 * passed, then probe every 2 % of it (2–50 ms). Without an estimate (the
 * first steps) the probes start at once, 2 ms apart, each interval 1.5× the
 * last up to 50 ms. Since a step's end is seen within one probe interval,
 * the samples are the GPU's time, not the host's sleep, and an estimate that
 * starts high shrinks to the true time within a few steps. Steps expected
 * to take under 4 ms map at once: a timer's own granularity would cost more.
 */

import type { WaitPlan } from '../device/map-probe.js';

/** The expected GPU ms of a step from the recent ones (0 when unknown: fewer than 3). */
export function expectedStepMs(recentGpuMs: readonly number[]): number {
  if (recentGpuMs.length < 3) return 0;
  return [...recentGpuMs].sort((a, b) => a - b)[recentGpuMs.length >> 1]!;
}

const MAX_PROBE_MS = 50;

/**
 * The wait for a step whose GPU work started no earlier than `start` (its
 * submit, or the previous step's end when the GPU was still busy then), at
 * time `now`, given the GPU ms of the recent steps.
 */
export function waitPlan(recentGpuMs: readonly number[], start: number, now: number): WaitPlan {
  const est = expectedStepMs(recentGpuMs);
  if (est === 0) return { sleep: 0, every: 2, growth: 1.5, maxEvery: MAX_PROBE_MS };
  if (est <= 4) return { sleep: 0, every: 0, growth: 1, maxEvery: 0 };
  const sleep = Math.min(start + 0.85 * est - now, est);
  const every = Math.min(Math.max(0.02 * est, 2), MAX_PROBE_MS);
  return { sleep: sleep > 2 ? sleep : 0, every, growth: 1, maxEvery: every };
}
