/**
 * Times dispatches for the tuner on its own command encoders, outside the
 * engine's batch and profiler: with timestamp queries (a pair around each
 * pass of n dispatches) when the device has them, else the wall clock around
 * a submit and `onSubmittedWorkDone`. Nothing here touches the engine's state,
 * so a measurement never lands in a user's profile or a captured step.
 */

// GPUBufferUsage / GPUMapMode values spelled out (Node defines the globals
// only once Dawn is loaded, after this module is evaluated).
const QUERY_RESOLVE = 0x200;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;
const MODE_READ = 0x1;

export interface TimedDispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
  /** Dispatches of the same configuration that follow this one (a multi-kernel op), timed with it. */
  next?: TimedDispatch[];
}

const MAX_PASSES = 4;

export class Clock {
  readonly method: 'timestamp-query' | 'wall-clock';
  #querySet: GPUQuerySet | null = null;

  constructor(
    readonly device: GPUDevice,
    timestamps: boolean,
  ) {
    this.method = timestamps ? 'timestamp-query' : 'wall-clock';
    if (timestamps) this.#querySet = device.createQuerySet({ type: 'timestamp', count: 2 * MAX_PASSES });
  }

  /**
   * Runs `passes` compute passes of `n` dispatches each (`before` first, e.g.
   * a clear of the output) and returns the time per dispatch of each pass (ms).
   * A dispatch with `next` counts as one: the chain is run n times.
   */
  async time(d: TimedDispatch, n: number, passes: number, before?: (enc: GPUCommandEncoder) => void): Promise<number[]> {
    passes = Math.min(passes, MAX_PASSES);
    const dev = this.device;
    const encodePass = (enc: GPUCommandEncoder, i: number | null) => {
      const pass = enc.beginComputePass(
        i === null || !this.#querySet
          ? {}
          : { timestampWrites: { querySet: this.#querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } },
      );
      const chain = [d, ...(d.next ?? [])];
      for (let k = 0; k < n; k++) {
        for (const x of chain) {
          if (k === 0 || chain.length > 1) {
            pass.setPipeline(x.pipeline);
            pass.setBindGroup(0, x.bindGroup);
          }
          pass.dispatchWorkgroups(x.workgroups[0], x.workgroups[1], x.workgroups[2]);
        }
      }
      pass.end();
    };
    if (this.#querySet) {
      const enc = dev.createCommandEncoder({ label: 'tune' });
      before?.(enc);
      for (let i = 0; i < passes; i++) encodePass(enc, i);
      const bytes = 2 * passes * 8;
      const resolve = dev.createBuffer({ size: bytes, usage: QUERY_RESOLVE | COPY_SRC, label: 'tune.resolve' });
      const read = dev.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST, label: 'tune.read' });
      enc.resolveQuerySet(this.#querySet, 0, 2 * passes, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, bytes);
      dev.queue.submit([enc.finish()]);
      try {
        await read.mapAsync(MODE_READ);
        const t = new BigUint64Array(read.getMappedRange().slice(0));
        read.unmap();
        const out: number[] = [];
        for (let i = 0; i < passes; i++) {
          const ms = Number(t[2 * i + 1]! - t[2 * i]!) / 1e6;
          out.push(ms >= 0 && Number.isFinite(ms) ? ms / n : NaN);
        }
        return out;
      } finally {
        resolve.destroy();
        read.destroy();
      }
    }
    const out: number[] = [];
    if (before) {
      const enc = dev.createCommandEncoder({ label: 'tune' });
      before(enc);
      dev.queue.submit([enc.finish()]);
    }
    for (let i = 0; i < passes; i++) {
      await dev.queue.onSubmittedWorkDone();
      const enc = dev.createCommandEncoder({ label: 'tune' });
      encodePass(enc, null);
      const t0 = performance.now();
      dev.queue.submit([enc.finish()]);
      await dev.queue.onSubmittedWorkDone();
      out.push((performance.now() - t0) / n);
    }
    return out;
  }

  destroy(): void {
    this.#querySet?.destroy();
    this.#querySet = null;
  }
}

/** Copies `bytes` of `buf` back to the host on the tuner's own encoder. */
export async function readBack(device: GPUDevice, buf: GPUBuffer, bytes: number): Promise<Float32Array> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ size, usage: MAP_READ | COPY_DST, label: 'tune.readback' });
  try {
    const enc = device.createCommandEncoder({ label: 'tune.readback' });
    enc.copyBufferToBuffer(buf, 0, staging, 0, size);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(MODE_READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    return out;
  } finally {
    staging.destroy();
  }
}

/** What the tuner makes of one measured time. */
export interface Reading {
  /** The run completed, so its output can be checked against the reference. */
  ran: boolean;
  /** The time to rank by (ms); Infinity never wins. */
  ms: number;
}

/**
 * Reads a measured time: a failed or cut-short measurement (NaN, negative,
 * Infinity) did not run to the end — nothing to check, never a win. 0 ms is
 * below the clock's resolution (lavapipe's timestamps on a tiny problem): the
 * run completed, but its time says nothing — for the static rule it stays 0,
 * so no candidate can beat it (nothing to gain on a problem that small); for
 * any other candidate it is Infinity, checked but never chosen.
 */
export function readTime(ms: number, isStatic: boolean): Reading {
  if (ms > 0 && Number.isFinite(ms)) return { ran: true, ms };
  if (ms === 0) return { ran: true, ms: isStatic ? 0 : Infinity };
  return { ran: false, ms: Infinity };
}
