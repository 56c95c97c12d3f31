/**
 * A kernel sequence as data: the dispatches of one op call over named
 * buffers. An op whose implementation the autotuner chooses (conv2d's paths,
 * the Mix Block attention's forms) builds its list from the shape and the
 * configuration in its own files; it runs the list on the engine
 * (`runDispatchList`), and its tuning family hands the tuner the same list
 * as launches over the tuner's own buffers (`dispatchListLaunch`) — what is
 * measured is what runs.
 *
 * `B` is the op's union of buffer names; PLACEHOLDER is bound where a
 * dispatch reads nothing (an absent bias, an unused vec4 view).
 */
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { tunerOf } from '../tune/tuner.js';
import type { TuneLaunch } from '../tune/types.js';
import { foldedGrid } from '../util/grid.js';
import { MATMUL_TUNING, type MatmulProblem, runMatmul } from './matmul.js';

/** The name of the buffer bound where a dispatch reads nothing (the engine's placeholder; the tuner's bench buffer of that name). */
export const PLACEHOLDER = 'placeholder';

/** One `engine.run`: the kernel, its uniforms and constants, and the buffer behind each WGSL binding. */
export interface KernelDispatch<B extends string> {
  kind: 'dispatch';
  /** kernels/<family>.wgsl */
  family: string;
  entry: string;
  /** WGSL binding name → buffer name. */
  bind: Record<string, B | typeof PLACEHOLDER>;
  params: Record<string, number>;
  constants?: Record<string, number>;
  /** A count (folded into x·y past the per-dimension limit, as the engine does) or a grid. */
  workgroups: number | [number, number, number];
}

/** One GEMM c = op(a)·op(b), launched as matmulRaw would: its kernel is the matmul family's choice for the problem. */
export interface MatmulDispatch<B extends string> {
  kind: 'matmul';
  problem: MatmulProblem;
  a: B;
  b: B;
  c: B;
  /** c = c + op(a)·op(b): the kernel's ACCUMULATE epilogue, as matmulRaw's `accumulate` (set by `withAccumulatedOutput`, never timed). */
  accumulate?: boolean;
}

export type DispatchStep<B extends string> = KernelDispatch<B> | MatmulDispatch<B>;
export type DispatchList<B extends string> = readonly DispatchStep<B>[];

/** A matmul problem with no bias or activation (`aBatched`, `bBatched`: the operand has one matrix per batch entry). */
export function gemm(
  M: number,
  N: number,
  K: number,
  o: { batch?: number; aBatched?: boolean; bBatched?: boolean; transA?: boolean; transB?: boolean } = {},
): MatmulProblem {
  return {
    M,
    N,
    K,
    batch: o.batch ?? 1,
    aBatched: o.aBatched ?? false,
    bBatched: o.bBatched ?? false,
    transA: o.transA ?? false,
    transB: o.transB ?? false,
    bias: false,
    act: 'none',
  };
}

/** The buffer names a list binds, in the order of first use (PLACEHOLDER aside). */
function boundNames<B extends string>(list: DispatchList<B>): B[] {
  const names = new Set<B>();
  for (const step of list) {
    const bound = step.kind === 'matmul' ? [step.a, step.b, step.c] : Object.values(step.bind);
    for (const name of bound) if (name !== PLACEHOLDER) names.add(name as B);
  }
  return [...names];
}

/**
 * Runs the list on the engine over `buffers` (given, not owned here). Every
 * buffer the list binds that `buffers` lacks is allocated before the first
 * dispatch (`sizes[name]` f32 elements, labelled `<label>.<name>`) and added
 * to `buffers`; those are returned, and the caller owns them.
 */
export function runDispatchList<B extends string>(
  engine: Engine,
  list: DispatchList<B>,
  buffers: Partial<Record<B, Tensor>>,
  sizes: Partial<Record<B, number>>,
  label: string,
): Tensor[] {
  const made: Tensor[] = [];
  for (const name of boundNames(list)) {
    if (buffers[name]) continue;
    const n = sizes[name];
    if (n === undefined) throw new Error(`${label}: no buffer '${name}' and no size to allocate it`);
    const t = engine.empty([n], 'f32', `${label}.${name}`);
    buffers[name] = t;
    made.push(t);
  }
  const get = (name: B | typeof PLACEHOLDER): Tensor | GPUBuffer => (name === PLACEHOLDER ? engine.placeholder() : buffers[name as B]!);
  for (const step of list) {
    if (step.kind === 'matmul') {
      // What matmulRaw(a, b) runs: the same tuner choice, kernels and uniforms.
      const { config } = tunerOf(engine).choose(MATMUL_TUNING, step.problem);
      runMatmul(engine, step.problem, config, { a: get(step.a), b: get(step.b), bias: engine.placeholder(), c: get(step.c) }, !!step.accumulate);
    } else {
      const bind: Record<string, Tensor | GPUBuffer> = {};
      for (const [slot, name] of Object.entries(step.bind)) bind[slot] = get(name);
      engine.run(step.family, step.entry, { bind, params: step.params, constants: step.constants ?? {}, workgroups: step.workgroups });
    }
  }
  return made;
}

/**
 * The list with its output `name` accumulated instead of stored: the one
 * step that binds `name` adds its values to what the buffer holds (`dst =
 * dst + v`, the f32 add of acc_add with alpha 1) — a kernel dispatch through
 * its `ACCUMULATE` override constant (which its WGSL must declare), a GEMM
 * through the matmul epilogue. Throws unless exactly one step binds `name`:
 * only a value written once, by the pass that finishes it, is accumulated
 * (a split reduction's partials go elsewhere; its final pass takes the flag).
 * The tuner times the list without the flag (src/autograd/leaf-grad.ts).
 */
export function withAccumulatedOutput<B extends string>(list: DispatchList<B>, name: B, what: string): DispatchStep<B>[] {
  const binds = (step: DispatchStep<B>) => (step.kind === 'matmul' ? [step.a, step.b, step.c] : Object.values(step.bind)).includes(name);
  const at = list.flatMap((step, i) => (binds(step) ? [i] : []));
  if (at.length !== 1) throw new Error(`${what}: cannot accumulate into '${name}', bound by ${at.length} dispatches (one wanted)`);
  return list.map((step, i) => {
    if (i !== at[0]) return step;
    if (step.kind === 'matmul') {
      if (step.c !== name) throw new Error(`${what}: the GEMM reads '${name}'; only its output can be accumulated`);
      return { ...step, accumulate: true };
    }
    return { ...step, constants: { ...step.constants, ACCUMULATE: 1 } };
  });
}

/** One step as the tuner launches it (bench buffers named as the list names them). */
function stepLaunch<B extends string>(engine: Engine, step: DispatchStep<B>): TuneLaunch {
  if (step.kind === 'matmul') {
    // The matmul family's cached choice for the shape, else its static one: reading the
    // cache schedules no tuning from inside a measurement.
    // (A split-K choice needs a buffer for its parts that the list's bench buffers lack: the static one then.)
    const cached = tunerOf(engine).cached(MATMUL_TUNING, step.problem)?.config;
    const usable = cached && cached.variant !== 'splitk' && MATMUL_TUNING.valid(engine, step.problem, cached);
    const config = usable ? cached : MATMUL_TUNING.staticConfig(engine, step.problem);
    const l = MATMUL_TUNING.launch(engine, step.problem, config);
    return { ...l, bind: { a: step.a, b: step.b, bias: PLACEHOLDER, c: step.c }, params: MATMUL_TUNING.benchBuffers(step.problem).params };
  }
  const maxDim = engine.limits.maxComputeWorkgroupsPerDimension;
  const grid = typeof step.workgroups === 'number' ? foldedGrid(step.workgroups, maxDim) : step.workgroups;
  if (grid.some((d) => d > maxDim)) {
    throw new Error(`${step.family}:${step.entry}: grid ${grid.join('×')} exceeds maxComputeWorkgroupsPerDimension (${maxDim})`);
  }
  return { family: step.family, entry: step.entry, constants: step.constants ?? {}, workgroups: grid, bind: step.bind, params: step.params };
}

/**
 * The list as the tuner's launch: its first dispatch, the others chained in
 * `next` (timed together). Throws if the list is empty or a grid exceeds the
 * limits (the tuner then skips the configuration).
 */
export function dispatchListLaunch<B extends string>(engine: Engine, list: DispatchList<B>, what: string): TuneLaunch {
  const [first, ...next] = list.map((step) => stepLaunch(engine, step));
  if (!first) throw new Error(`${what} has no dispatch for this problem`);
  return { ...first, next };
}
