/** The public API shared by the Node and browser entry points. */
export { Engine, type EngineOptions, type MemoryReport, type RunSpec } from './engine.js';
export { Tensor, type DType } from './tensor/tensor.js';
export type { AdapterSummary, KernelTiming } from './device/context.js';
export * from './device/errors.js';
export * as ops from './ops/index.js';
