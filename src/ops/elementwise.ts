/**
 * Elementwise ops: add, sub, mul with NumPy broadcasting, scale, relu, and
 * addRelu = relu(a + b) fused. Each forward is followed by its backward rule.
 * Same-shape kernels run on vec4 (kernels/elementwise_vec4.wgsl) with a
 * scalar tail (kernels/elementwise.wgsl), bit-identical to the scalar
 * kernels; broadcasting goes through ./broadcast.ts.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { gradTarget } from '../autograd/leaf-grad.js';
import type { NoAttrs } from '../autograd/payloads.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Engine } from '../engine.js';
import { assertF32, broadcastShapes, flat, groups, sameEngine, sameShape } from './launch.js';
import { launchBroadcast } from './broadcast.js';
import { kernelForms } from './kernel-forms.js';
import { flatConstants, memoryBoundShape } from './memory-bound.js';
import { sumToShape, sumToShapeInto } from './reduce.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape } from '../tensor/tensor.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    /** alpha·a + beta·b */
    add: { attrs: { alpha: number; beta: number }; saved: []; inputs: [a: Tensor, b: Tensor] };
    mul: { attrs: NoAttrs; saved: [a: Tensor, b: Tensor]; inputs: [a: Tensor, b: Tensor] };
    /** alpha·a + beta (beta has no gradient) */
    affine: { attrs: { alpha: number }; saved: [] };
    relu: { attrs: NoAttrs; saved: [y: Tensor] };
    addRelu: { attrs: NoAttrs; saved: [y: Tensor]; inputs: [a: Tensor, b: Tensor] };
  }
}

/**
 * Runs the same-shape entry `entry` over n elements of the tensors in `bind`:
 * elementwise_vec4.wgsl over the first ⌊n/4⌋ vec4s when every tensor starts
 * on a vec4 boundary (always, for tensors that can be bound), then
 * elementwise.wgsl's scalar entry over what is left (n mod 4 elements, or all
 * n). Both compute the same arithmetic, so the split never shows in results.
 */
export function launchFlat(engine: Engine, entry: string, bind: Record<string, Tensor>, n: number, params: { alpha?: number; beta?: number } = {}): void {
  if (n === 0) return;
  const n4 = Math.floor(n / 4);
  const aligned = Object.values(bind).every((t) => t.offset % 4 === 0);
  let done = 0;
  if (n4 > 0 && aligned) {
    const shape = memoryBoundShape(engine);
    engine.run('elementwise_vec4', entry, {
      bind,
      params: { n4, ...params },
      constants: flatConstants(shape),
      workgroups: groups(n4, shape.wg * shape.perThread),
    });
    done = 4 * n4;
  }
  if (done < n) engine.run('elementwise', entry, { bind, params: { n, base: done, ...params }, ...flat(engine, n - done) });
}

function binary(op: 'add' | 'mul', a: Tensor, b: Tensor, alpha = 1, beta = 1): Tensor {
  assertF32(op, a, b);
  const engine = sameEngine(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = engine.empty(shape);
  if (sameShape(a.shape, shape) && sameShape(b.shape, shape)) launchFlat(engine, `${op}_same`, { a, b, out }, out.size, { alpha, beta });
  else launchBroadcast(engine, op, a, b, out, alpha, beta);
  return out;
}

/** a + b, broadcasting. */
export function add(a: Tensor, b: Tensor): Tensor {
  return record(binary('add', a, b), 'add', [a, b], [], { alpha: 1, beta: 1 });
}

/** a − b, broadcasting. */
export function sub(a: Tensor, b: Tensor): Tensor {
  return record(binary('add', a, b, 1, -1), 'add', [a, b], [], { alpha: 1, beta: -1 });
}

/** alpha·a + beta·b, broadcasting. */
export function axpby(alpha: number, a: Tensor, beta: number, b: Tensor): Tensor {
  return record(binary('add', a, b, alpha, beta), 'add', [a, b], [], { alpha, beta });
}

export function addBackward(node: GraphNode<'add'>, g: Tensor): (Tensor | null)[] {
  const { alpha, beta } = node.attrs;
  const [a, b] = node.inputs;
  return [a.requiresGrad ? scaleTo(g, alpha, a) : null, b.requiresGrad ? scaleTo(g, beta, b) : null];
}

/**
 * s·g summed down to `t`'s shape. A broadcast leaf with a `.grad` (a position
 * embedding, a bias added on its own) and s = 1 gets it added in place by the
 * sum's last pass (src/autograd/leaf-grad.ts; fused kernel forms): null.
 */
function scaleTo(g: Tensor, s: number, t: Tensor): Tensor | null {
  // s = 1 (a residual add): the gradient itself, as a view sharing g's buffer — a gradient is
  // written in place only where it holds its buffer alone (a leaf copies a shared one before
  // keeping it as its .grad, backward.ts; a pending sum must hold its buffer alone, pending.ts).
  if (sameShape(g.shape, t.shape)) return s === 1 ? g.engine._view(g, g.shape) : scaleRaw(g, s, 0);
  const into = s === 1 ? gradTarget(t, kernelForms(g.engine).fused) : null;
  if (into) {
    sumToShapeInto(g, t.shape, into);
    return null;
  }
  return sumToShape(g, t.shape, s);
}

/** a ⊙ b, broadcasting. */
export function mul(a: Tensor, b: Tensor): Tensor {
  return record(binary('mul', a, b), 'mul', [a, b], [a, b], {});
}

export function mulBackward(node: GraphNode<'mul'>, g: Tensor): (Tensor | null)[] {
  const [a, b] = node.saved;
  const ga = a.requiresGrad ? reduceTo(binary('mul', g, b), a.shape) : null;
  const gb = b.requiresGrad ? reduceTo(binary('mul', g, a), b.shape) : null;
  return [ga, gb];
}

function reduceTo(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const r = sumToShape(t, shape, 1);
  t.dispose();
  return r;
}

function scaleRaw(a: Tensor, alpha: number, beta: number): Tensor {
  const out = a.engine.empty(a.shape);
  launchFlat(a.engine, 'affine', { a, out }, a.size, { alpha, beta });
  return out;
}

/** alpha·a + beta (beta is a constant, so only alpha reaches the gradient). */
export function affine(a: Tensor, alpha: number, beta = 0): Tensor {
  assertF32('affine', a);
  return record(scaleRaw(a, alpha, beta), 'affine', [a], [], { alpha });
}

/** alpha·a */
export function scale(a: Tensor, alpha: number): Tensor {
  return affine(a, alpha, 0);
}

export function affineBackward(node: GraphNode<'affine'>, g: Tensor): (Tensor | null)[] {
  return [scaleRaw(g, node.attrs.alpha, 0)];
}

/** max(a, 0) */
export function relu(a: Tensor): Tensor {
  assertF32('relu', a);
  const out = a.engine.empty(a.shape);
  launchFlat(a.engine, 'relu_fwd', { a, out }, a.size);
  return record(out, 'relu', [a], [out], {});
}

export function reluBackward(node: GraphNode<'relu'>, g: Tensor): (Tensor | null)[] {
  return [reluGrad(node.saved[0], g)];
}

/**
 * relu(a + b) for tensors of one shape, in one pass (forward and backward):
 * bit for bit `relu(add(a, b))`. Broadcasting shapes take the unfused ops.
 */
export function addRelu(a: Tensor, b: Tensor): Tensor {
  assertF32('addRelu', a, b);
  const engine = sameEngine('addRelu', a, b);
  if (!kernelForms(engine).fused || !sameShape(a.shape, b.shape)) {
    const s = add(a, b);
    const out = relu(s);
    s.dispose();
    return out;
  }
  const out = engine.empty(a.shape);
  launchFlat(engine, 'add_relu', { a, b, out }, out.size, { alpha: 1, beta: 1 });
  return record(out, 'addRelu', [a, b], [out], {});
}

/** relu_bwd's mask, then the add's backward: the masked gradient itself for each input (b's a view of a's). */
export function addReluBackward(node: GraphNode<'addRelu'>, g: Tensor): (Tensor | null)[] {
  const y = node.saved[0];
  const [a, b] = node.inputs;
  const m = reluGrad(y, g);
  if (!a.requiresGrad) return [null, m];
  return [m, b.requiresGrad ? y.engine._view(m, m.shape) : null];
}

/** dy ⊙ (y > 0) given the ReLU output y. */
export function reluGrad(y: Tensor, dy: Tensor): Tensor {
  const out = y.engine.empty(y.shape);
  launchFlat(y.engine, 'relu_bwd', { a: y, b: dy, out }, y.size);
  return out;
}

/** target += alpha · g in place (no graph); shapes must have equal sizes. */
export function accumulateInto(target: Tensor, g: Tensor, alpha = 1): void {
  if (target.size !== g.size) throw new ShapeError(`accumulateInto: ${fmtShape(g.shape)} into ${fmtShape(target.shape)}`);
  launchFlat(target.engine, 'acc_add', { a: g, out: target }, g.size, { alpha });
}
