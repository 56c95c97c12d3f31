/**
 * stepGate (kernels/step_gate.wgsl): the GPU-side decision of a training
 * step — apply the update only when its losses and gradient norm are finite,
 * and the global-norm clipping factor — written into a [2] gate tensor that
 * SGD, AdamW and the EMA read (`update(gate)`). No readback: a replayed step
 * stays safe with its losses read a step late.
 */
import { ShapeError } from '../device/errors.js';
import type { Tensor } from '../tensor/tensor.js';

export interface GateOptions {
  /** values[0 .. terms) are the loss terms that must be finite. */
  terms: number;
  /** Index in `values` of Σ g² (the squared global gradient norm), or -1 without one. */
  normIndex: number;
  /** Clip the gradient norm to this value (0: off). */
  clip: number;
}

/** Writes [apply (1|0), gradient scale] into `gate` from the step's packed scalars. */
export function stepGate(values: Tensor, gate: Tensor, o: GateOptions): void {
  if (gate.size !== 2 || gate.dtype !== 'f32')
    throw new ShapeError(`stepGate: gate must be an f32 tensor of 2 values, got ${gate.dtype} [${gate.shape.join(', ')}]`);
  if (o.terms > values.size || o.normIndex >= values.size) {
    throw new ShapeError(`stepGate: ${o.terms} terms and norm index ${o.normIndex} do not fit ${values.size} values`);
  }
  if (!(o.clip >= 0)) throw new RangeError(`stepGate: clip must be ≥ 0, got ${o.clip}`);
  values.engine.run('step_gate', 'step_gate', {
    bind: { values, gate },
    params: { n_terms: o.terms, has_norm: o.normIndex >= 0 ? 1 : 0, norm_index: Math.max(0, o.normIndex), clip: o.clip },
    workgroups: 1,
  });
}
