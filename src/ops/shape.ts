/** Shape ops that move no data: reshape (a view) and detach. */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { flat, strides, vec8 } from './launch.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    reshape: { attrs: { shape: readonly number[] }; saved: [] };
    permute: { attrs: { axes: readonly number[] }; saved: [] };
  }
}

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

export function reshapeBackward(node: GraphNode<'reshape'>, g: Tensor): (Tensor | null)[] {
  const { shape } = node.attrs;
  return [g.engine._view(g, shape)];
}

/** Same data, cut from the graph: gradients stop here. */
export function detach(x: Tensor): Tensor {
  return x.engine._view(x, x.shape);
}

/** x.permute(axes): a copy with dimensions reordered (up to 8 dims). */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  if (axes.length !== x.ndim || [...axes].sort((a, b) => a - b).some((a, i) => a !== i)) {
    throw new ShapeError(`permute: axes [${axes.join(', ')}] are not a permutation of the ${x.ndim} dims of ${fmtShape(x.shape)}`);
  }
  if (x.ndim > 8) throw new ShapeError(`permute: at most 8 dims, got ${x.ndim}`);
  return record(permuteRaw(x, axes), 'permute', [x], [], { axes });
}

function permuteRaw(x: Tensor, axes: readonly number[]): Tensor {
  const outShape = axes.map((a) => x.shape[a]!);
  const out = x.engine.empty(outShape);
  if (!out.size) return out;
  // The innermost axis stays and is a multiple of 4: move vec4s (the same gather in units of 4).
  const last = x.ndim - 1;
  const vec4 = axes[last] === last && x.shape[last]! % 4 === 0 && x.offset % 4 === 0 && out.offset % 4 === 0;
  const inShape = vec4 ? x.shape.map((d, i) => (i === last ? d / 4 : d)) : x.shape;
  const st = strides(inShape);
  const n = vec4 ? out.size / 4 : out.size;
  const [olo, ohi] = vec8(axes.map((a) => inShape[a]!));
  const [ilo, ihi] = vec8(axes.map((a) => st[a]!));
  x.engine.run('layout', vec4 ? 'permute_v4' : 'permute', {
    bind: vec4 ? { x4: x, out4: out } : { x, out },
    params: { n, ndim: x.ndim, out_shape_lo: olo, out_shape_hi: ohi, in_str_lo: ilo, in_str_hi: ihi },
    ...flat(x.engine, n),
  });
  return out;
}

export function permuteBackward(node: GraphNode<'permute'>, g: Tensor): (Tensor | null)[] {
  const { axes } = node.attrs;
  const inv = new Array<number>(axes.length);
  axes.forEach((a, i) => (inv[a] = i));
  return [permuteRaw(g, inv)];
}
