/**
 * How long the host sleeps before it starts mapping a step's readback.
 * Dawn's Node binding keeps the main thread busy while a map is pending (on
 * a CPU adapter that core is taken from the GPU's worker threads), so the
 * map starts only when the step is expected to be done.
 *
 * The expected GPU time of a step is the median of the recent ones: one
 * outlier — a paused process, a machine waking up — cannot make the host
 * sleep long past the step's end. Below 4 ms, or with fewer than 3 samples,
 * there is no sleep: the timer's own granularity would cost more.
 */

/** The expected GPU ms of a step from the recent ones (0 when unknown). */
export function expectedStepMs(recentGpuMs: readonly number[]): number {
  if (recentGpuMs.length < 3) return 0;
  return [...recentGpuMs].sort((a, b) => a - b)[recentGpuMs.length >> 1]!;
}

/**
 * Ms to sleep before mapping the readback of a step submitted at `submitted`
 * (the GPU starts it no earlier than `lastDone`, when the previous one ended),
 * at time `now`: until 90 % of the expected time has passed, never more than
 * one expected step.
 */
export function sleepBeforeMap(recentGpuMs: readonly number[], submitted: number, lastDone: number, now: number): number {
  const est = expectedStepMs(recentGpuMs);
  if (est <= 4) return 0;
  const sleep = Math.min(Math.max(submitted, lastDone) + 0.9 * est - now, est);
  return sleep > 2 ? sleep : 0;
}
