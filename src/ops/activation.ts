/**
 * GELU (erf form, PyTorch's default) and sigmoid (kernels/activation.wgsl),
 * with their backward rules. GELU saves its input, sigmoid its output. Each
 * runs on vec4 over the first ⌊n/4⌋·4 elements and element by element over
 * the rest, bit-identical either way (one WGSL function serves both).
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import type { NoAttrs } from '../autograd/payloads.js';
import type { Tensor } from '../tensor/tensor.js';
import { assertF32, flat, groups } from './launch.js';
import { flatConstants, memoryBoundShape } from './memory-bound.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    gelu: { attrs: NoAttrs; saved: [x: Tensor] };
    sigmoid: { attrs: NoAttrs; saved: [y: Tensor] };
  }
}

/** entry_v4 over the first ⌊n/4⌋ vec4s, then `entry` over the 1–3 elements left (or all, when n < 4). */
function unary(entry: string, a: Tensor, b: Tensor | null): Tensor {
  const e = a.engine;
  const out = e.empty(a.shape);
  const n = a.size;
  const n4 = Math.floor(n / 4);
  const aligned = [a, b, out].every((t) => !t || t.offset % 4 === 0);
  let done = 0;
  if (n4 > 0 && aligned) {
    const shape = memoryBoundShape(e);
    e.run('activation', `${entry}_v4`, {
      bind: b ? { a4: a, b4: b, out4: out } : { a4: a, out4: out },
      params: { n4 },
      constants: flatConstants(shape),
      workgroups: groups(n4, shape.wg * shape.perThread),
    });
    done = 4 * n4;
  }
  if (done < n) e.run('activation', entry, { bind: b ? { a, b, out } : { a, out }, params: { n, base: done }, ...flat(e, n - done) });
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
