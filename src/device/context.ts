/**
 * GpuContext: one WebGPU device and the command stream feeding it.
 *
 * Dispatches are recorded into one command encoder (one open compute pass)
 * and submitted together on `flush()`: the host never waits on the GPU unless
 * it reads a buffer back. Validation errors and device loss are collected from
 * Dawn's callbacks and rethrown, naming the kernel, at the next flush or read.
 */
import { type GpuCounters, zeroCounters } from './counters.js';
import { CaptureError, DeviceLostError, KernelError, LimitError, NoAdapterError, OutOfMemoryError } from './errors.js';
import { CPU_WAIT, MAP_AT_ONCE, mapWhenDone, type WaitPlan } from './map-probe.js';

/** Optional features the engine uses when the adapter offers them. */
export const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'] as GPUFeatureName[];

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU (software) adapters such as lavapipe or SwiftShader. */
  isFallbackAdapter: boolean;
  backend: 'node-dawn' | 'browser';
  /**
   * A compatibility-mode device (WebGPU's `featureLevel: 'compatibility'`, e.g. a browser on
   * OpenGL ES or Direct3D 11): 128 invocations per workgroup by default. The engine sizes its
   * workgroups to fit (Engine.maxWorkgroupSize).
   */
  compatibilityMode: boolean;
}

export interface ContextOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * 'compatibility': ask for a compatibility-mode adapter (browsers on OpenGL ES or Direct3D 11;
   * with `limits: 'default'`, the smallest device WebGPU allows). Default: a core adapter, or a
   * compatibility-mode one where the platform has no core adapter.
   */
  featureLevel?: 'core' | 'compatibility';
  /** Features to leave off even when available (e.g. to test the f32 path). */
  disableFeatures?: string[];
  /**
   * 'adapter' (default): ask for every limit the adapter supports. 'default': WebGPU's default
   * limits (16 KiB of workgroup memory, 256 invocations, 8 storage buffers per stage, 128 MiB
   * bindings) — what every device guarantees, to check that the engine runs on the smallest one.
   */
  limits?: 'adapter' | 'default';
}

export interface DispatchRecord {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
  label: string;
}

/** Timestamps of profiled dispatches, in submission order. */
export interface KernelTiming {
  kernel: string;
  ms: number;
}

const QUERY_CAPACITY = 4096;

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  readonly info: AdapterSummary;
  /** The adapter's subgroup widths, as it reports them (0 when it does not). */
  readonly subgroupSizes: { min: number; max: number };
  /**
   * The subgroup width when subgroups are enabled on this device and the adapter's width is fixed
   * (min = max, a power of two ≥ 4: 32 on NVIDIA, 8 on lavapipe, 4 on SwiftShader), else 0 — what
   * the subgroup kernels need.
   */
  readonly subgroupWidth: number;
  /** Subgroups exactly 8 lanes wide (lavapipe at 256 bits): what the sg8 matmul and the sg convs need. */
  readonly subgroups8: boolean;
  /** Objects created and traffic so far (see GpuCounters). */
  readonly counters: GpuCounters = zeroCounters();

  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  /** Labels of the dispatches in the batch not yet submitted (for error messages). */
  #pendingKernels: string[] = [];
  /** Labels of the last submitted batch. */
  #lastSubmitted: string[] = [];
  #errors: { kind: string; message: string; followOn?: boolean }[] = [];
  /** The last batch submitted when a GPU error was last thrown: its follow-on errors are not new. */
  #reportedThrough = -1;
  #lost: GPUDeviceLostInfo | null = null;
  #batchId = 1;
  #afterSubmit: (() => void)[] = [];
  #beforeSubmit: (() => void)[] = [];
  #destroyed = false;
  #capturing = false;
  #passPipeline: GPUComputePipeline | null = null;
  /** A 16-byte buffer and its readback, for `settle()`. */
  #settleBufs: { src: GPUBuffer; staging: GPUBuffer } | null = null;

  // Profiling with timestamp queries.
  #profiling = false;
  #querySet: GPUQuerySet | null = null;
  #queryLabels: string[] = [];
  #timings: KernelTiming[] = [];
  #pendingResolves: Promise<void>[] = [];

  private constructor(adapter: GPUAdapter, device: GPUDevice, backend: AdapterSummary['backend'], compatibilityMode: boolean) {
    this.adapter = adapter;
    this.device = device;
    this.limits = device.limits;
    this.features = new Set([...device.features] as string[]);
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
    this.info = {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      isFallbackAdapter:
        (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ??
        /llvmpipe|lavapipe|swiftshader/i.test(`${info?.description} ${info?.architecture} ${info?.device}`),
      backend,
      compatibilityMode,
    };
    const sg = info as (GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number }) | undefined;
    this.subgroupSizes = { min: sg?.subgroupMinSize ?? 0, max: sg?.subgroupMaxSize ?? 0 };
    const { min, max } = this.subgroupSizes;
    this.subgroupWidth = this.features.has('subgroups') && min === max && min >= 4 && (min & (min - 1)) === 0 ? min : 0;
    this.subgroups8 = this.subgroupWidth === 8;
    device.addEventListener('uncapturederror', (ev: Event) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      const kind = err.constructor?.name ?? 'GPUError';
      // Follow-on errors of an earlier one (an invalid pipeline used later) are kept behind it: thrown
      // only when no first cause is pending — a pipeline made invalid by an error already thrown
      // must not let later work fail silently (its dispatches would not run).
      const followOn = /is invalid due to a previous error/.test(err.message);
      // …except those of batches whose failure was already thrown (they arrive after it). Known by
      // the encoder's label ("batch N") in Dawn's message; a follow-on without it (a bind group
      // of an invalid layout, an unlabelled encoder) is kept: a spurious second error rather than
      // a silent failure.
      const batch = /"batch (\d+)"/.exec(err.message);
      if (followOn && batch && Number(batch[1]) <= this.#reportedThrough) return;
      this.#errors.push({ kind, message: err.message, followOn });
    });
    void device.lost.then((info) => {
      if (!this.#destroyed) this.#lost = info;
    });
  }

  /** Acquires an adapter and a device with the adapter's real limits. */
  static async create(gpu: GPU, backend: AdapterSummary['backend'], noAdapterHelp: () => string, opts: ContextOptions = {}): Promise<GpuContext> {
    const adapterOpts: GPURequestAdapterOptions & { featureLevel?: string } = {};
    if (opts.powerPreference) adapterOpts.powerPreference = opts.powerPreference;
    if (opts.featureLevel) adapterOpts.featureLevel = opts.featureLevel;
    let adapter: GPUAdapter | null;
    try {
      adapter = await gpu.requestAdapter(adapterOpts);
      // A platform with only a compatibility-mode adapter (OpenGL ES, Direct3D 11) answers a
      // plain request with null: the engine runs there too, in smaller workgroups.
      if (!adapter && !opts.featureLevel) {
        adapterOpts.featureLevel = 'compatibility';
        adapter = await gpu.requestAdapter(adapterOpts);
      }
    } catch (e) {
      throw new NoAdapterError(`requestAdapter failed: ${(e as Error).message}\n${noAdapterHelp()}`);
    }
    if (!adapter) throw new NoAdapterError(noAdapterHelp());
    const disabled = new Set(opts.disableFeatures ?? []);
    const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter!.features.has(f) && !disabled.has(f));
    // Ask for every limit the adapter supports: the defaults are far lower
    // (e.g. 128 MiB storage bindings) than what real GPUs allow.
    const requiredLimits: Record<string, number> = {};
    const lim = adapter.limits as unknown as Record<string, number>;
    for (const key of opts.limits === 'default' ? [] : LIMIT_KEYS) {
      const v = lim[key];
      if (typeof v === 'number') requiredLimits[key] = v;
    }
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'automix-webgpu' });
    // Asked for compatibility mode, a device without 'core-features-and-limits' is in it (an
    // implementation may hand out a core device instead; one that never asked gets core).
    const compat = adapterOpts.featureLevel === 'compatibility' && !device.features.has('core-features-and-limits' as GPUFeatureName);
    return new GpuContext(adapter, device, backend, compat);
  }

  /** While set, synchronous readbacks are refused (a step being captured for replay). */
  set capturing(on: boolean) {
    this.#capturing = on;
  }

  /** Identifier of the batch currently being recorded. */
  get batchId(): number {
    return this.#batchId;
  }

  get hasPendingWork(): boolean {
    return this.#encoder !== null;
  }

  /** Throws if the device is gone. */
  assertAlive(): void {
    if (this.#lost) {
      const last = this.#lastSubmitted.slice(-5).join(', ') || 'none';
      throw new DeviceLostError(
        `GPU device lost (${this.#lost.reason}): ${this.#lost.message || 'no message'}; last kernels submitted: ${last}`,
        String(this.#lost.reason),
      );
    }
    if (this.#destroyed) throw new DeviceLostError('the engine was destroyed', 'destroyed');
  }

  /** device.createBuffer, counted. */
  createBuffer(desc: GPUBufferDescriptor): GPUBuffer {
    this.counters.buffers++;
    return this.device.createBuffer(desc);
  }

  /** device.createBindGroup, counted. */
  createBindGroup(desc: GPUBindGroupDescriptor): GPUBindGroup {
    this.counters.bindGroups++;
    return this.device.createBindGroup(desc);
  }

  /** queue.writeBuffer, counted. */
  writeBuffer(buf: GPUBuffer, offset: number, data: ArrayBufferLike, dataOffset?: number, size?: number): void {
    this.counters.bufferWrites++;
    this.device.queue.writeBuffer(buf, offset, data as ArrayBuffer, dataOffset, size);
  }

  encoder(): GPUCommandEncoder {
    this.assertAlive();
    if (!this.#encoder) this.#encoder = this.device.createCommandEncoder({ label: `batch ${this.#batchId}` });
    return this.#encoder;
  }

  /** Records a dispatch; grid already folded into the per-dimension limit. */
  dispatch(d: DispatchRecord): void {
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    for (const n of d.workgroups) {
      if (n > maxDim) {
        throw new LimitError(
          `${d.label}: dispatch of ${d.workgroups.join('×')} workgroups exceeds maxComputeWorkgroupsPerDimension (${maxDim})`,
          'maxComputeWorkgroupsPerDimension',
        );
      }
    }
    if (d.workgroups[0] * d.workgroups[1] * d.workgroups[2] === 0) return;
    this.dispatchChecked(d);
  }

  /** Records a dispatch whose grid was checked against the limits when it was first recorded (replay). */
  dispatchChecked(d: DispatchRecord): void {
    const enc = this.encoder();
    let pass: GPUComputePassEncoder;
    if (this.#profiling && this.#querySet) {
      this.#endPass();
      const q = this.#queryLabels.length * 2;
      if (q + 2 > QUERY_CAPACITY) {
        this.flush();
        this.dispatchChecked(d);
        return;
      }
      this.#queryLabels.push(d.label);
      pass = enc.beginComputePass({
        label: d.label,
        timestampWrites: { querySet: this.#querySet, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 },
      });
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      pass.end();
    } else {
      pass = this.#openPass();
      // Consecutive dispatches of one kernel (a replayed step has many) set it once.
      if (this.#passPipeline !== d.pipeline) {
        pass.setPipeline(d.pipeline);
        this.#passPipeline = d.pipeline;
      }
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    this.counters.dispatches++;
    this.#pendingKernels.push(d.label);
  }

  /**
   * Records a run of dispatches whose grids were checked when first recorded
   * (a replayed step): one pass, the pipeline set only when it changes.
   */
  dispatchRun(run: readonly DispatchRecord[], labels: readonly string[]): void {
    if (this.#profiling) {
      for (const d of run) this.dispatchChecked(d);
      return;
    }
    const pass = this.#openPass();
    let last = this.#passPipeline;
    for (let i = 0; i < run.length; i++) {
      const d = run[i]!;
      if (d.pipeline !== last) {
        pass.setPipeline(d.pipeline);
        last = d.pipeline;
      }
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    this.#passPipeline = last;
    this.counters.dispatches += run.length;
    for (const l of labels) this.#pendingKernels.push(l);
  }

  /** The batch's open compute pass (begun, with no pipeline set, when there is none). */
  #openPass(): GPUComputePassEncoder {
    if (!this.#pass) {
      this.#pass = this.encoder().beginComputePass({ label: `batch ${this.#batchId}` });
      this.#passPipeline = null;
    }
    return this.#pass;
  }

  /** Records a buffer-to-buffer copy into the current batch. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    const enc = this.encoder();
    this.#endPass();
    enc.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Records a fill with zeros into the current batch. */
  clear(buf: GPUBuffer, offset = 0, bytes?: number): void {
    const enc = this.encoder();
    this.#endPass();
    enc.clearBuffer(buf, offset, bytes);
  }

  /** Runs `fn` before every submit (e.g. to write the batch's uniforms). */
  onBeforeSubmit(fn: () => void): void {
    this.#beforeSubmit.push(fn);
  }

  /** True when the next profiled dispatch would not fit this batch's query set. */
  get queriesFull(): boolean {
    return this.#profiling && (this.#queryLabels.length + 1) * 2 > QUERY_CAPACITY;
  }

  /** Runs `fn` once the current batch has been submitted (e.g. to recycle uniforms). */
  afterSubmit(fn: () => void): void {
    this.#afterSubmit.push(fn);
  }

  #endPass(): void {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
  }

  /**
   * Submits everything recorded so far, then rethrows a GPU error reported before it. Cheap when
   * nothing is pending. (Submitted first, so that follow-on errors of the failed work — an invalid
   * pipeline in this batch — count as reported with it, not as new ones later.)
   */
  flush(): void {
    this.assertAlive();
    const failed = this.#errors.length > 0;
    const blame = this.#lastSubmitted;
    if (this.#encoder) {
      this.#endPass();
      const enc = this.#encoder;
      let resolveBuf: GPUBuffer | null = null;
      let labels: string[] = [];
      if (this.#querySet && this.#queryLabels.length > 0) {
        const count = this.#queryLabels.length * 2;
        resolveBuf = this.createBuffer({
          size: count * 8,
          usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
        });
        enc.resolveQuerySet(this.#querySet, 0, count, resolveBuf, 0);
        labels = this.#queryLabels;
        this.#queryLabels = [];
      }
      let readBuf: GPUBuffer | null = null;
      if (resolveBuf) {
        readBuf = this.createBuffer({ size: resolveBuf.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        enc.copyBufferToBuffer(resolveBuf, 0, readBuf, 0, resolveBuf.size);
      }
      for (const fn of this.#beforeSubmit) fn();
      this.device.queue.submit([enc.finish()]);
      this.counters.submits++;
      this.#encoder = null;
      this.#lastSubmitted = this.#pendingKernels;
      this.#pendingKernels = [];
      this.#batchId++;
      if (readBuf && resolveBuf) this.#pendingResolves.push(this.#collectTimings(readBuf, resolveBuf, labels));
    }
    const cbs = this.#afterSubmit;
    this.#afterSubmit = [];
    for (const cb of cbs) cb();
    if (failed) this.throwPendingErrors(blame);
  }

  async #collectTimings(readBuf: GPUBuffer, resolveBuf: GPUBuffer, labels: string[]): Promise<void> {
    await readBuf.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(readBuf.getMappedRange().slice(0));
    readBuf.unmap();
    readBuf.destroy();
    resolveBuf.destroy();
    for (let i = 0; i < labels.length; i++) {
      const dt = Number(t[2 * i + 1]! - t[2 * i]!) / 1e6;
      // Some drivers report a zero or wrapped pair for tiny passes: drop those.
      if (dt >= 0 && Number.isFinite(dt)) this.#timings.push({ kernel: labels[i]!, ms: dt });
    }
  }

  /** Starts timing each dispatch with timestamp queries; false when the adapter lacks them. */
  startProfiling(): boolean {
    if (!this.features.has('timestamp-query')) return false;
    this.flush();
    if (!this.#querySet) this.#querySet = this.device.createQuerySet({ type: 'timestamp', count: QUERY_CAPACITY });
    this.#profiling = true;
    this.#timings = [];
    return true;
  }

  /** Stops profiling and returns the GPU time of every dispatch since `startProfiling`. */
  async stopProfiling(): Promise<KernelTiming[]> {
    this.flush();
    this.#profiling = false;
    await Promise.all(this.#pendingResolves);
    this.#pendingResolves = [];
    const t = this.#timings;
    this.#timings = [];
    return t;
  }

  /**
   * Waits until the GPU has finished all submitted work; rethrows errors. On
   * a CPU adapter without keeping a promise pending (`settle`, probing:
   * src/device/map-probe.ts), on GPUs with `onSubmittedWorkDone`.
   */
  async sync(): Promise<void> {
    if (this.info.isFallbackAdapter) return this.settle(CPU_WAIT);
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.assertAlive();
    this.throwPendingErrors();
  }

  /**
   * Waits until the GPU has finished all submitted work without keeping a
   * promise pending while it runs (src/device/map-probe.ts: sleep, then
   * probe): reads issued afterwards find their data ready and do not spin
   * Dawn's Node binding. `plan` paces the probes (src/train/wait-estimate.ts);
   * an all-zero plan maps at once, as `sync()`.
   */
  async settle(plan: WaitPlan): Promise<void> {
    this.#settleBufs ??= {
      src: this.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC, label: 'settle source' }),
      staging: this.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'settle' }),
    };
    const { src, staging } = this.#settleBufs;
    this.copy(src, 0, staging, 0, 16);
    this.flush();
    try {
      await mapWhenDone(staging, plan);
    } catch (e) {
      return this.mapFailed(e);
    }
    staging.unmap();
    this.assertAlive();
    this.throwPendingErrors();
  }

  /**
   * Throws for a failed map of one of this device's buffers. A failed map
   * usually means the device went away: gives its `lost` promise a moment to
   * settle so the error says so (DeviceLostError), or rethrows a reported GPU
   * error, or `e` itself.
   */
  async mapFailed(e: unknown): Promise<never> {
    await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 200))]);
    this.assertAlive();
    this.throwPendingErrors();
    throw e;
  }

  /** Copies `bytes` of `src` back to the host. Submits pending work first. */
  async read(src: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    if (this.#capturing)
      throw new CaptureError(`a readback of ${bytes} bytes inside a captured step: a recorded step cannot wait for the GPU (read its outputs after it)`);
    this.counters.syncReadbacks++;
    const staging = this.createBuffer({
      size: Math.max(4, Math.ceil(bytes / 4) * 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: 'readback',
    });
    this.copy(src, offset, staging, 0, Math.ceil(bytes / 4) * 4);
    this.flush();
    try {
      await mapWhenDone(staging, this.info.isFallbackAdapter ? CPU_WAIT : MAP_AT_ONCE);
    } catch (e) {
      staging.destroy();
      return this.mapFailed(e);
    }
    const out = staging.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, bytes);
    staging.unmap();
    staging.destroy();
    this.throwPendingErrors();
    return out;
  }

  /** Test hook: queue an error as if Dawn had reported it (robustness tests). */
  _injectError(kind: string, message: string): void {
    this.#errors.push({ kind, message });
  }

  /**
   * Rethrows the first GPU error reported since the last check, naming its kernel (from the
   * message, else the last of `blame`: the kernels submitted last before it was seen).
   */
  throwPendingErrors(blame: readonly string[] = this.#lastSubmitted): void {
    if (this.#errors.length === 0) return;
    const errs = this.#errors;
    this.#errors = [];
    this.#reportedThrough = this.#batchId - 1;
    const first = errs.find((e) => !e.followOn) ?? errs[0]!;
    const kernel = /"([\w.-]+:[\w.-]+)"/.exec(first.message)?.[1] ?? blame.at(-1) ?? 'unknown';
    const more = errs.length > 1 ? ` (and ${errs.length - 1} more GPU errors)` : '';
    if (/out.?of.?memory/i.test(first.kind + first.message)) {
      throw new OutOfMemoryError(`GPU out of memory near kernel ${kernel}: ${first.message}${more}`);
    }
    throw new KernelError(`GPU ${first.kind} in kernel ${kernel}: ${first.message}${more}`, kernel);
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#querySet?.destroy();
    this.#settleBufs?.src.destroy();
    this.#settleBufs?.staging.destroy();
    this.device.destroy();
  }
}

/** Limits requested at their adapter maximum. */
const LIMIT_KEYS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'maxBindingsPerBindGroup',
] as const;
