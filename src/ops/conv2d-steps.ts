/**
 * A conv2d path as data: the dispatches of one pass over named buffers. Each
 * path file builds these steps from the shape; the op runs them on the engine
 * (`runConv2dSteps`), and the autotuner times the very same steps on its own
 * buffers (`conv2dStepLaunches`) — what is measured is what runs.
 *
 * Buffer names: the operands 'x', 'w', 'bias', 'dy', the pass's output
 * 'out', PLACEHOLDER (a small buffer for a binding the dispatch does not
 * read), and the steps' temporaries (allocated from the pool before the first
 * step and released after the last).
 */
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { tunerOf } from '../tune/tuner.js';
import type { TuneLaunch } from '../tune/types.js';
import { MATMUL_TUNING, type MatmulProblem } from './matmul.js';

/** The name of the buffer bound where a dispatch reads nothing (an absent bias, an unused vec4 view). */
export const PLACEHOLDER = 'placeholder';

/** One `engine.run`: bindings by WGSL name → buffer name. */
export interface Conv2dDispatch {
  kind: 'dispatch';
  family: string;
  entry: string;
  bind: Record<string, string>;
  params: Record<string, number>;
  constants?: Record<string, number>;
  /** A count (folded into x·y past the per-dimension limit, as the engine does) or a grid. */
  workgroups: number | [number, number, number];
}

/** One matmulRaw-equivalent GEMM, c = op(a)·op(b): its kernel is the matmul family's choice. */
export interface Conv2dMatmul {
  kind: 'matmul';
  problem: MatmulProblem;
  a: string;
  b: string;
  c: string;
}

export type Conv2dStep = Conv2dDispatch | Conv2dMatmul;

export interface Conv2dSteps {
  /** Temporaries: name → f32 elements. */
  temps: Record<string, number>;
  steps: Conv2dStep[];
}

/** A matmul problem with no bias, activation or batch of A (what the im2col path runs). */
export function gemm(M: number, N: number, K: number, o: { batch?: number; bBatched?: boolean; transA?: boolean; transB?: boolean } = {}): MatmulProblem {
  return {
    M,
    N,
    K,
    batch: o.batch ?? 1,
    aBatched: false,
    bBatched: o.bBatched ?? false,
    transA: o.transA ?? false,
    transB: o.transB ?? false,
    bias: false,
    act: 'none',
  };
}

/**
 * Runs the steps on the engine; `io` holds the operands and 'out' (null for
 * an absent bias: the placeholder is bound). Temporaries are released before
 * it returns.
 */
export function runConv2dSteps(engine: Engine, s: Conv2dSteps, io: Record<string, Tensor | null>): void {
  const temps: Tensor[] = [];
  const buffers: Record<string, Tensor | GPUBuffer> = { [PLACEHOLDER]: engine.placeholder() };
  for (const [name, t] of Object.entries(io)) buffers[name] = t ?? engine.placeholder();
  for (const [name, n] of Object.entries(s.temps)) {
    const t = engine.empty([n], 'f32', `conv2d.${name}`);
    temps.push(t);
    buffers[name] = t;
  }
  const get = (name: string) => {
    const b = buffers[name];
    if (!b) throw new Error(`conv2d: no buffer '${name}' for a step`);
    return b;
  };
  for (const step of s.steps) {
    if (step.kind === 'matmul') {
      // What matmulRaw(a, b) runs: the same tuner choice, kernel and uniforms.
      const { config } = tunerOf(engine).choose(MATMUL_TUNING, step.problem);
      const l = MATMUL_TUNING.launch(engine, step.problem, config);
      engine.run(l.family, l.entry, {
        bind: { a: get(step.a), b: get(step.b), bias: engine.placeholder(), c: get(step.c) },
        params: MATMUL_TUNING.benchBuffers(step.problem).params,
        constants: l.constants,
        workgroups: l.workgroups,
      });
    } else {
      const bind: Record<string, Tensor | GPUBuffer> = {};
      for (const [slot, name] of Object.entries(step.bind)) bind[slot] = get(name);
      engine.run(step.family, step.entry, { bind, params: step.params, constants: step.constants ?? {}, workgroups: step.workgroups });
    }
  }
  for (const t of temps) t.dispose();
}

/** A 1-D workgroup count as the engine launches it: [n, 1, 1], or folded into x·y past the per-dimension limit. */
function foldedGrid(n: number, maxDim: number): [number, number, number] {
  if (n <= maxDim) return [n, 1, 1];
  const y = Math.ceil(n / maxDim);
  return [Math.ceil(n / y), y, 1];
}

/**
 * The steps as the tuner's launches (bench buffers named as above; a matmul
 * step runs the matmul family's cached choice for its shape, else its static
 * one). Throws if a grid exceeds the limits (the tuner then skips the config).
 */
export function conv2dStepLaunches(engine: Engine, s: Conv2dSteps): TuneLaunch[] {
  const maxDim = engine.limits.maxComputeWorkgroupsPerDimension;
  return s.steps.map((step): TuneLaunch => {
    if (step.kind === 'matmul') {
      const cached = tunerOf(engine).cached(MATMUL_TUNING, step.problem)?.config;
      const config = cached && MATMUL_TUNING.valid(engine, step.problem, cached) ? cached : MATMUL_TUNING.staticConfig(engine, step.problem);
      const l = MATMUL_TUNING.launch(engine, step.problem, config);
      return { ...l, bind: { a: step.a, b: step.b, bias: PLACEHOLDER, c: step.c }, params: MATMUL_TUNING.benchBuffers(step.problem).params };
    }
    const grid = typeof step.workgroups === 'number' ? foldedGrid(step.workgroups, maxDim) : step.workgroups;
    if (grid.some((d) => d > maxDim)) {
      throw new Error(`${step.family}:${step.entry}: grid ${grid.join('×')} exceeds maxComputeWorkgroupsPerDimension (${maxDim})`);
    }
    return { family: step.family, entry: step.entry, constants: step.constants ?? {}, workgroups: grid, bind: step.bind, params: step.params };
  });
}
