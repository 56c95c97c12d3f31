/** Shape ops that move no data: reshape (a view) and detach. */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';

/** Same data, new shape (one dimension may be -1). Shares the buffer. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = shape.filter((d) => d === -1).length;
  if (free > 1) throw new ShapeError(`reshape: more than one -1 in ${fmtShape(shape)}`);
  const resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  if (resolved.reduce((a, b) => a * b, 1) !== x.size || resolved.some((d) => !Number.isInteger(d))) {
    throw new ShapeError(`reshape: cannot view ${fmtShape(x.shape)} (${x.size} elements) as ${fmtShape(shape)}`);
  }
  const out = x.engine._view(x, resolved);
  return record(out, 'reshape', [x], [], { shape: x.shape });
}

export function reshapeBackward(node: GraphNode, g: Tensor): (Tensor | null)[] {
  const { shape } = node.attrs as { shape: number[] };
  return [g.engine._view(g, shape)];
}

/** Same data, cut from the graph: gradients stop here. */
export function detach(x: Tensor): Tensor {
  return x.engine._view(x, x.shape);
}
