/**
 * Mapping a readback buffer without keeping a promise pending while the GPU
 * works: Dawn's Node binding spins the main thread for as long as one is,
 * which on a CPU adapter takes a core from the GPU (src/train/wait-estimate.ts).
 * A probe issues the map and, when it is not granted within `graceMs`,
 * aborts it with `unmap()` (the WebGPU way to cancel a pending map: its
 * promise rejects with an AbortError); between probes the host sleeps on a
 * timer. In a browser the same calls are valid, merely unnecessary.
 */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How to wait: sleep `sleep` ms, then probe every `every` ms, each interval `growth` times the last up to `maxEvery` (`every` 0: map at once). */
export interface WaitPlan {
  sleep: number;
  every: number;
  growth: number;
  maxEvery: number;
}

/**
 * How reads and `sync()` wait on a CPU adapter, where a pending map spins the
 * main thread on a core the GPU's workers need: probes from the start, 1 ms
 * apart, each interval 1.5× the last up to 20 ms — finished work is granted
 * by the first probe, long work costs at most one interval more.
 */
export const CPU_WAIT: Readonly<WaitPlan> = { sleep: 0, every: 1, growth: 1.5, maxEvery: 20 };
/** The plain wait: the map issued at once (GPUs: lowest latency; the spinning core is the host's own). */
export const MAP_AT_ONCE: Readonly<WaitPlan> = { sleep: 0, every: 0, growth: 1, maxEvery: 0 };

/**
 * Maps `buf` for reading if the GPU is done with it within `graceMs`;
 * otherwise aborts the map, leaves the buffer unmapped and returns false.
 * A map that fails for any other reason (a lost device rejects it too, with
 * whatever error) throws, so a wait cannot probe forever.
 */
export async function mapIfReady(buf: GPUBuffer, graceMs = 1): Promise<boolean> {
  let failure: { error: unknown } | null = null;
  let mapped = false;
  const map = buf.mapAsync(GPUMapMode.READ).then(
    () => {
      mapped = true;
    },
    (error: unknown) => {
      failure = { error };
    },
  );
  await Promise.race([map, sleep(graceMs)]);
  if (mapped) return true;
  if (failure) throw (failure as { error: unknown }).error; // failed before any abort of ours
  buf.unmap(); // abort the pending map
  await map;
  // Granted between the race and the abort, the abort undid it: not ready. A
  // rejection now is our abort's — or the device's, which the next probe,
  // rejected before any abort, reports.
  return false;
}

/**
 * Maps `buf` for reading once the GPU is done with it: sleeps `plan.sleep`
 * ms, then probes every `plan.every` ms, each interval `plan.growth` times
 * the last up to `plan.maxEvery`; `plan.every` 0 maps at once (the plain,
 * spinning wait). Returns when the buffer is mapped.
 */
export async function mapWhenDone(buf: GPUBuffer, plan: WaitPlan): Promise<void> {
  if (plan.sleep > 0) await sleep(plan.sleep);
  if (plan.every <= 0) {
    await buf.mapAsync(GPUMapMode.READ);
    return;
  }
  let every = plan.every;
  while (!(await mapIfReady(buf))) {
    await sleep(every);
    every = Math.min(every * plan.growth, plan.maxEvery);
  }
}
