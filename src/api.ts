/** The public API shared by the Node and browser entry points. */
export { Engine, type EngineOptions, type KernelRules, type MemoryReport, type RunSpec } from './engine.js';
export { Tensor, type DType } from './tensor/tensor.js';
export { createArena, type Arena } from './tensor/arena.js';
export type { AdapterSummary, KernelTiming } from './device/context.js';
export { summariseProfile, formatProfile, type GpuProfile, type KernelTime } from './device/profile.js';
export * from './device/errors.js';
export { DatasetError } from './data/errors.js';
export { CheckpointError } from './io/errors.js';
export { NonFiniteLossError } from './train/errors.js';
export { TrainingRun, type TrainingRunOptions, type StepResult, type DataShape, type VariantInfo } from './train/run.js';
export { counterDelta, type GpuCounters } from './device/counters.js';
export { ReplayPlan, type PlanStats } from './replay/plan.js';
export { recordingMismatch, type Recording } from './replay/recording.js';
export * as ops from './ops/index.js';
export * as optim from './optim/index.js';
export { ParamSet, type ParamSpec } from './nn/params.js';
export { Builder, BufferSet, init, type Init } from './nn/builder.js';
export { Layer, Conv2d, BatchNorm2d, Linear, LayerNorm } from './nn/layers.js';
export { buildModel, MODELS, Network, type ModelSpec, type Backbone, type ForwardOptions } from './models/index.js';
export { MixBlock } from './nn/mix-block.js';
export {
  automixStep,
  baselineStep,
  vanillaStep,
  automixMethod,
  baselineMethod,
  vanillaMethod,
  type AutoMixState,
  type StepInput,
  type StepOutput,
  type MethodStep,
  type HostBatch,
  type StepDraw,
} from './train/steps.js';
export { evaluate, evaluateHeads } from './train/evaluate.js';
export { defaultConfig, validateConfig, METHODS, DEFAULT_ALPHA, ConfigError, type TrainConfig, type Method } from './train/config.js';
export { Rng } from './util/rng.js';
export { BatchLoader, type Batch } from './data/loader.js';
export { idxToDataset, parseIdx } from './data/idx.js';
export type { ImageDataset } from './data/dataset.js';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors.js';
// Kernel autotuning, shared by both entries (each adds its own store: a file on Node, IndexedDB in browsers).
export {
  tunerOf,
  tuneStats,
  memoryTuneStore,
  kernelSummary,
  formatKernelSummary,
  type KernelSummary,
  type TuneMode,
  type TuneStore,
  type TuneStats,
} from './tune/index.js';
