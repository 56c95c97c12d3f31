/**
 * What a bench case is: the row's names, how its inputs are prepared, the
 * timed call, the TF.js equivalent for --vs tfjs and the work it does per
 * call (see index.ts for the list and docs/performance.md for the method).
 */
import type { Engine, Tensor } from '../../src/index.js';
import type { TF, TfTensor } from '../tfjs.js';
import type { TfStepBench } from '../tfjs-steps.js';

export interface CaseContext {
  engine: Engine;
  /** A software adapter (lavapipe, SwiftShader): the slow cases are skipped. */
  software: boolean;
  full: boolean;
}

export interface OursRunner {
  /** Untimed, before each timed call (e.g. the forward pass of a backward case). */
  before?: () => void;
  /** The timed call; returns the tensors the check reads. */
  run: () => Tensor | Tensor[];
  /** Untimed, after each call; default: dispose what `run` returned. */
  after?: (out: Tensor[]) => void;
}

export interface TfSide {
  run: () => TfTensor | TfTensor[];
  /** The i-th output converted to our layout (default: as is). */
  toOurs?: (v: Float32Array, i: number) => Float32Array;
  dispose: () => void;
}

export interface Prepared {
  /** Floating-point operations per call (multiply-add = 2). */
  flops?: number;
  /** Minimum bytes moved per call. */
  bytes?: number;
  ours: OursRunner;
  tf?: (tf: TF) => TfSide;
  /** Allowed max |Δ| as a fraction of max |TF.js value| (plus 1e-6); default 1e-3. */
  tol?: number;
  /** Shown in the table's note column. */
  note?: string;
  dispose: () => void;
}

export interface BenchCase {
  /** The op, as the table's first column and --filter read it: 'conv2d grad-input'. */
  kernel: string;
  /** The shape: '3×3 N=32 64→64 32×32'. */
  name: string;
  bound: 'compute' | 'memory';
  /** A reason to skip on this adapter, or null. */
  skip?: (c: CaseContext) => string | null;
  prepare: (c: CaseContext) => Prepared;
}

/** A whole training step (see index.ts's stepCases). */
export interface StepBench {
  /** One optimisation step (forward, backward, update); may return a promise. */
  step: () => unknown;
  imagesPerStep: number;
  /** The fixed batch (NCHW images, labels), for the TF.js side. */
  inputs?: { xHost: Float32Array; yHost: Int32Array };
  /** The loss of the first step (at initialisation), once it has run. */
  initialLoss?: () => Promise<number>;
  /** Whether the step runs as it will from now on (a TrainingRun: past its warm-up and captures). */
  settled?: () => boolean;
  dispose?: () => void;
}

export interface StepCase {
  name: string;
  /** Given the engine, builds the model, data and optimiser and returns a step closure. */
  make: (engine: Engine) => Promise<StepBench>;
  /** The same step in TF.js for --vs tfjs (bench/tfjs-steps.ts), on our bench's batch. */
  tf?: (tf: TF, ours: StepBench) => TfStepBench;
}
