/**
 * ReplayPlan: a captured step, ready to be issued again and again.
 *
 * Built once from a `Recording`: every pipeline is already compiled, every
 * bind group is created here (uniforms packed into one buffer of the plan's,
 * written once), and every buffer the step used is pinned:
 *  - the step's intermediates (buffers it took from the pool and gave back)
 *    leave the pool and belong to the plan until `dispose()`;
 *  - its outputs (buffers still held when the capture ended) must be the
 *    tensors the caller declares; the caller keeps them;
 *  - buffers from before the capture (parameters, optimiser state, inputs)
 *    are reserved in the pool: if their owner frees them while the plan
 *    lives, they are parked instead of reused, and `replay()` refuses to run.
 *
 * `replay()` then only encodes: setPipeline (when it changes), setBindGroup
 * and dispatchWorkgroups per kernel, plus the recorded copies and clears —
 * no JavaScript autograd, no pool traffic, no uniform packing, no new GPU
 * objects. Per-step values reach the kernels through buffers the caller
 * writes before each replay (the step's inputs).
 */
import type { GpuContext } from '../device/context.js';
import { CaptureError, DisposedError } from '../device/errors.js';
import type { BufferPool } from '../tensor/pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { buffersOf, type Recording } from './recording.js';

const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST

interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/** Consecutive dispatches are encoded as one run; copies and clears between them one by one. */
type Segment =
  | { kind: 'dispatches'; run: Dispatch[]; labels: string[] }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; bytes: number }
  | { kind: 'clear'; buffer: GPUBuffer; offset: number; bytes: number };

export interface PlanStats {
  dispatches: number;
  copies: number;
  clears: number;
  /** Buffers the plan owns (the step's intermediates) and their bytes. */
  scratchBuffers: number;
  scratchBytes: number;
  /** Buffers owned by others that the plan binds (parameters, state, inputs, outputs). */
  externalBuffers: number;
}

export class ReplayPlan {
  readonly stats: PlanStats;
  #segments: Segment[];
  #scratch: GPUBuffer[];
  #external: GPUBuffer[];
  #uniforms: GPUBuffer | null;
  #disposed = false;

  constructor(
    readonly ctx: GpuContext,
    readonly pool: BufferPool,
    recording: Recording,
    outputs: readonly Tensor[],
    readonly label = 'step',
  ) {
    const used = buffersOf(recording.commands);
    const outputBuffers = new Set(outputs.map((t) => t.buffer));
    const scratch: GPUBuffer[] = [];
    const external: GPUBuffer[] = [];
    const escaped: string[] = [];
    for (const buf of used) {
      if (!recording.acquired.has(buf) || outputBuffers.has(buf)) external.push(buf);
      else if (pool.take(buf, STORAGE_USAGE)) scratch.push(buf);
      else escaped.push(buf.label || `${buf.size} bytes`);
    }
    if (escaped.length > 0) {
      for (const b of scratch) pool.release(b, STORAGE_USAGE);
      throw new CaptureError(
        `${label}: ${escaped.length} buffer(s) created during the captured step are still held after it (${escaped.slice(0, 5).join(', ')}): ` +
          'state created inside a step cannot be replayed; create it before capturing (run one step eagerly first) or return it as an output',
      );
    }
    for (const b of external) pool.reserve(b);

    // One uniform buffer for the whole plan, written once.
    const align = ctx.limits.minUniformBufferOffsetAlignment;
    let total = 0;
    const offsets: number[] = [];
    for (const c of recording.commands) {
      if (c.kind !== 'dispatch' || !c.uniform) continue;
      offsets.push(total);
      total += Math.ceil(c.uniform.bytes.length / align) * align;
    }
    this.#uniforms = total > 0 ? ctx.createBuffer({ size: total, usage: 0x40 | 0x08, label: `${label} uniforms` }) : null; // UNIFORM | COPY_DST
    if (this.#uniforms) {
      const host = new Uint8Array(total);
      let j = 0;
      for (const c of recording.commands) if (c.kind === 'dispatch' && c.uniform) host.set(c.uniform.bytes, offsets[j++]!);
      ctx.writeBuffer(this.#uniforms, 0, host.buffer, 0, total);
    }

    let j = 0;
    const stats: PlanStats = { dispatches: 0, copies: 0, clears: 0, scratchBuffers: scratch.length, scratchBytes: 0, externalBuffers: external.length };
    for (const b of scratch) stats.scratchBytes += b.size;
    const segments: Segment[] = [];
    for (const c of recording.commands) {
      if (c.kind === 'copy') {
        stats.copies++;
        segments.push({ ...c });
        continue;
      }
      if (c.kind === 'clear') {
        stats.clears++;
        segments.push({ ...c });
        continue;
      }
      stats.dispatches++;
      const entries: GPUBindGroupEntry[] = c.storage.map((s) => ({ binding: s.binding, resource: { buffer: s.buffer, offset: s.offset, size: s.size } }));
      if (c.uniform) {
        entries.push({ binding: c.uniform.binding, resource: { buffer: this.#uniforms!, offset: offsets[j++]!, size: c.uniform.layout.size } });
      }
      const bindGroup = ctx.createBindGroup({ label: c.label, layout: c.layout, entries });
      let last = segments.at(-1);
      if (last?.kind !== 'dispatches') segments.push((last = { kind: 'dispatches', run: [], labels: [] }));
      last.run.push({ label: c.label, pipeline: c.pipeline, bindGroup, workgroups: c.workgroups });
      last.labels.push(c.label);
    }
    this.#segments = segments;
    this.#scratch = scratch;
    this.#external = external;
    this.stats = stats;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Buffers outside the plan that it binds (the engine orders uploads around them). */
  get externalBuffers(): readonly GPUBuffer[] {
    return this.#external;
  }

  /** The plan's dispatches in order (pipeline, bind group, grid), e.g. to time raw Dawn encoding of the same work. */
  dispatchList(): readonly Dispatch[] {
    return this.#segments.flatMap((s) => (s.kind === 'dispatches' ? s.run : []));
  }

  /** Encodes the step's commands into the current batch (no submit). */
  replay(): void {
    if (this.#disposed) throw new DisposedError(`${this.label}: replay of a disposed plan`);
    for (const b of this.#external) {
      if (this.pool.isParked(b)) {
        throw new DisposedError(
          `${this.label}: a tensor the captured step uses (${b.label || `${b.size} bytes`}) was disposed; dispose the plan before the model, optimiser or inputs`,
        );
      }
    }
    const ctx = this.ctx;
    for (const s of this.#segments) {
      if (s.kind === 'dispatches') ctx.dispatchRun(s.run, s.labels);
      else if (s.kind === 'copy') ctx.copy(s.src, s.srcOffset, s.dst, s.dstOffset, s.bytes);
      else ctx.clear(s.buffer, s.offset, s.bytes);
    }
  }

  /** Returns the intermediates to the pool and ends the reservations. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const b of this.#scratch) this.pool.release(b, STORAGE_USAGE);
    for (const b of this.#external) this.pool.unreserve(b);
    this.#uniforms?.destroy();
    this.#segments = [];
    this.#scratch = [];
    this.#external = [];
  }
}
