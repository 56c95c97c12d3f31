/** How an op joins the autograd graph. */
import type { Tensor } from '../tensor/tensor.js';
import { GraphNode } from './graph.js';
import type { OpAttrs, OpInputs, OpName, OpSaved } from './payloads.js';

/**
 * Records `op` as the producer of `out` if gradients are enabled and any
 * input requires them. `saved` are the tensors the backward rule will read
 * and `attrs` its non-tensor attributes; both are typed by the op's name
 * (`OpPayloads` in payloads.ts), so they must match what the rule reads.
 */
export function record<K extends OpName>(out: Tensor, op: K, inputs: NoInfer<OpInputs<K>>, saved: NoInfer<OpSaved<K>>, attrs: NoInfer<OpAttrs<K>>): Tensor {
  if (!out.engine.gradEnabled) return out;
  if (!inputs.some((t) => t?.requiresGrad)) return out;
  out.requiresGrad = true;
  out.node = new GraphNode<K>(op, inputs, saved, attrs, out.shape);
  return out;
}
