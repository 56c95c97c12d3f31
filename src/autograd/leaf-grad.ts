/**
 * Parameter gradients accumulated in place by the kernels that produce them.
 *
 * The autograd (backward.ts) adds a leaf's gradient into its `.grad` — for a
 * model's parameters a view into the gradient arena, zeroed once per step —
 * with a separate `acc_add` dispatch (`accumulateInto`). A backward rule can
 * save that dispatch: when the input is a leaf that already has a `.grad`, the
 * kernel that computes the gradient adds its final value into `.grad` in its
 * last write (`grad = grad + g`, the same f32 add acc_add does with alpha 1,
 * so the bits are those of the separate add), and the rule returns null for
 * that input, so the autograd does nothing more. Otherwise the kernel writes
 * a new tensor, returned as before.
 *
 * Only a value written once, by the pass that finishes it, is accumulated: a
 * split reduction accumulates in its last pass, never in its partials. Rules
 * use it only in the fused kernel forms (`kernelForms(engine).fused`); the
 * unfused forms keep the separate acc_add, which is what the tests compare
 * against bit for bit. Used by batch norm (weight, bias), matmul (A, B and
 * the bias), the sum reductions that finish a bias or a shared operand's
 * gradient, layer norm (weight, bias), the patch embedding (weight, bias) and
 * conv2d (weight: the one dispatch of the grad-weight path that writes dW,
 * on every path; bias: `conv2d_bwd_bias`).
 *
 * The same target serves a tensor computed by an op while a backward pass
 * runs: the sum so far of its gradient (pending.ts), which matmul's and layer
 * norm's input gradients then add into.
 */
import type { Tensor } from '../tensor/tensor.js';
import { pendingTarget } from './pending.js';

/** 0 not wanted, 1 written to a new tensor, 2 added in place (gradTarget). */
export type GradMode = 0 | 1 | 2;

/**
 * How a parameter's gradient leaves the kernel: 0 not wanted, 1 written to a
 * new tensor (returned to the autograd), 2 added in place to the `.grad` of a
 * leaf that has one — what the autograd would do next (accumulateInto), with
 * the same f32 add. `inPlace` false (the unfused kernel forms) caps it at 1.
 */
export function gradMode(t: Tensor | null | undefined, inPlace = true): GradMode {
  if (!t?.requiresGrad || t.disposed) return 0;
  return gradTarget(t, inPlace) ? 2 : 1;
}

/**
 * The tensor to add `t`'s gradient into (gradMode 2), else null: a leaf's `.grad`, or, for a
 * tensor computed by an op, the sum of its gradient so far in the running backward pass
 * (pending.ts) — what the autograd would add it to next.
 */
export function gradTarget(t: Tensor | null | undefined, inPlace = true): Tensor | null {
  if (!inPlace || !t?.requiresGrad || t.disposed) return null;
  if (t.node) return pendingTarget(t);
  return t.grad && !t.grad.disposed && t.grad.size === t.size ? t.grad : null;
}
