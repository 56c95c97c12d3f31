/**
 * GpuCounters: how many GPU objects the engine has created and how much it
 * has talked to the device. A training step in its steady state should
 * create nothing and read nothing back synchronously; tests compare two
 * snapshots around a step to prove it.
 */
export interface GpuCounters {
  /** Compute pipelines created. */
  pipelines: number;
  /** Bind groups created. */
  bindGroups: number;
  /** Buffers created (pool, staging, uniforms, query resolves). */
  buffers: number;
  /** queue.writeBuffer calls (host → GPU uploads, uniform chunks included). */
  bufferWrites: number;
  /** Readbacks the host waited for (tensor.read(), item()). */
  syncReadbacks: number;
  /** Readbacks started without waiting (a step's losses, read a step late). */
  asyncReadbacks: number;
  /** Dispatches recorded. */
  dispatches: number;
  /** Command buffers submitted. */
  submits: number;
}

export function zeroCounters(): GpuCounters {
  return { pipelines: 0, bindGroups: 0, buffers: 0, bufferWrites: 0, syncReadbacks: 0, asyncReadbacks: 0, dispatches: 0, submits: 0 };
}

/** b − a, field by field (what happened between two snapshots). */
export function counterDelta(a: GpuCounters, b: GpuCounters): GpuCounters {
  const out = zeroCounters();
  for (const k of Object.keys(out) as (keyof GpuCounters)[]) out[k] = b[k] - a[k];
  return out;
}
