/**
 * GELU (erf form, PyTorch's default) and sigmoid (kernels/activation.wgsl),
 * with their backward rules. GELU saves its input, sigmoid its output.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import type { NoAttrs } from '../autograd/payloads.js';
import type { Tensor } from '../tensor/tensor.js';
import { assertF32, groups } from './launch.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    gelu: { attrs: NoAttrs; saved: [x: Tensor] };
    sigmoid: { attrs: NoAttrs; saved: [y: Tensor] };
  }
}

function unary(entry: string, a: Tensor, b: Tensor | null): Tensor {
  const e = a.engine;
  const out = e.empty(a.shape);
  if (out.size) e.run('activation', entry, { bind: b ? { a, b, out } : { a, out }, params: { n: a.size }, workgroups: groups(a.size) });
  return out;
}

/** x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export function gelu(x: Tensor): Tensor {
  assertF32('gelu', x);
  return record(unary('gelu_fwd', x, null), 'gelu', [x], [x], {});
}

export function geluBackward(node: GraphNode<'gelu'>, g: Tensor): (Tensor | null)[] {
  return [unary('gelu_bwd', node.saved[0], g)];
}

/** 1 / (1 + exp(−x)). */
export function sigmoid(x: Tensor): Tensor {
  assertF32('sigmoid', x);
  const y = unary('sigmoid_fwd', x, null);
  return record(y, 'sigmoid', [x], [y], {});
}

export function sigmoidBackward(node: GraphNode<'sigmoid'>, g: Tensor): (Tensor | null)[] {
  return [unary('sigmoid_bwd', node.saved[0], g)];
}
