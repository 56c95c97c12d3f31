/**
 * EMA of a whole model (docs/method.md §3): θ_k ← m·θ_k + (1−m)·θ_q over the
 * target's flat parameter arena, one dispatch (kernels/optim.wgsl: `ema`).
 * Parameters only: BN running statistics are not ParamSet members.
 *
 * The kernel reads m and 1 − m from a small storage buffer, not from its
 * uniform, so that a recorded step can be replayed with a new m: give
 * `emaUpdate` a persistent 2-element tensor holding `emaCoefficients(m)`,
 * rewritten each step, instead of a number. The optional gate [apply, …]
 * (a 2-element f32 tensor, e.g. written by a GPU-side finiteness check) skips
 * the update when apply = 0.
 */
import { ShapeError } from '../device/errors.js';
import type { ParamSet } from '../nn/params.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkHyper, checkSmall, gateBinding, layoutMismatch, runOptim } from './layout.js';

function checkLayouts(op: string, target: ParamSet, source: ParamSet): void {
  if (target.engine !== source.engine) throw new ShapeError(`${op}: the ParamSets belong to different engines`);
  const why = layoutMismatch(target, source);
  if (why) throw new ShapeError(`${op}: target '${target.label}' and source '${source.label}' have different layouts: ${why}`);
}

/**
 * [m, 1 − m] as the `ema` kernel reads them, 1 − m computed in f64 (in f32 on
 * the GPU it would lose ~3% at m = 0.999999) and both rounded to f32.
 */
export function emaCoefficients(m: number): Float32Array {
  checkHyper('emaUpdate', 'm', m, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  return Float32Array.of(m, 1 - m);
}

/**
 * target ← m·target + (1 − m)·source over every parameter (padding stays 0).
 * `m` is a number, or a 2-element f32 tensor holding `emaCoefficients(m)`
 * (then nothing is written from the host and the dispatch's uniform does not
 * depend on m). `gate` ([apply, …]; default: apply) skips the update when
 * gate[0] = 0.
 */
export function emaUpdate(target: ParamSet, source: ParamSet, m: number | Tensor, gate?: Tensor): void {
  const coef = typeof m === 'number' ? emaCoefficients(m) : null;
  checkLayouts('emaUpdate', target, source);
  const engine = target.engine;
  if (typeof m !== 'number') checkSmall('emaUpdate', 'm', engine, m, 2, '[m, 1 − m]');
  const g = gateBinding('emaUpdate', engine, gate);
  if (target === source) return;
  const bind = { param: target.flat, source: source.flat, gate: g };
  if (coef === null) {
    runOptim(engine, 'ema', target.flat.size, { ...bind, hyper: m as Tensor }, {});
    return;
  }
  // A temporary from the pool, released once the dispatch is recorded: the
  // next call gets the same buffer back, so no allocation per step.
  const hyper = engine.untrack(engine.tensor(coef, [2], { label: 'ema_hyper' }));
  try {
    runOptim(engine, 'ema', target.flat.size, { ...bind, hyper }, {});
  } finally {
    hyper.dispose();
  }
}

/** target ← source (e.g. f_k starts as an exact copy of f_q); one buffer copy. */
export function copyParams(target: ParamSet, source: ParamSet): void {
  checkLayouts('copyParams', target, source);
  if (target === source) return;
  target.engine.copyBuffer(source.flat, target.flat);
}
