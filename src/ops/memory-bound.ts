/**
 * Launch shapes of the memory-bound kernels (elementwise_vec4.wgsl,
 * broadcast.wgsl, reduce.wgsl) per kind of adapter. Chosen once per engine
 * from what the adapter is, never per call, so two captures of a training
 * step always pick the same pipelines.
 *
 * CPU adapters (lavapipe: 8-lane SIMD, every per-lane load and store a
 * separate instruction, barriers as coroutine switches), measured by worker
 * thread CPU time on 2 cores (docs/kernels/elementwise.md):
 *  - elementwise: 4 consecutive vec4s per thread — one 64-byte cache line per
 *    lane per array — took 24 % less CPU than one vec4 per thread;
 *    8 or 16 took more.
 *  - reductions: 64-thread workgroups, at most 64 per output set: the tree's
 *    barriers cost more than the parallelism gains beyond that.
 *  - normalisations (batch norm, layer norm rows): 8 threads, one subgroup
 *    (batch norm's passes 1.7–2.7× faster than at 256, 8 ≈ 16 ≈ 32; layer
 *    norm's rows 3×, 8 best; scratch bn-layers.ts, ln-rows.ts).
 * GPUs (not measured here): the usual coalesced layout — thread t of a
 * workgroup takes vec4s t, t + WG, … so each load instruction of a warp
 * reads one contiguous span — one vec4 per thread, 256-thread workgroups.
 */
import type { Engine } from '../engine.js';
import { fitWg } from './launch.js';

export interface MemoryBoundShape {
  /** Threads per workgroup of the elementwise and broadcast kernels. */
  wg: number;
  /** vec4s (or elements, in scalar broadcast entries) per thread. */
  perThread: number;
  /** A thread's items are consecutive (CPU) rather than WG apart (GPU). */
  contiguous: boolean;
  /** Threads per workgroup of the reductions (a power of 2). */
  reduceWg: number;
  /** At most this many reduction workgroups over all outputs before a second pass is preferred. */
  reduceMaxWorkgroups: number;
  /** Threads per workgroup of the normalisations' reductions (batch norm's per-channel passes, layer norm's rows; a power of 2). */
  normWg: number;
}

/** What CPU adapters get. */
export const CPU_SHAPE: Readonly<MemoryBoundShape> = { wg: 256, perThread: 4, contiguous: true, reduceWg: 64, reduceMaxWorkgroups: 64, normWg: 8 };
/** What GPUs get. */
export const GPU_SHAPE: Readonly<MemoryBoundShape> = { wg: 256, perThread: 1, contiguous: false, reduceWg: 256, reduceMaxWorkgroups: 256, normWg: 256 };

const forced = new WeakMap<Engine, MemoryBoundShape>();

export function memoryBoundShape(engine: Engine): MemoryBoundShape {
  const shape = forced.get(engine) ?? (engine.kernelRules === 'cpu' ? CPU_SHAPE : GPU_SHAPE);
  const max = engine.maxWorkgroupSize;
  if (shape.wg <= max && shape.reduceWg <= max && shape.normWg <= max) return shape;
  // A compatibility-mode device (128 invocations): the same layout in smaller workgroups.
  return { ...shape, wg: fitWg(engine, shape.wg), reduceWg: fitWg(engine, shape.reduceWg), normWg: fitWg(engine, shape.normWg) };
}

/**
 * Makes `engine` use `shape` (null: its own again). For tests, which run the
 * GPU layout on a CPU adapter and the other way round; never change it
 * between two captures of a training step.
 */
export function forceMemoryBoundShape(engine: Engine, shape: MemoryBoundShape | null): void {
  if (shape) forced.set(engine, shape);
  else forced.delete(engine);
}

/** The override constants that select a shape in elementwise_vec4.wgsl and broadcast.wgsl. */
export function flatConstants(shape: MemoryBoundShape): Record<string, number> {
  return { WG: shape.wg, VPT: shape.perThread, CONTIGUOUS: shape.contiguous ? 1 : 0 };
}
