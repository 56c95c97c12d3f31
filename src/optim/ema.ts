/**
 * EMA of a whole model (AutoMix spec §3): θ_k ← m·θ_k + (1−m)·θ_q over the
 * target's flat parameter arena, one dispatch (kernels/optim.wgsl: `ema`).
 * Parameters only: BN running statistics are not ParamSet members.
 */
import { ShapeError } from '../device/errors.js';
import type { ParamSet } from '../nn/params.js';
import { checkHyper, layoutMismatch, runOptim } from './layout.js';

function checkLayouts(op: string, target: ParamSet, source: ParamSet): void {
  if (target.engine !== source.engine) throw new ShapeError(`${op}: the ParamSets belong to different engines`);
  const why = layoutMismatch(target, source);
  if (why) throw new ShapeError(`${op}: target '${target.label}' and source '${source.label}' have different layouts: ${why}`);
}

/** target ← m·target + (1 − m)·source over every parameter (padding stays 0). */
export function emaUpdate(target: ParamSet, source: ParamSet, m: number): void {
  checkHyper('emaUpdate', 'm', m, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  checkLayouts('emaUpdate', target, source);
  if (target === source) return;
  // 1 − m in f64 here: in f32 on the GPU it would lose ~3% at m = 0.999999.
  runOptim(target.engine, 'ema', target.flat.size, { param: target.flat, source: source.flat }, { m, one_minus_m: 1 - m });
}

/** target ← source (e.g. f_k starts as an exact copy of f_q); one buffer copy. */
export function copyParams(target: ParamSet, source: ParamSet): void {
  checkLayouts('copyParams', target, source);
  if (target === source) return;
  target.engine.copyBuffer(source.flat, target.flat);
}
