/**
 * Where a piece of GPU work spends its time: the per-dispatch timestamp-query times of
 * `GpuContext.stopProfiling` summed by kernel (`family:entry`), largest first — the table a
 * training step's profile (`--profile-step`) and the bench's step cases print.
 */
import type { KernelTiming } from './context.js';

export interface KernelTime {
  /** `family:entry`, e.g. `conv2d_igemm:conv2d_igemm_grad_weight`. */
  kernel: string;
  /** GPU time of all its dispatches, ms. */
  ms: number;
  dispatches: number;
}

export interface GpuProfile {
  /** Sum of every dispatch's GPU time, ms (passes run back to back, so about the step's GPU time). */
  gpuMs: number;
  dispatches: number;
  /** By kernel, largest total first. */
  kernels: KernelTime[];
}

export function summariseProfile(timings: readonly KernelTiming[]): GpuProfile {
  const by = new Map<string, KernelTime>();
  let gpuMs = 0;
  for (const t of timings) {
    gpuMs += t.ms;
    const k = by.get(t.kernel);
    if (k) {
      k.ms += t.ms;
      k.dispatches++;
    } else by.set(t.kernel, { kernel: t.kernel, ms: t.ms, dispatches: 1 });
  }
  const kernels = [...by.values()].sort((a, b) => b.ms - a.ms || a.kernel.localeCompare(b.kernel));
  return { gpuMs, dispatches: timings.length, kernels };
}

/**
 * A short table: the `top` kernels with their share, milliseconds and dispatches, then one line
 * for the rest. Kernel names drop the family prefix where it repeats the entry's name.
 */
export function formatProfile(p: GpuProfile, top = 10): string[] {
  if (p.dispatches === 0) return ['no dispatch was timed'];
  const short = (k: string) => {
    const [family, entry] = k.split(':');
    return entry === undefined || entry.startsWith(family!) ? (entry ?? k) : k;
  };
  const pct = (ms: number) => (p.gpuMs > 0 ? (100 * ms) / p.gpuMs : 0);
  const rows = p.kernels
    .slice(0, top)
    .map((k) => `${pct(k.ms).toFixed(1).padStart(5)} %  ${k.ms.toFixed(3).padStart(9)} ms  ×${String(k.dispatches).padEnd(4)} ${short(k.kernel)}`);
  const rest = p.kernels.slice(top);
  if (rest.length > 0) {
    const ms = rest.reduce((a, k) => a + k.ms, 0);
    const n = rest.reduce((a, k) => a + k.dispatches, 0);
    rows.push(`${pct(ms).toFixed(1).padStart(5)} %  ${ms.toFixed(3).padStart(9)} ms  ×${String(n).padEnd(4)} ${rest.length} other kernels`);
  }
  return [`GPU time ${p.gpuMs.toFixed(3)} ms over ${p.dispatches} dispatches, by kernel:`, ...rows];
}
