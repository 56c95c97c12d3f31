/**
 * TF.js on the same adapter, for `--vs tfjs`.
 *
 * @tensorflow/tfjs-backend-webgpu registers its backend at import time if
 * `navigator.gpu` exists; on Node we give it the same Dawn `GPU` object our
 * engine uses (src/device/gpu-node.ts: the 'webgpu' package's create([])),
 * then select the backend and check that it really is 'webgpu' on the same
 * adapter. Small tensors are kept on the GPU too (WEBGPU_CPU_FORWARD off), so
 * every case runs TF.js's WGSL kernels, never its CPU fallback.
 *
 * Timing ('timestamp-query'): tf.time(f).kernelMs — TF.js wraps each of its
 * programs in a compute pass with timestamp writes and sums them, the same
 * measurement as ours. 'wall-clock': performance.now() around the call, the
 * backend's submitQueue() and a wait for TF.js's queue to drain, as our
 * engine.sync(): on a CPU adapter both wait without a pending map
 * (`settleTf`, src/device/map-probe.ts), so neither side's host spins on a
 * core the adapter's workers need.
 */
import { nodeGpu } from '../src/device/gpu-node.js';
import { CPU_WAIT, mapWhenDone } from '../src/device/map-probe.js';
import type { AdapterSummary } from '../src/index.js';
import type { TimingMethod } from './timing.js';

export type TF = typeof import('@tensorflow/tfjs');
export type TfTensor = import('@tensorflow/tfjs').Tensor;

export interface TfHarness {
  tf: TF;
  method: TimingMethod;
  version: string;
  adapter: string;
  /** Times one call of `fn` (its outputs are disposed). */
  time(fn: () => TfTensor | TfTensor[]): Promise<number>;
  /** Runs `fn` once, timed like `time`, and reads its outputs back. */
  timeAndValues(fn: () => TfTensor | TfTensor[]): Promise<{ ms: number; values: Float32Array[] }>;
}

const settleBufs = new WeakMap<GPUDevice, { src: GPUBuffer; staging: GPUBuffer }>();

/**
 * Submits TF.js's queued work and waits until its device has finished it:
 * on a CPU adapter (`cpu`) by probing, as our engine.sync() does there;
 * otherwise with onSubmittedWorkDone.
 */
export async function settleTf(tf: TF, cpu: boolean): Promise<void> {
  const be = tf.backend() as unknown as WebGpuBackendLike;
  be.submitQueue();
  if (!cpu) {
    await be.device.queue.onSubmittedWorkDone();
    return;
  }
  const d = be.device;
  let b = settleBufs.get(d);
  if (!b) {
    b = {
      src: d.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC }),
      staging: d.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    };
    settleBufs.set(d, b);
  }
  const enc = d.createCommandEncoder();
  enc.copyBufferToBuffer(b.src, 0, b.staging, 0, 16);
  d.queue.submit([enc.finish()]);
  await mapWhenDone(b.staging, CPU_WAIT);
  b.staging.unmap();
}

interface WebGpuBackendLike {
  device: GPUDevice;
  adapterInfo?: { vendor?: string; architecture?: string };
  supportTimestampQuery?: boolean;
  submitQueue(): void;
}

export async function initTf(ours: AdapterSummary, forceWall: boolean): Promise<TfHarness> {
  const gpu = await nodeGpu();
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  const tf = (await import('@tensorflow/tfjs')) as TF;
  await import('@tensorflow/tfjs-backend-webgpu');
  let ok = false;
  try {
    ok = await tf.setBackend('webgpu');
    await tf.ready();
  } catch (e) {
    throw new Error(`--vs tfjs: TF.js could not start its WebGPU backend: ${(e as Error).message}`);
  }
  if (!ok || tf.getBackend() !== 'webgpu') {
    throw new Error(`--vs tfjs: TF.js backend is '${tf.getBackend()}', not 'webgpu' — refusing to compare against another backend`);
  }
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const be = tf.backend() as unknown as WebGpuBackendLike;
  const info = be.adapterInfo ?? {};
  const devInfo = (be.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const theirs = `${info.vendor ?? devInfo?.vendor ?? '?'} / ${info.architecture ?? devInfo?.architecture ?? '?'}${devInfo?.description ? ` / ${devInfo.description}` : ''}`;
  const mismatch =
    (info.vendor !== undefined && info.vendor !== ours.vendor) ||
    (info.architecture !== undefined && info.architecture !== ours.architecture) ||
    (devInfo?.description && ours.description && devInfo.description !== ours.description);
  if (mismatch) {
    throw new Error(`--vs tfjs: TF.js got adapter '${theirs}', ours is '${ours.vendor} / ${ours.architecture} / ${ours.description}' — not the same adapter`);
  }
  const stamps = !forceWall && be.supportTimestampQuery === true;
  const sync = () => settleTf(tf, ours.isFallbackAdapter);
  const h: TfHarness = {
    tf,
    method: stamps ? 'timestamp-query' : 'wall-clock',
    version: tf.version.tfjs ?? String(tf.version_core),
    adapter: theirs,
    async time(fn) {
      if (stamps) {
        const r = await tf.time(() => {
          tf.tidy(() => {
            fn();
          });
        });
        const k = r.kernelMs as number | { error: string };
        if (typeof k !== 'number') throw new Error(`TF.js tf.time(): ${k.error}`);
        return k;
      }
      await sync();
      const t0 = performance.now();
      const out = tf.tidy(fn);
      await sync();
      const ms = performance.now() - t0;
      tf.dispose(out);
      return ms;
    },
    async timeAndValues(fn) {
      let out: TfTensor | TfTensor[] = [];
      let ms: number;
      if (stamps) {
        const r = await tf.time(() => {
          out = tf.tidy(fn);
        });
        const k = r.kernelMs as number | { error: string };
        if (typeof k !== 'number') throw new Error(`TF.js tf.time(): ${k.error}`);
        ms = k;
      } else {
        await sync();
        const t0 = performance.now();
        out = tf.tidy(fn);
        await sync();
        ms = performance.now() - t0;
      }
      const list = Array.isArray(out) ? out : [out];
      const values: Float32Array[] = [];
      for (const t of list) values.push(Float32Array.from(await t.data()));
      tf.dispose(list);
      return { ms, values };
    },
  };
  return h;
}
