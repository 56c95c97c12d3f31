/** The autotuner (see tuner.ts); no Node APIs, and IndexedDB only when its store is opened. */
export { Tuner, tunerOf, tuneStats, adapterKey, type TunerOptions } from './tuner.js';
export { memoryTuneStore } from './store-memory.js';
export { kernelSummary, formatKernelSummary, type KernelSummary } from './report.js';
export { clearTuneCache, indexedDbTuneStore, type IndexedDbTuneStore, type IndexedDbTuneStoreOptions } from './store-indexeddb.js';
export * from './types.js';
