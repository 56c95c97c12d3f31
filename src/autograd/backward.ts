/**
 * Reverse-mode differentiation: walks the graph from a tensor back to the
 * leaves in reverse topological order, applying each op's rule from
 * `rules.ts`. Gradients of leaves (parameters) accumulate into `.grad`;
 * intermediate gradients are disposed as soon as they have been used.
 */
import { DisposedError, ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { accumulateInto, add } from '../ops/elementwise.js';
import { copy, fill } from '../ops/creation.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import type { GraphNode } from './graph.js';
import { withPendingGrads } from './pending.js';
import { applyRule } from './rules.js';

export function runBackward(engine: Engine, root: Tensor, grad?: Tensor): void {
  // A disposed tensor has lost its graph: without this check backward() would do nothing at all.
  if (root.disposed)
    throw new DisposedError(`backward() on ${root}, which was disposed (call backward() before dispose(), or outside the scope that released it)`);
  if (grad?.disposed) throw new DisposedError(`backward(): the upstream gradient ${grad} was disposed`);
  if (!root.requiresGrad) throw new ShapeError(`backward() on ${root} which does not require grad`);
  if (!grad && root.size !== 1) {
    throw new ShapeError(`backward() of a non-scalar tensor ${fmtShape(root.shape)} needs an explicit upstream gradient`);
  }
  if (grad && grad.size !== root.size) {
    throw new ShapeError(`backward(): upstream gradient ${fmtShape(grad.shape)} does not match tensor ${fmtShape(root.shape)}`);
  }
  engine.noGrad(() => {
    const seed = grad ?? fill(engine, root.shape, 1);
    if (!root.node) {
      accumulateLeaf(engine, root, seed, grad === undefined);
      return;
    }
    if (root.node.freed) throw new ShapeError('backward() through a graph that was already freed (a second backward, or its tensors were disposed)');
    const order = topoOrder(root.node);
    const consumers = new Map<GraphNode, number>();
    for (const node of order) for (const n of node.inputNodes) if (n) consumers.set(n, (consumers.get(n) ?? 0) + 1);
    const grads = new Map<GraphNode, Tensor>();
    grads.set(root.node, seed);
    const ownsSeed = grad === undefined;
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i]!;
      const g = grads.get(node);
      grads.delete(node);
      if (g) {
        // A rule may add an input's gradient into that input's pending sum in place (pending.ts).
        const inGrads = withPendingGrads(grads, consumers, () => applyRule(node, g));
        node.inputs.forEach((inp, k) => {
          const gi = inGrads[k] ?? null;
          if (!gi) return;
          if (!inp?.requiresGrad) {
            gi.dispose();
            return;
          }
          const up = node.inputNodes[k];
          if (up) {
            const prev = grads.get(up);
            if (prev) {
              grads.set(up, add(prev, gi));
              prev.dispose();
              gi.dispose();
            } else grads.set(up, gi);
          } else accumulateLeaf(engine, inp, gi, true);
        });
        if (g !== grad || ownsSeed) g.dispose();
      }
      // Free what this node saved now; its links to input nodes only after
      // the walk, so no node upstream is freed before its rule has run.
      node.releaseSaved();
    }
    for (const node of order) node.free();
  });
}

function accumulateLeaf(engine: Engine, leaf: Tensor, g: Tensor, owned: boolean): void {
  if (!leaf.requiresGrad || leaf.disposed) {
    if (owned) g.dispose();
    return;
  }
  if (leaf.grad) {
    // Accumulate in place: parameters' .grad are views into a gradient arena.
    accumulateInto(leaf.grad, g);
    if (owned) g.dispose();
    return;
  }
  // A gradient belongs to its parameter, not to whatever scope is open. Later gradients are added
  // into it in place, so it must not share its buffer: a view of another gradient (a residual
  // add's or a reshape's backward) or of the caller's upstream gradient is copied.
  const keep = owned && g.storage.refs === 1;
  leaf.grad = engine.untrack(keep ? g : copy(g));
  if (owned && !keep) g.dispose();
}

function topoOrder(root: GraphNode): GraphNode[] {
  const order: GraphNode[] = [];
  const seen = new Set<GraphNode>();
  // Iterative DFS: deep nets would overflow the JS stack recursively.
  const stack: [GraphNode, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.inputNodes.length) {
      top[1]++;
      const n = node.inputNodes[i];
      if (n && !seen.has(n) && !n.freed) {
        seen.add(n);
        stack.push([n, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}
