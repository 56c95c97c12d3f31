/**
 * automix-webgpu on Node: WebGPU through Dawn, WGSL read from disk.
 *
 *   import { createEngine, ops } from 'automix-webgpu';
 *   const engine = await createEngine();
 */
import { nodeGpu, noAdapterHelp } from './device/gpu-node.js';
import { createEngineWith, type Engine, type EngineOptions } from './engine.js';
import { nodeKernelSources } from './kernels/sources-node.js';

export * from './api.js';

/** Acquires a WebGPU adapter and device and returns a ready engine. */
export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  const gpu = opts.gpu ?? (await nodeGpu());
  return createEngineWith(gpu, 'node-dawn', nodeKernelSources, noAdapterHelp, opts);
}

// Node-only parts: dataset files on disk and the training loop with checkpoints.
export { loadFashionMnist } from './data/fashion-mnist.js';
export { loadCifar10, loadCifar100 } from './data/cifar.js';
export { train, type TrainResult, type EpochRecord, type TrainHooks } from './train/trainer.js';
