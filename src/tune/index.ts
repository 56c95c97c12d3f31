/** The autotuner (see tuner.ts); no Node or browser APIs. */
export { Tuner, tunerOf, tuneStats, adapterKey, type TunerOptions } from './tuner.js';
export { memoryTuneStore } from './store-memory.js';
export * from './types.js';
