/** How an op joins the autograd graph. */
import type { Tensor } from '../tensor/tensor.js';
import { GraphNode } from './graph.js';
import type { OpName } from './rules.js';

/**
 * Records `op` as the producer of `out` if gradients are enabled and any
 * input requires them. `saved` are the tensors the backward rule will read.
 */
export function record<A extends object>(
  out: Tensor,
  op: OpName,
  inputs: readonly (Tensor | null)[],
  saved: readonly Tensor[] = [],
  attrs: A = {} as A,
): Tensor {
  if (!out.engine.gradEnabled) return out;
  if (!inputs.some((t) => t?.requiresGrad)) return out;
  out.requiresGrad = true;
  out.node = new GraphNode(op, inputs, saved, attrs as unknown as Record<string, unknown>, out.shape) as GraphNode;
  return out;
}
