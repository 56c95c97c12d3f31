/**
 * automix-webgpu on Node: WebGPU through Dawn, WGSL read from disk.
 *
 *   import { createEngine, ops } from 'automix-webgpu';
 *   const engine = await createEngine();
 */
import { nodeGpu, noAdapterHelp } from './device/gpu-node.js';
import { createEngineWith, type Engine, type EngineOptions } from './engine.js';
import { nodeKernelSources } from './kernels/sources-node.js';
import { envTuneMode, fileTuneStore } from './tune/store-node.js';

export * from './api.js';

/** Acquires a WebGPU adapter and device and returns a ready engine. */
export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  const gpu = opts.gpu ?? (await nodeGpu());
  // Kernel tuning: the mode from opts, else AUTOMIX_TUNE, else 'cached'; the cache in a file
  // under the user's cache directory (src/tune/store-node.ts).
  const tune = opts.tune ?? envTuneMode();
  return createEngineWith(gpu, 'node-dawn', nodeKernelSources, noAdapterHelp, { tuneStore: fileTuneStore(), ...opts, ...(tune ? { tune } : {}) });
}

// Node-only parts: dataset files on disk and the training loop with checkpoints.
export { loadFashionMnist } from './data/fashion-mnist.js';
export { loadCifar10, loadCifar100 } from './data/cifar.js';
export { train, type TrainResult, type EpochRecord, type TrainHooks } from './train/trainer.js';
export { fileTuneStore, defaultTuneCachePath } from './tune/store-node.js';
