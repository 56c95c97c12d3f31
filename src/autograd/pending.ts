/**
 * The gradients waiting, in the backward pass now running, for their node's rule: the sum so far
 * of what the node's consumers gave back. A rule whose input already has one may have its kernel
 * add the input's gradient into it in place (leaf-grad.ts `gradTarget`), the same f32 add the
 * autograd would do next (`add(prev, g)`), one dispatch fewer.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { GraphNode } from './graph.js';

interface Running {
  grads: ReadonlyMap<GraphNode, Tensor>;
  /** How many of the pass's nodes consume each node's output (an op taking it twice counts twice). */
  consumers: ReadonlyMap<GraphNode, number>;
}

let running: Running | null = null;

/** Runs `fn` with `grads` as the pending gradients (backward.ts). */
export function withPendingGrads<T>(grads: ReadonlyMap<GraphNode, Tensor>, consumers: ReadonlyMap<GraphNode, number>, fn: () => T): T {
  const outer = running;
  running = { grads, consumers };
  try {
    return fn();
  } finally {
    running = outer;
  }
}

/**
 * Where `t`'s gradient can be added in place: the pending gradient of `t`'s node, or, for the
 * output of a reshape that only this op consumes, that of the reshaped tensor (a reshape's
 * backward is a view; with other consumers their gradients would be summed first) — when it holds
 * its buffer alone (no view of it is alive, and it is not the caller's upstream gradient, which
 * the caller holds too) and has `t`'s size.
 */
export function pendingTarget(t: Tensor): Tensor | null {
  if (!running || !t.node) return null;
  const own = running.grads.get(t.node);
  if (own) return exclusive(own, t.size) ? own : null;
  const up = t.node.op === 'reshape' && running.consumers.get(t.node) === 1 ? t.node.inputNodes[0] : null;
  const through = up ? running.grads.get(up) : undefined;
  return through && exclusive(through, t.size) ? through : null;
}

function exclusive(g: Tensor, size: number): boolean {
  return !g.disposed && g.storage.refs === 1 && g.size === size && g.dtype === 'f32';
}
