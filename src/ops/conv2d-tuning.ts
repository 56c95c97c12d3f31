/**
 * conv2d as a family of the autotuner (src/tune/): per pass and shape, which
 * path runs — 'direct', 'im2col', 'splitk' (grad-weight) or an implicit-GEMM
 * tile configuration ('igemm'). Without a measurement (tune mode 'off', or no
 * cached entry) the static rule is `staticConv2dConfig` of src/ops/conv2d-path.ts:
 * the path rule, and on GPUs the implicit GEMM. A
 * candidate is timed as all the dispatches of its path (re-layouts, GEMM,
 * partial sums), built from the same dispatch list the op runs (src/ops/conv2d-steps.ts,
 * src/ops/dispatch-list.ts).
 */
import { memoryBoundShape } from './memory-bound.js';
import type { Engine } from '../engine.js';
import { tunerOf } from '../tune/tuner.js';
import type { ChoiceSource, TuneConfig, TuneFamily, TuneLaunch } from '../tune/types.js';
import type { Conv2dImpl, Conv2dShape } from './conv2d.js';
import { directSteps } from './conv2d-direct.js';
import { describeIgemm, igemmCandidates, igemmFits, igemmSteps } from './conv2d-igemm.js';
import { im2colFits, im2colSteps } from './conv2d-im2col.js';
import { chooseConv2dPath, conv2dAdapterFacts, type Conv2dPass, staticConv2dConfig } from './conv2d-path.js';
import { sgFits, sgSteps } from './conv2d-sg.js';
import { splitKFits, splitKSteps } from './conv2d-split-k.js';
import type { Conv2dSteps } from './conv2d-steps.js';
import { dispatchListLaunch, PLACEHOLDER } from './dispatch-list.js';
import { MATMUL_VARIANT_RTOL } from './matmul.js';

/** One pass of one convolution, as the tuner sees it. */
export interface Conv2dProblem {
  pass: Conv2dPass;
  g: Conv2dShape;
  /** Forward only: a bias is added. */
  bias: boolean;
}

const NAMED_PATHS = ['direct', 'im2col', 'splitk', 'sg'] as const;

function validConfig(engine: Engine, p: Conv2dProblem, cfg: TuneConfig): boolean {
  const named = Object.keys(cfg.constants).length === 0;
  switch (cfg.variant) {
    case 'direct':
      return named;
    case 'im2col':
      return named && im2colFits(p.g, p.pass, engine.limits);
    case 'splitk':
      return named && p.pass === 'grad-weight' && splitKFits(p.g, engine.limits);
    case 'sg':
      return named && conv2dAdapterFacts(engine).subgroup8 && sgFits(p.g, p.pass, engine.limits);
    case 'igemm':
      return igemmFits(p.g, p.pass, cfg.constants, engine.limits);
    default:
      return false;
  }
}

/** The rule used without a measurement (src/ops/conv2d-path.ts: the path rule; the implicit GEMM on GPUs). */
function staticConfig(engine: Engine, p: Conv2dProblem): TuneConfig {
  return staticConv2dConfig(p.g, p.pass, conv2dAdapterFacts(engine));
}

function candidates(engine: Engine, p: Conv2dProblem): TuneConfig[] {
  const cpu = engine.kernelRules === 'cpu';
  const named = NAMED_PATHS.map((variant): TuneConfig => ({ variant, constants: {} }));
  const igemm = igemmCandidates(p.g, p.pass, cpu).map((constants): TuneConfig => ({ variant: 'igemm', constants }));
  // CPU adapters: the existing paths were measured best there; GPUs: the workgroup-memory tiles first.
  return (cpu ? [...named, ...igemm] : [...igemm, ...named]).filter((c) => validConfig(engine, p, c));
}

/** The dispatches a configuration runs for a problem (`splitK`, tests: a chunk count for 'splitk'). */
export function conv2dSteps(engine: Engine, p: Conv2dProblem, cfg: TuneConfig, splitK?: number): Conv2dSteps {
  const maxBinding = engine.limits.maxStorageBufferBindingSize;
  switch (cfg.variant) {
    case 'im2col':
      // Column groups per thread in the row-wise im2col: the adapter's memory-bound shape (4 on CPU adapters, 1 on GPUs).
      return im2colSteps(p.g, p.pass, p.bias, memoryBoundShape(engine).perThread);
    case 'splitk':
      return splitKSteps(p.g, maxBinding, splitK);
    case 'sg':
      return sgSteps(p.g, p.pass, p.bias);
    case 'igemm':
      return igemmSteps(p.g, p.pass, p.bias, cfg.constants, maxBinding, engine.maxWorkgroupSize);
    default:
      return directSteps(p.g, p.pass, p.bias);
  }
}

function launch(engine: Engine, p: Conv2dProblem, cfg: TuneConfig): TuneLaunch {
  return dispatchListLaunch(engine, conv2dSteps(engine, p, cfg).steps, `conv2d: ${describeConv2dConfig(cfg)}`);
}

/** Element counts of a problem's operands and output. */
function operandSizes(g: Conv2dShape, pass: Conv2dPass): Record<string, number> {
  const x = g.N * g.C * g.H * g.W;
  const w = g.O * (g.C / g.groups) * g.KH * g.KW;
  const dy = g.N * g.O * g.Ho * g.Wo;
  if (pass === 'forward') return { x, w, bias: Math.max(1, g.O), out: dy };
  if (pass === 'grad-input') return { dy, w, out: x };
  return { x, dy, out: w };
}

/**
 * Bench buffers: the operands, the output, a placeholder and every temporary
 * any candidate can ask for (each name at its largest; binding limits ignored,
 * so the sizes are upper bounds).
 */
function benchBuffers(p: Conv2dProblem) {
  const sizes: Record<string, number> = { ...operandSizes(p.g, p.pass), [PLACEHOLDER]: 64 };
  const all: Conv2dSteps[] = [directSteps(p.g, p.pass, p.bias)];
  if (p.g.groups === 1) all.push(im2colSteps(p.g, p.pass, p.bias));
  if (sgFits(p.g, p.pass, { maxStorageBufferBindingSize: Infinity, maxComputeWorkgroupsPerDimension: Infinity })) all.push(sgSteps(p.g, p.pass, p.bias));
  if (p.pass === 'grad-weight') {
    all.push(splitKSteps(p.g, Infinity));
    for (const cpu of [false, true]) for (const c of igemmCandidates(p.g, p.pass, cpu)) all.push(igemmSteps(p.g, p.pass, p.bias, c, Infinity, 256));
  }
  for (const s of all) for (const [name, n] of Object.entries(s.temps)) sizes[name] = Math.max(sizes[name] ?? 0, n ?? 0);
  const inputs = Object.keys(operandSizes(p.g, p.pass)).filter((n) => n !== 'out');
  return { sizes, inputs, output: 'out', params: {} };
}

/** Products summed per output element: the GEMM's k. */
function reductionLength(p: Conv2dProblem): number {
  const { g } = p;
  if (p.pass === 'forward') return (g.C / g.groups) * g.KH * g.KW;
  if (p.pass === 'grad-input') return (g.O / g.groups) * g.KH * g.KW;
  return g.N * g.Ho * g.Wo;
}

/** A config's short name: 'direct', 'im2col', 'splitk', 'igemm 64×64×16 8×8'. */
export function describeConv2dConfig(cfg: TuneConfig): string {
  return cfg.variant === 'igemm' ? describeIgemm(cfg.constants) : cfg.variant;
}

/** The conv2d family for the autotuner; the key is the pass, the shapes and every option. */
export const CONV2D_TUNING: TuneFamily<Conv2dProblem> = {
  name: 'conv2d',
  // 2: the implicit GEMM's grad-input (unit stride) and grad-weight loaders divide by constants, so
  // times measured on version 1 no longer rank its configurations; and candidates are checked
  // against the direct convolution (the reference), not the static rule (2026-12-06).
  version: 2,
  key: ({ pass, g, bias }) =>
    `${pass} x${g.N}x${g.C}x${g.H}x${g.W} w${g.O}x${g.C / g.groups}x${g.KH}x${g.KW} s${g.sh},${g.sw} p${g.ph},${g.pw} d${g.dh},${g.dw} g${g.groups}${bias ? ' bias' : ''}`,
  staticConfig,
  candidates,
  // The direct convolution (a thread per output element, no workgroup tiles): what every tuned conv is checked against.
  reference: () => ({ variant: 'direct', constants: {} }),
  valid: validConfig,
  launch,
  benchBuffers,
  // Two paths sum the same products in different orders (and split-K in chunks), as two matmul variants do.
  tolerance: (p) => MATMUL_VARIANT_RTOL * Math.sqrt(reductionLength(p)),
  describe: describeConv2dConfig,
};

/**
 * The configuration a pass runs: an explicit request (`impl`: a config, or a
 * path — 'igemm' meaning its first candidate here), else the tuner's choice
 * (the static rule when nothing is measured). A request that cannot run this
 * problem falls back as the path rule says (im2col and split-K to direct; a
 * config or 'igemm' to the tuner's choice).
 */
export function conv2dChoice(engine: Engine, p: Conv2dProblem, impl: Conv2dImpl = {}): { config: TuneConfig; source: ChoiceSource } {
  if (impl.config && validConfig(engine, p, impl.config)) return { config: impl.config, source: 'forced' };
  const want = impl.path ?? 'auto';
  if (want === 'igemm') {
    const first = candidates(engine, p).find((c) => c.variant === 'igemm');
    if (first) return { config: first, source: 'forced' };
  } else if (want !== 'auto') {
    return { config: { variant: chooseConv2dPath(p.g, p.pass, conv2dAdapterFacts(engine), want), constants: {} }, source: 'forced' };
  }
  return tunerOf(engine).choose(CONV2D_TUNING, p);
}
