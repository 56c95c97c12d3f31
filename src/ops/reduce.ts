/**
 * Sum reductions (kernels/reduce.wgsl): sum and mean of all elements, sums
 * along the last axis, and sumToShape (the reverse of broadcasting).
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { assertF32, broadcastStrides, groups, vec8 } from './launch.js';
import type { Engine } from '../engine.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    sum: { attrs: { shape: readonly number[]; scale: number }; saved: [] };
    sumToShape: { attrs: { inShape: readonly number[]; alpha: number }; saved: [] };
  }
}

/** Elements per partial row when summing a large tensor in two passes. */
const CHUNK = 4096;

/** out[r] = alpha · Σ_c x[r, c] for x viewed as [rows, cols]. */
export function sumRowsRaw(x: Tensor, rows: number, cols: number, alpha = 1): Tensor {
  const out = x.engine.empty([rows]);
  if (rows === 0) return out;
  x.engine.run('reduce', 'sum_rows', { bind: { x, out }, params: { rows, cols, alpha }, workgroups: rows });
  return out;
}

function sumAllRaw(x: Tensor, alpha: number): Tensor {
  const e: Engine = x.engine;
  if (x.size <= CHUNK * 4) {
    const r = sumRowsRaw(x, 1, x.size, alpha);
    return e._viewOwned(r, []);
  }
  // Two passes: full chunks of CHUNK elements, the ragged tail as one more row.
  const rows = Math.floor(x.size / CHUNK);
  const partial = sumRowsRaw(x, rows, CHUNK, 1);
  const tail = x.size - rows * CHUNK;
  let parts = partial;
  if (tail > 0) {
    const withTail = e.empty([rows + 1]);
    e.copyBuffer(partial, withTail, rows * 4);
    const tailSum = e.empty([1]);
    e.run('reduce', 'sum_tail', {
      bind: { x, out: tailSum },
      params: { rows: rows * CHUNK, cols: tail, alpha: 1 },
      workgroups: 1,
    });
    e.copyBuffer(tailSum, withTail, 4, 0, rows * 4);
    tailSum.dispose();
    partial.dispose();
    parts = withTail;
  }
  const r = sumRowsRaw(parts, 1, parts.size, alpha);
  parts.dispose();
  return e._viewOwned(r, []);
}

/** Σ x over all elements, as a scalar (shape []). */
export function sum(x: Tensor): Tensor {
  assertF32('sum', x);
  return record(sumAllRaw(x, 1), 'sum', [x], [], { shape: x.shape, scale: 1 });
}

/** Mean of all elements, as a scalar. */
export function mean(x: Tensor): Tensor {
  assertF32('mean', x);
  if (x.size === 0) throw new ShapeError('mean() of an empty tensor');
  return record(sumAllRaw(x, 1 / x.size), 'sum', [x], [], { shape: x.shape, scale: 1 / x.size });
}

export function sumBackward(node: GraphNode<'sum'>, g: Tensor): (Tensor | null)[] {
  const { shape, scale } = node.attrs;
  return [broadcastScalar(g, shape, scale)];
}

/** scale · g broadcast to `shape` (g has one element). */
function broadcastScalar(g: Tensor, shape: readonly number[], scale: number): Tensor {
  const e = g.engine;
  const out = e.empty(shape);
  const n = out.size;
  if (n) {
    e.run('elementwise', 'add_bcast', {
      bind: { a: g, b: g, out },
      params: { n, ndim: 1, alpha: scale, beta: 0, shape_lo: [n, 0, 0, 0], a_str_lo: [0, 0, 0, 0], b_str_lo: [0, 0, 0, 0] },
      workgroups: groups(n),
    });
  }
  return out;
}

/** Sums `x` down to `shape` (same rank or fewer leading dims; reduced dims 1). */
export function sumToShape(x: Tensor, shape: readonly number[], alpha = 1): Tensor {
  const nd = x.shape.length;
  if (shape.length > nd) throw new ShapeError(`sumToShape: ${fmtShape(shape)} has more dims than ${fmtShape(x.shape)}`);
  const target = [...new Array<number>(nd - shape.length).fill(1), ...shape];
  const red = x.shape.map((d, i) => {
    if (target[i] === d) return 0;
    if (target[i] === 1) return 1;
    throw new ShapeError(`sumToShape: cannot reduce ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  });
  const out = x.engine.empty(shape);
  const reduced = x.shape.reduce((acc, d, i) => (red[i] ? acc * d : acc), 1);
  if (out.size === 0) return out;
  const [slo, shi] = vec8(x.shape);
  const [rlo, rhi] = vec8(red);
  x.engine.run('reduce', 'sum_to_shape', {
    bind: { x, out },
    params: { rows: out.size, cols: reduced, alpha, ndim: nd, shape_lo: slo, shape_hi: shi, red_lo: rlo, red_hi: rhi },
    workgroups: groups(out.size),
  });
  return record(out, 'sumToShape', [x], [], { inShape: x.shape, alpha });
}

/** The gradient of a sum is the upstream gradient broadcast back over the summed dims. */
export function sumToShapeBackward(node: GraphNode<'sumToShape'>, g: Tensor): (Tensor | null)[] {
  const { inShape, alpha } = node.attrs;
  const e = g.engine;
  const out = e.empty(inShape);
  if (!out.size) return [out];
  const gShape = [...new Array<number>(inShape.length - g.ndim).fill(1), ...g.shape];
  const [slo, shi] = vec8(inShape);
  const [glo, ghi] = vec8(broadcastStrides(gShape, inShape));
  e.run('elementwise', 'add_bcast', {
    bind: { a: g, b: g, out },
    params: { n: out.size, ndim: inShape.length, alpha, beta: 0, shape_lo: slo, shape_hi: shi, a_str_lo: glo, a_str_hi: ghi, b_str_lo: glo, b_str_hi: ghi },
    workgroups: groups(out.size),
  });
  return [out];
}
