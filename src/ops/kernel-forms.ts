/**
 * Which of two equivalent forms of a computation an engine's ops launch.
 * Both forms give the same bits; only the number of passes or the width of
 * the loads differs. Tests and benchmarks switch one engine to the other form
 * and compare; nothing else should (a training step must keep one form
 * between its two captures, src/replay/).
 *
 * - `fused`: addRelu, batchNorm2d's merged passes, ReLU/residual epilogues and
 *   in-kernel gradient accumulation; off, each runs the unfused sequence of
 *   kernels and graph nodes it replaces.
 * - `vec4`: the vec4 entries of per-element kernels that also have a scalar
 *   entry for the same arithmetic (batch norm's per-element passes, 2×2
 *   pooling); off, the scalar entries.
 */
import type { Engine } from '../engine.js';

export interface KernelForms {
  fused: boolean;
  vec4: boolean;
}

const DEFAULT_FORMS: Readonly<KernelForms> = { fused: true, vec4: true };
const chosen = new WeakMap<Engine, Readonly<KernelForms>>();

/** The forms `engine` launches (both on unless a test switched one off). */
export function kernelForms(engine: Engine): Readonly<KernelForms> {
  return chosen.get(engine) ?? DEFAULT_FORMS;
}

/**
 * Switches `engine` to `forms` (unset fields keep their current value; null:
 * the defaults again). Returns what was set before, to restore it.
 */
export function setKernelForms(engine: Engine, forms: Partial<KernelForms> | null): Readonly<KernelForms> {
  const prev = kernelForms(engine);
  if (forms === null) chosen.delete(engine);
  else chosen.set(engine, { ...prev, ...forms });
  return prev;
}
