/**
 * The host cost of a training step: the wall time of `TrainingRun.step()` —
 * the host draw, the input uploads, encoding every dispatch and the submit —
 * timed with the GPU idle (each timed step starts after the previous one has
 * finished), so the GPU's work is not in it and does not compete for the CPU.
 * Beside it, in the same process and on the same adapter, the floor: encoding
 * the same number of dispatches with one cached pipeline and bind group
 * through raw Dawn calls.
 *
 * Dawn's null backend (nothing executes) would be the cleaner instrument, but
 * the `webgpu` package's null device aborts or segfaults (std::system_error,
 * a pthread assertion, SIGSEGV) once the main thread has run JavaScript for
 * ≳ 200 ms without yielding — building a model does — reproduced with raw
 * Dawn calls alone (null device, one writeBuffer, a 200 ms busy loop; webgpu
 * 0.6.x, 2026-12-05). So `--host-backend null` is offered but not the default.
 *
 * `npm run bench -- --host` prints, for each step case, eager vs replayed
 * host ms per step, dispatches per step, µs per dispatch and the ratio to
 * the floor (target ≤ 1.5×). docs/performance.md has the method and results.
 */
import { createEngine, type Engine } from '../src/index.js';
import { nodeGpu } from '../src/device/gpu-node.js';
import { formatProfile, type GpuProfile, type KernelTime, summariseProfile } from '../src/device/profile.js';
import { defaultConfig, type Method, type TrainConfig } from '../src/train/config.js';
import { TrainingRun } from '../src/train/run.js';
import { Rng } from '../src/util/rng.js';

export interface HostCase {
  name: string;
  model: TrainConfig['model'];
  width: number;
  method: Method;
  batch: number;
  image: number;
  channels: number;
}

/** The step cases: the main job's model on Fashion-MNIST shapes, and ViT-tiny. */
export const HOST_CASES: HostCase[] = [
  { name: 'resnet18×0.25 none b100 28px', model: 'resnet18', width: 0.25, method: 'none', batch: 100, image: 28, channels: 1 },
  { name: 'resnet18×0.25 automix b100 28px', model: 'resnet18', width: 0.25, method: 'automix', batch: 100, image: 28, channels: 1 },
  { name: 'resnet18×0.25 mixup b100 28px', model: 'resnet18', width: 0.25, method: 'mixup', batch: 100, image: 28, channels: 1 },
  { name: 'vit-tiny none b32 32px', model: 'vit-tiny', width: 1, method: 'none', batch: 32, image: 32, channels: 3 },
  { name: 'vit-tiny automix b32 32px', model: 'vit-tiny', width: 1, method: 'automix', batch: 32, image: 32, channels: 3 },
];

export interface HostResult {
  case: string;
  mode: 'eager' | 'replay';
  host_ms: number;
  dispatches: number;
  us_per_dispatch: number;
  /** host_ms / (dispatches × the raw floor per dispatch: one cached pipeline and bind group). */
  floor_ratio: number;
  /** Replay only: raw Dawn encode + submit of the step's own dispatches (its pipelines and bind groups), ms. */
  step_floor_ms?: number;
  /** Wall ms per step in the steady state (one step in flight, as the trainer runs). */
  wall_ms?: number;
  /** Sum of the step's kernel times from timestamp queries (absent without them). */
  gpu_ms?: number;
  /** Replayed cases on adapters with timestamp queries: that step's GPU time by kernel. */
  gpu_kernels?: KernelTime[];
  error?: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** An engine on Dawn's null backend (nothing executes; every command is accepted). */
export async function nullEngine(): Promise<Engine> {
  await nodeGpu(); // installs the WebGPU globals
  const mod = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU };
  return createEngine({ gpu: mod.create(['backend=null']) });
}

/** µs per dispatch of raw Dawn: one cached pipeline and bind group, `n` dispatches encoded and submitted. */
export async function rawDispatchFloor(e: Engine, n: number, reps = 7): Promise<number> {
  const device = e.ctx.device;
  const module = device.createShaderModule({
    code: '@group(0) @binding(0) var<storage, read_write> b: array<f32>; @compute @workgroup_size(64) fn main() { b[0] = 1.0; }',
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buf = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE });
  const bg = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    for (let i = 0; i < n; i++) {
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(1);
    }
    pass.end();
    device.queue.submit([enc.finish()]);
    times.push(performance.now() - t0);
    await device.queue.onSubmittedWorkDone();
  }
  buf.destroy();
  return (1000 * median(times)) / n;
}

function hostBatch(c: HostCase, i: number) {
  const rng = new Rng(100 + i);
  const x = Float32Array.from({ length: c.batch * c.channels * c.image * c.image }, () => rng.normal());
  const y = Int32Array.from({ length: c.batch }, () => rng.int(10));
  return { x, y, shape: [c.batch, c.channels, c.image, c.image] as const };
}

/** ms to encode and submit `list` through raw Dawn calls (median of `reps`, the GPU idle before each). */
async function rawListFloor(
  e: Engine,
  list: readonly { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; workgroups: [number, number, number] }[],
  reps = 7,
): Promise<number> {
  const device = e.ctx.device;
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    await device.queue.onSubmittedWorkDone();
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    let last: GPUComputePipeline | null = null;
    for (const d of list) {
      if (d.pipeline !== last) pass.setPipeline((last = d.pipeline));
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    pass.end();
    device.queue.submit([enc.finish()]);
    times.push(performance.now() - t0);
  }
  await device.queue.onSubmittedWorkDone();
  return median(times);
}

/** Host ms per step of one case in one mode (median of `steps` timed steps after warm-up). */
export async function measureHost(
  e: Engine,
  c: HostCase,
  mode: 'eager' | 'replay',
  steps = 5,
): Promise<{ ms: number; dispatches: number; stepFloorMs?: number; wallMs: number; gpu?: GpuProfile }> {
  const cfg = { ...defaultConfig(c.method), model: c.model, width: c.width };
  const run = new TrainingRun(e, cfg, { c: c.channels, h: c.image, w: c.image, numClasses: 10 }, { replay: mode === 'replay' ? 'auto' : 'off' });
  try {
    const batches = [0, 1, 2, 3].map((i) => hostBatch(c, i));
    // Warm-up (and, replaying, the two captures): every timed step is then a replay.
    for (let i = 0; i < 3; i++) {
      run.step(batches[i % 4]!, i);
      await run.results(1);
    }
    await run.results();
    const times: number[] = [];
    const d0 = e.ctx.counters.dispatches;
    for (let i = 0; i < steps; i++) {
      await e.sync(); // the GPU is idle: the timed call is host work alone
      const t0 = performance.now();
      run.step(batches[i % 4]!, 3 + i);
      times.push(performance.now() - t0);
      await run.results();
    }
    const dispatches = (e.ctx.counters.dispatches - d0) / steps;
    // The steady state as the trainer runs it: one step in flight while the next is prepared.
    const tw = performance.now();
    for (let i = 0; i < steps; i++) {
      run.step(batches[i % 4]!, 3 + steps + i);
      await run.results(1);
    }
    await run.results();
    const wallMs = (performance.now() - tw) / steps;
    // GPU time of one step: the sum of its kernels' timestamp-query times.
    let gpu: GpuProfile | undefined;
    if (e.startProfiling()) {
      run.step(batches[0]!, 3 + 2 * steps);
      await run.results();
      gpu = summariseProfile(await e.stopProfiling());
    }
    const plan = run.plans()[0];
    // The same dispatches (without the step's copies, clears, uploads and readback) through raw Dawn.
    const stepFloorMs = plan ? await rawListFloor(e, plan.dispatchList()) : undefined;
    return { ms: median(times), dispatches, wallMs, ...(stepFloorMs !== undefined ? { stepFloorMs } : {}), ...(gpu ? { gpu } : {}) };
  } finally {
    run.dispose();
    // Submit (or drop) what a failed step left pending before its buffers are destroyed.
    await e.sync().catch(() => {});
    e.pool.trim();
  }
}

export async function runHostBench(
  log: (s: string) => void = console.log,
  o: { backend?: 'adapter' | 'null'; cases?: HostCase[]; steps?: number; batch?: number } = {},
): Promise<{ adapter: string; floor_us: number; results: HostResult[] }> {
  const e = o.backend === 'null' ? await nullEngine() : await createEngine();
  // A smaller batch (--quick) leaves the host's work as it is — the same dispatches, smaller uploads — and the GPU's shorter.
  const cases = (o.cases ?? HOST_CASES).map((c) => (o.batch ? { ...c, batch: o.batch, name: c.name.replace(/ b\d+ /, ` b${o.batch} `) } : c));
  const results: HostResult[] = [];
  const floor = await rawDispatchFloor(e, 1000);
  const adapter = `${e.info.vendor} ${e.info.device || e.info.description}`.trim() || 'unknown adapter';
  log(
    `${o.backend === 'null' ? 'null backend' : adapter}; raw Dawn floor: ${floor.toFixed(2)} µs per dispatch (cached pipeline + bind group, 1000 dispatches)`,
  );
  log(
    `${'case'.padEnd(34)} ${'mode'.padEnd(7)} ${'host ms'.padStart(8)} ${'disp.'.padStart(6)} ${'µs/disp'.padStart(8)} ${'× floor'.padStart(8)} ${'raw same-work ms'.padStart(17)} ${'wall ms'.padStart(8)} ${'GPU ms'.padStart(8)}`,
  );
  for (const c of cases) {
    for (const mode of ['eager', 'replay'] as const) {
      try {
        const r = await measureHost(e, c, mode, o.steps);
        const res: HostResult = {
          case: c.name,
          mode,
          host_ms: r.ms,
          dispatches: r.dispatches,
          us_per_dispatch: (1000 * r.ms) / r.dispatches,
          floor_ratio: r.ms / ((r.dispatches * floor) / 1000),
        };
        if (r.stepFloorMs !== undefined) res.step_floor_ms = r.stepFloorMs;
        res.wall_ms = r.wallMs;
        if (r.gpu) res.gpu_ms = r.gpu.gpuMs;
        if (r.gpu && mode === 'replay') res.gpu_kernels = r.gpu.kernels;
        results.push(res);
        log(
          `${c.name.padEnd(34)} ${mode.padEnd(7)} ${r.ms.toFixed(2).padStart(8)} ${r.dispatches.toFixed(0).padStart(6)} ${res.us_per_dispatch.toFixed(2).padStart(8)} ${res.floor_ratio.toFixed(2).padStart(8)} ${(r.stepFloorMs?.toFixed(2) ?? '').padStart(17)} ${r.wallMs.toFixed(1).padStart(8)} ${(r.gpu?.gpuMs.toFixed(1) ?? '').padStart(8)}`,
        );
        if (r.gpu && mode === 'replay') for (const line of formatProfile(r.gpu, 8)) log(`    ${line}`);
      } catch (err) {
        const msg = (err as Error).message.split('\n')[0]!;
        results.push({ case: c.name, mode, host_ms: Number.NaN, dispatches: Number.NaN, us_per_dispatch: Number.NaN, floor_ratio: Number.NaN, error: msg });
        log(`${c.name.padEnd(34)} ${mode.padEnd(7)} error: ${msg}`);
      }
    }
  }
  e.destroy();
  return { adapter, floor_us: floor, results };
}
