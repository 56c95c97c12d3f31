/**
 * Engine: the object a user holds. It owns one GPU device (GpuContext), the
 * kernel cache, the buffer pool, the scopes that release tensors, and the
 * gradient mode. Every tensor points back to its engine; ops need nothing else.
 */
import { foldedGrid } from './util/grid.js';
import { runBackward } from './autograd/backward.js';
import { type AdapterSummary, type ContextOptions, GpuContext, type KernelTiming } from './device/context.js';
import type { GpuCounters } from './device/counters.js';
import { CaptureError, KernelError, LimitError, ShapeError } from './device/errors.js';
import { type CompiledEntry, KernelCache } from './kernels/cache.js';
import { packParams } from './kernels/reflect.js';
import { UniformRing } from './kernels/uniform-ring.js';
import type { KernelSourceLoader } from './kernels/sources.js';
import { ReplayPlan } from './replay/plan.js';
import type { Command, Recording } from './replay/recording.js';
import { BufferPool } from './tensor/pool.js';
import { TUNE_MODES, type TuneMode, type TuneStore } from './tune/types.js';
import { type DType, fmtShape, Storage, Tensor } from './tensor/tensor.js';

// GPUBufferUsage values, spelled out: on Node the GPUBufferUsage global only
// exists once Dawn has loaded, after this module is evaluated.
const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST

export interface EngineOptions extends ContextOptions {
  /** A `GPU` to use instead of the platform's (tests inject one without adapters). */
  gpu?: GPU;
  /** Where WGSL comes from; defaults to disk on Node and the bundle in browsers. */
  kernelSources?: KernelSourceLoader;
  /** Kernel autotuning (src/tune/): 'off', 'cached' (default) or 'full'. */
  tune?: TuneMode;
  /** Where tuned choices persist (the Node entry: a file under the user's cache directory; the browser entry: IndexedDB, src/tune/store-indexeddb.ts). */
  tuneStore?: TuneStore;
  /**
   * Whose static kernel rules to follow (tile shapes, conv and attention paths, workgroup sizes,
   * and the order of tuning candidates): a CPU adapter's or a GPU's. Default: this adapter's
   * class (`info.isFallbackAdapter`). 'gpu' on lavapipe runs the kernels a GPU would, so a
   * training step on a GPU's paths can be tested and counted without one.
   */
  kernelRules?: KernelRules;
}

/** The class of adapter whose static kernel rules an engine follows (EngineOptions.kernelRules). */
export type KernelRules = 'cpu' | 'gpu';
const KERNEL_RULES: readonly KernelRules[] = ['cpu', 'gpu'];

export interface MemoryReport {
  liveTensors: number;
  bytesInUse: number;
  bytesPooled: number;
  buffersInUse: number;
  buffersPooled: number;
  pipelines: number;
}

/** What a launcher passes to `engine.run`. */
export interface RunSpec {
  /** Buffers by their WGSL variable name (the uniform `Params` is filled from `params`). */
  bind: Record<string, Tensor | GPUBuffer>;
  params?: Record<string, number | readonly number[]>;
  /** WGSL `override` constants (tile and workgroup sizes). */
  constants?: Record<string, number>;
  /**
   * Workgroups to launch: a count (folded into x·y when it exceeds the
   * per-dimension limit; the kernel linearises `wid.x + wid.y * nwg.x`) or an
   * explicit [x, y, z] grid.
   */
  workgroups: number | readonly [number, number?, number?];
}

export class Engine {
  readonly ctx: GpuContext;
  readonly kernels: KernelCache;
  readonly pool: BufferPool;
  gradEnabled = true;
  #scopes: Set<Tensor>[] = [];
  #live = new Set<Tensor>();
  /** Batch in which each buffer was last bound, to order host uploads. */
  #bufferBatch = new WeakMap<GPUBuffer, number>();
  #uniforms: UniformRing;
  #placeholder: GPUBuffer | null = null;
  /** The commands of the step being captured (see `capture`). */
  #recording: Command[] | null = null;

  /** Autotuning mode and cache (src/tune/tuner.ts reads them). */
  readonly tuneMode: TuneMode;
  readonly tuneStore: TuneStore | null;
  /** Whose static kernel rules the ops follow: a CPU adapter's or a GPU's (EngineOptions.kernelRules). */
  readonly kernelRules: KernelRules;

  constructor(ctx: GpuContext, sources: KernelSourceLoader, opts: Pick<EngineOptions, 'tune' | 'tuneStore' | 'kernelRules'> = {}) {
    this.ctx = ctx;
    this.tuneMode = opts.tune ?? 'cached';
    this.tuneStore = opts.tuneStore ?? null;
    this.kernelRules = opts.kernelRules ?? (ctx.info.isFallbackAdapter ? 'cpu' : 'gpu');
    this.kernels = new KernelCache(ctx, sources);
    this.pool = new BufferPool(ctx.device, ctx.limits.maxBufferSize, ctx.counters);
    this.#uniforms = new UniformRing(ctx, ctx.limits.minUniformBufferOffsetAlignment);
    ctx.onBeforeSubmit(() => this.#uniforms.upload());
  }

  /** GPU objects created and traffic so far; compare two snapshots (`counterDelta`). */
  counters(): GpuCounters {
    return { ...this.ctx.counters };
  }

  get info(): AdapterSummary {
    return this.ctx.info;
  }
  get features(): ReadonlySet<string> {
    return this.ctx.features;
  }
  get limits(): GPUSupportedLimits {
    return this.ctx.limits;
  }
  /** The most invocations a 1-D workgroup may have here: 256 or more on a core device, 128 in compatibility mode. */
  get maxWorkgroupSize(): number {
    return Math.min(this.ctx.limits.maxComputeInvocationsPerWorkgroup, this.ctx.limits.maxComputeWorkgroupSizeX);
  }

  // ---- tensors -----------------------------------------------------------

  /** A tensor with uninitialised contents, from the pool. */
  empty(shape: readonly number[], dtype: DType = 'f32', label?: string): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const bytes = Math.max(4, size * 4);
    const buf = this.pool.acquire(bytes, STORAGE_USAGE, label);
    const t = new Tensor(this, new Storage(this, buf, bytes), shape, dtype);
    if (label) t.label = label;
    this.#track(t);
    return t;
  }

  /** Uploads host data into a new tensor. */
  tensor(data: ArrayLike<number>, shape: readonly number[], opts: { requiresGrad?: boolean; dtype?: DType; label?: string } = {}): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new ShapeError(`tensor(): ${data.length} values do not fill shape ${fmtShape(shape)} (${size} elements)`);
    }
    const t = this.empty(shape, opts.dtype ?? 'f32', opts.label);
    this._upload(t, data);
    t.requiresGrad = opts.requiresGrad ?? false;
    return t;
  }

  /** A view of `t`'s storage with another shape (no copy, no graph). */
  _view(t: Tensor, shape: readonly number[], offset = t.offset): Tensor {
    t.storage.ref();
    const v = new Tensor(this, t.storage, shape, t.dtype, false, offset);
    this.#track(v);
    return v;
  }

  /** Re-shapes a tensor the caller owns, consuming it (no copy). */
  _viewOwned(t: Tensor, shape: readonly number[]): Tensor {
    const v = this._view(t, shape);
    t.dispose();
    return v;
  }

  _upload(t: Tensor, data: ArrayLike<number>): void {
    if (data.length !== t.size) throw new ShapeError(`write(): ${data.length} values for tensor ${fmtShape(t.shape)}`);
    if (this.#recording) {
      throw new CaptureError(
        `write() of ${t.label ?? t.toString()} inside a captured step: a replay would not repeat it — make per-step data a step input, written before the step`,
      );
    }
    // queue.writeBuffer runs before the commands still being recorded; if those
    // use this buffer, submit them first so they see the old contents.
    if (this.ctx.hasPendingWork && this.#bufferBatch.get(t.buffer) === this.ctx.batchId) this.ctx.flush();
    const arr =
      t.dtype === 'i32'
        ? data instanceof Int32Array
          ? data
          : Int32Array.from(data as ArrayLike<number>)
        : data instanceof Float32Array
          ? data
          : Float32Array.from(data as ArrayLike<number>);
    this.ctx.writeBuffer(t.buffer, t.offset * 4, arr.buffer, arr.byteOffset, arr.byteLength);
  }

  #track(t: Tensor): void {
    this.#live.add(t);
    this.#scopes.at(-1)?.add(t);
  }

  _onDispose(t: Tensor): void {
    this.#live.delete(t);
    for (const s of this.#scopes) s.delete(t);
  }

  _releaseStorage(s: Storage): void {
    this.pool.release(s.buffer, STORAGE_USAGE);
  }

  /**
   * Runs `fn`, then disposes every tensor created inside it except those it
   * returns (a tensor, or an array/object of tensors) and those passed to
   * `keep()`. Kept tensors move to the enclosing scope.
   */
  scope<T>(fn: () => T): T {
    this.#scopes.push(new Set());
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.#endScope(undefined);
      throw e;
    }
    if (result instanceof Promise) throw new Error('engine.scope(): use asyncScope() for async functions');
    this.#endScope(result);
    return result;
  }

  /** `scope()` for async functions; do not interleave two async scopes. */
  async asyncScope<T>(fn: () => Promise<T>): Promise<T> {
    this.#scopes.push(new Set());
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      this.#endScope(undefined);
      throw e;
    }
    this.#endScope(result);
    return result;
  }

  #endScope(result: unknown): void {
    const set = this.#scopes.pop()!;
    const kept = new Set<Tensor>();
    collectTensors(result, kept);
    for (const t of set) {
      if (kept.has(t)) this.#scopes.at(-1)?.add(t);
      else t.dispose();
    }
  }

  /** Exempts tensors from the current scope's cleanup (they move to its parent). */
  keep<T extends Tensor>(t: T): T {
    const top = this.#scopes.at(-1);
    if (top?.delete(t)) this.#scopes.at(-2)?.add(t);
    return t;
  }

  /** Removes a tensor from every scope: the caller owns it outright. */
  untrack<T extends Tensor>(t: T): T {
    for (const s of this.#scopes) s.delete(t);
    return t;
  }

  /** Runs `fn` with gradient recording off. */
  noGrad<T>(fn: () => T): T {
    const prev = this.gradEnabled;
    this.gradEnabled = false;
    try {
      return fn();
    } finally {
      this.gradEnabled = prev;
    }
  }

  backward(t: Tensor, grad?: Tensor): void {
    runBackward(this, t, grad);
  }

  // ---- kernels -----------------------------------------------------------

  /** Records one dispatch of `family:entry` with reflected bindings. */
  run(family: string, entry: string, spec: RunSpec): void {
    const e = this.kernels.entry(family, entry);
    // Profiling: start a new batch before this dispatch's uniforms are placed.
    if (this.ctx.queriesFull) this.ctx.flush();
    const entries: GPUBindGroupEntry[] = [];
    const maxBinding = this.ctx.limits.maxStorageBufferBindingSize;
    let uniform: { binding: number; bytes: Uint8Array } | null = null;
    for (const b of e.bindings) {
      if (b.kind === 'uniform') {
        if (!e.params) continue;
        const data = packParams(e.label, e.params, spec.params ?? {});
        const slot = this.#uniforms.push(data);
        if (this.#recording) uniform = { binding: b.binding, bytes: new Uint8Array(data) };
        entries.push({ binding: b.binding, resource: { buffer: slot.buffer, offset: slot.offset, size: e.params.size } });
        continue;
      }
      const v = spec.bind[b.name];
      if (!v) throw new KernelError(`${e.label}: no buffer given for binding '${b.name}'`, e.label);
      const buf = v instanceof Tensor ? v.buffer : v;
      const bytes = v instanceof Tensor ? Math.max(4, v.bytes) : v.size;
      const offset = v instanceof Tensor ? v.offset * 4 : 0;
      if (bytes > maxBinding) {
        throw new LimitError(
          `${e.label}: binding '${b.name}' needs ${bytes} bytes, over the adapter's maxStorageBufferBindingSize (${maxBinding})`,
          'maxStorageBufferBindingSize',
        );
      }
      this.#bufferBatch.set(buf, this.ctx.batchId);
      entries.push({ binding: b.binding, resource: { buffer: buf, offset, size: Math.ceil(bytes / 4) * 4 } });
    }
    for (const k of Object.keys(spec.bind)) {
      if (!e.bindings.some((b) => b.name === k)) {
        throw new KernelError(`${e.label}: unknown binding '${k}' (the WGSL binds ${e.bindings.map((b) => b.name).join(', ')})`, e.label);
      }
    }
    if (!e.params && spec.params && Object.keys(spec.params).length) {
      throw new KernelError(`${e.label}: params given but the kernel declares no uniform`, e.label);
    }
    const pipeline = this.kernels.pipeline(e, spec.constants);
    const bindGroup = this.ctx.createBindGroup({ label: e.label, layout: e.layout, entries });
    const workgroups = this.#grid(e, spec.workgroups);
    this.ctx.dispatch({ pipeline, bindGroup, workgroups, label: e.label });
    if (this.#recording && workgroups[0] * workgroups[1] * workgroups[2] > 0) {
      this.#recording.push({
        kind: 'dispatch',
        label: e.label,
        pipeline,
        layout: e.layout,
        storage: entries
          .filter((x) => !uniform || x.binding !== uniform.binding)
          .map((x) => {
            const r = x.resource as GPUBufferBinding;
            return { binding: x.binding, buffer: r.buffer, offset: r.offset ?? 0, size: r.size! };
          }),
        uniform: uniform && e.params ? { ...uniform, layout: e.params } : null,
        workgroups,
      });
    }
  }

  // ---- capture and replay --------------------------------------------------

  /**
   * Runs `fn` eagerly (its work is real) and records every GPU command it
   * issues. Inside, host writes (`tensor.write`) and readbacks are refused:
   * a replay could not repeat them. Build a `ReplayPlan` from the recording
   * (`plan()`), after checking that a second capture agrees.
   */
  capture<T>(fn: () => T): { recording: Recording; result: T } {
    if (this.#recording) throw new CaptureError('capture() inside a capture');
    const acquired = new Set<GPUBuffer>();
    const commands: Command[] = [];
    this.#recording = commands;
    this.pool.track(acquired);
    this.ctx.capturing = true;
    try {
      const result = fn();
      if (result instanceof Promise) throw new CaptureError('capture(): the step must be synchronous (no awaits inside a captured step)');
      return { recording: { commands, acquired }, result };
    } finally {
      this.#recording = null;
      this.pool.track(null);
      this.ctx.capturing = false;
    }
  }

  /** True while `capture` runs its step (ops then must not measure or read back). */
  get capturing(): boolean {
    return this.#recording !== null;
  }

  /** A replayable plan from a recording; `outputs` are the tensors the step hands out (kept by the caller). */
  plan(recording: Recording, outputs: readonly Tensor[], label?: string): ReplayPlan {
    return new ReplayPlan(this.ctx, this.pool, recording, outputs, label);
  }

  /** Encodes a plan's commands into the current batch (no submit). */
  replay(plan: ReplayPlan): void {
    plan.replay();
    const batch = this.ctx.batchId;
    for (const b of plan.externalBuffers) this.#bufferBatch.set(b, batch);
  }

  #grid(e: CompiledEntry, w: RunSpec['workgroups']): [number, number, number] {
    const maxDim = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    if (typeof w === 'number') {
      const grid = foldedGrid(w, maxDim);
      if (grid[1] > maxDim) {
        throw new LimitError(`${e.label}: ${w} workgroups exceed maxComputeWorkgroupsPerDimension² (${maxDim}²)`, 'maxComputeWorkgroupsPerDimension');
      }
      return grid;
    }
    return [w[0], w[1] ?? 1, w[2] ?? 1];
  }

  /** A small buffer to bind where a kernel's optional input is absent. */
  placeholder(): GPUBuffer {
    this.#placeholder ??= this.ctx.createBuffer({ size: 256, usage: STORAGE_USAGE, label: 'placeholder' });
    return this.#placeholder;
  }

  /** Records a fill of `t` with zeros into the current batch. */
  clear(t: Tensor): void {
    this.#bufferBatch.set(t.buffer, this.ctx.batchId);
    if (!t.size) return;
    this.ctx.clear(t.buffer, t.offset * 4, t.bytes);
    this.#recording?.push({ kind: 'clear', buffer: t.buffer, offset: t.offset * 4, bytes: t.bytes });
  }

  /** Records a device-side copy of `bytes` from `src` to `dst`. */
  copyBuffer(src: Tensor, dst: Tensor, bytes = Math.min(src.bytes, dst.bytes), srcOffset = 0, dstOffset = 0): void {
    this.#bufferBatch.set(src.buffer, this.ctx.batchId);
    this.#bufferBatch.set(dst.buffer, this.ctx.batchId);
    if (bytes <= 0) return;
    this.ctx.copy(src.buffer, src.offset * 4 + srcOffset, dst.buffer, dst.offset * 4 + dstOffset, bytes);
    this.#recording?.push({
      kind: 'copy',
      src: src.buffer,
      srcOffset: src.offset * 4 + srcOffset,
      dst: dst.buffer,
      dstOffset: dst.offset * 4 + dstOffset,
      bytes,
    });
  }

  /** Submits recorded work (no wait). */
  flush(): void {
    this.ctx.flush();
  }

  /** Waits for the GPU to finish submitted work; rethrows GPU errors. */
  sync(): Promise<void> {
    return this.ctx.sync();
  }

  startProfiling(): boolean {
    return this.ctx.startProfiling();
  }

  stopProfiling(): Promise<KernelTiming[]> {
    return this.ctx.stopProfiling();
  }

  /** Live tensors and GPU bytes in use / held for reuse. */
  memory(): MemoryReport {
    const s = this.pool.stats();
    return {
      liveTensors: this.#live.size,
      bytesInUse: s.bytesInUse,
      bytesPooled: s.bytesPooled,
      buffersInUse: s.buffersInUse,
      buffersPooled: s.buffersPooled,
      pipelines: this.kernels.pipelineCount,
    };
  }

  /** One line per live tensor (id, label, shape): for finding what was not disposed. */
  liveTensors(): string[] {
    return [...this.#live].map((t) => t.toString() + (t.label ? ` ${t.label}` : ''));
  }

  /** Releases the device; the process can exit afterwards. */
  destroy(): void {
    this.pool.trim();
    this.#placeholder?.destroy();
    this.#uniforms.destroy();
    this.ctx.destroy();
  }
}

function collectTensors(v: unknown, out: Set<Tensor>, depth = 0): void {
  if (v instanceof Tensor) out.add(v);
  else if (depth < 3 && Array.isArray(v)) for (const x of v) collectTensors(x, out, depth + 1);
  else if (depth < 3 && v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) collectTensors(x, out, depth + 1);
  }
}

/** Creates an engine from a `GPU` object (Node's Dawn or `navigator.gpu`). */
export async function createEngineWith(
  gpu: GPU,
  backend: AdapterSummary['backend'],
  defaultSources: KernelSourceLoader,
  noAdapterHelp: () => string,
  opts: EngineOptions = {},
): Promise<Engine> {
  // Options are checked before a device exists, so a typo costs no device.
  if (opts.tune !== undefined && !TUNE_MODES.includes(opts.tune)) {
    throw new Error(`createEngine: tune must be one of ${TUNE_MODES.map((m) => `'${m}'`).join(', ')}, got '${String(opts.tune)}'`);
  }
  if (opts.kernelRules !== undefined && !KERNEL_RULES.includes(opts.kernelRules)) {
    throw new Error(`createEngine: kernelRules must be 'cpu' or 'gpu' (whose static kernel rules to follow), got '${String(opts.kernelRules)}'`);
  }
  if (opts.limits !== undefined && opts.limits !== 'adapter' && opts.limits !== 'default') {
    throw new Error(`createEngine: limits must be 'adapter' or 'default' (WebGPU's default limits), got '${String(opts.limits)}'`);
  }
  const ctx = await GpuContext.create(gpu, backend, noAdapterHelp, opts);
  return new Engine(ctx, opts.kernelSources ?? defaultSources, opts);
}
