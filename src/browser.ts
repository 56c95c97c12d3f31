/**
 * automix-webgpu in the browser: WebGPU from `navigator.gpu`, WGSL bundled
 * into the JavaScript (src/kernels/sources-browser.ts). Same public API as
 * the Node entry (src/index.ts); selected by the "browser" export condition.
 *
 *   import { createEngine, ops } from 'automix-webgpu';
 *   const engine = await createEngine(); // throws NoAdapterError with the reason when WebGPU is unavailable
 */
import { browserGpu, browserNoAdapterHelp } from './device/gpu-browser.js';
import { createEngineWith, type Engine, type EngineOptions } from './engine.js';
import { browserKernelSources } from './kernels/sources-browser.js';
import { indexedDbTuneStore } from './tune/store-indexeddb.js';

export * from './api.js';

/** Acquires a WebGPU adapter and device from the browser and returns a ready engine. */
export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  // Tuned kernel choices persist in IndexedDB, read once here (src/tune/store-indexeddb.ts);
  // `tuneStore: memoryTuneStore()` keeps them for the page's life only.
  const [gpu, tuneStore] = await Promise.all([opts.gpu ?? browserGpu(), opts.tuneStore ?? indexedDbTuneStore()]);
  return createEngineWith(gpu, 'browser', browserKernelSources, browserNoAdapterHelp, { ...opts, tuneStore });
}

export { indexedDbTuneStore, clearTuneCache, type IndexedDbTuneStore } from './tune/index.js';
