/**
 * Sum reductions (kernels/reduce.wgsl): sum and mean of all elements, sums
 * along the last axis, and sumToShape (the reverse of broadcasting). Every
 * reduction is collapsed to a pattern of kept (K) and reduced (R) axes, and
 * the pattern picks the kernel: R, KR with long rows, RKR → sum_split (a
 * workgroup tree per output, split over several workgroups and summed again
 * when an output is large); RK, KRK → sum_cols (a thread per output column);
 * KR with short rows → a thread per row; anything else → sum_to_shape.
 *
 * `sumToShapeInto` adds the sums into an existing tensor instead (a
 * parameter's `.grad`, src/autograd/leaf-grad.ts): the pass that writes the
 * final values adds them in place (override ACCUMULATE), the same f32 add as a
 * separate acc_add; the partials of a split reduction are written as before.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { assertF32, groups, vec8 } from './launch.js';
import { launchBroadcast } from './broadcast.js';
import { memoryBoundShape } from './memory-bound.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    sum: { attrs: { shape: readonly number[]; scale: number }; saved: [] };
    sumToShape: { attrs: { inShape: readonly number[]; alpha: number }; saved: [] };
  }
}

/** sum_split: at least this many loads (vec4 or scalar) per thread before an output is split across workgroups. */
const SPLIT_MIN_LOADS = 8;
/** sum_cols: cut the rows into chunks until there are this many threads… */
const COLS_MIN_THREADS = 2048;
/** …keeping at least this many rows per chunk. */
const COLS_MIN_ROWS = 16;
/** Rows of at most this many elements are summed one thread per row. */
const SHORT_ROW = 64;

/** One axis of a collapsed reduction: its length and whether it is summed. */
interface Axis {
  size: number;
  reduced: boolean;
}

/**
 * Drops size-1 axes and merges neighbours that are both reduced or both
 * kept (row-major: such a run is one axis of their product length).
 */
function collapseAxes(shape: readonly number[], reduced: readonly boolean[]): Axis[] {
  const axes: Axis[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const last = axes[axes.length - 1];
    if (last && last.reduced === reduced[d]) last.size *= size;
    else axes.push({ size, reduced: reduced[d]! });
  });
  return axes;
}

/**
 * The reduce.wgsl launch, x bound as f32 or vec4 as the entry reads it;
 * `accumulate`: the entry adds its results into `out` (ACCUMULATE).
 */
function run(x: Tensor, out: Tensor, entry: string, vec: boolean, params: Record<string, number | number[]>, workgroups: number, accumulate = false): void {
  const e = x.engine;
  const bind: Record<string, Tensor> = entry === 'sum_cols_v4' ? { x4: x, out4: out } : vec ? { x4: x, out } : { x, out };
  e.run('reduce', entry, { bind, params, constants: { WG: memoryBoundShape(e).reduceWg, ACCUMULATE: accumulate ? 1 : 0 }, workgroups });
}

/**
 * Where a final pass puts its `n` sums: a new tensor, or `into` (which it adds
 * them to). Every reduction below takes `into` (null: a new tensor) and hands
 * it only to its last pass; it returns the tensor holding the result.
 */
function finalOut(x: Tensor, n: number, into: Tensor | null): Tensor {
  return into ?? x.engine.empty([n]);
}

/**
 * out[k] = alpha·Σ_{r0, r1} x[r0, k, r1] (sum_split). An output with more
 * than SPLIT_MIN_LOADS loads per thread is cut into tiles — along outer
 * first, then along inner — up to the adapter's workgroup budget, and the
 * tiles' partial sums are summed by a second pass.
 */
function sumSplit(x: Tensor, outer: number, mid: number, inner: number, alpha: number, into: Tensor | null): Tensor {
  const e = x.engine;
  const { reduceWg: wg, reduceMaxWorkgroups } = memoryBoundShape(e);
  const vec = inner % 4 === 0 && x.offset % 4 === 0;
  const cols = vec ? inner / 4 : inner;
  const wanted = Math.max(1, Math.min(Math.ceil((outer * cols) / (wg * SPLIT_MIN_LOADS)), Math.ceil(reduceMaxWorkgroups / mid)));
  const chunkOuter = Math.ceil(outer / Math.min(outer, wanted));
  const splitsOuter = Math.ceil(outer / chunkOuter);
  const chunkInner = Math.ceil(cols / Math.max(1, Math.min(Math.ceil(wanted / splitsOuter), Math.ceil(cols / wg))));
  const splitsInner = Math.ceil(cols / chunkInner);
  const splits = splitsOuter * splitsInner;
  // Tile columns: a power of 2 up to the workgroup; the remaining threads take rows.
  const tcShift = Math.min(Math.log2(wg), Math.ceil(Math.log2(chunkInner)));
  const out = splits === 1 ? finalOut(x, mid, into) : e.empty([mid * splits]);
  run(
    x,
    out,
    vec ? 'sum_split_v4' : 'sum_split',
    vec,
    {
      outer,
      mid,
      inner: cols,
      splits,
      splits_inner: splitsInner,
      chunk_outer: chunkOuter,
      chunk_inner: chunkInner,
      tc_shift: tcShift,
      alpha: splits > 1 ? 1 : alpha,
    },
    mid * splits,
    splits === 1 && into !== null,
  );
  if (splits === 1) return out;
  const r = sumRows(out, mid, splits, alpha, into);
  out.dispose();
  return r;
}

/** out[s, k0, k1] over chunks of rows, then over s: out[k0, k1] = alpha·Σ_r x[k0, r, k1] (sum_cols). */
function sumCols(x: Tensor, outer: number, mid: number, inner: number, alpha: number, into: Tensor | null, allowSplit = true): Tensor {
  const e = x.engine;
  const vec = inner % 4 === 0 && x.offset % 4 === 0;
  const inner1 = vec ? inner / 4 : inner;
  const threads = outer * inner1;
  let splits = allowSplit ? Math.max(1, Math.min(Math.ceil(COLS_MIN_THREADS / threads), Math.floor(mid / COLS_MIN_ROWS))) : 1;
  const chunk = Math.ceil(mid / splits);
  splits = Math.ceil(mid / chunk);
  const out = splits === 1 ? finalOut(x, outer * inner, into) : e.empty([splits * outer * inner]);
  run(
    x,
    out,
    vec ? 'sum_cols_v4' : 'sum_cols',
    vec,
    { outer, mid, inner: inner1, splits, chunk, alpha: splits > 1 ? 1 : alpha },
    groups(splits * threads, memoryBoundShape(e).reduceWg),
    splits === 1 && into !== null,
  );
  if (splits === 1) return out;
  const r = sumCols(out, 1, splits, outer * inner, alpha, into, false);
  out.dispose();
  return r;
}

/** out[k] = alpha·Σ_r x[k, r] for x viewed as [rows, cols]: short rows one thread each, long ones a workgroup (or several) each. */
function sumRows(x: Tensor, rows: number, cols: number, alpha: number, into: Tensor | null): Tensor {
  if (cols > SHORT_ROW) return sumSplit(x, 1, rows, cols, alpha, into);
  if (cols % 4 !== 0 || x.offset % 4 !== 0) return sumCols(x, rows, cols, 1, alpha, into, false);
  const out = finalOut(x, rows, into);
  run(x, out, 'sum_short_rows_v4', true, { mid: rows, inner: cols / 4, alpha }, groups(rows, memoryBoundShape(x.engine).reduceWg), into !== null);
  return out;
}

/**
 * alpha · Σ of x over the axes marked reduced, as a flat tensor of the kept
 * elements in order: the collapsed pattern picks the kernel (reduce.wgsl).
 */
function reduceRaw(x: Tensor, reduced: readonly boolean[], alpha: number, into: Tensor | null = null): Tensor {
  if (x.size === 0)
    return emptySums(
      x,
      x.shape.reduce((acc, d, i) => (reduced[i] ? acc : acc * d), 1),
      into,
    );
  const axes = collapseAxes(x.shape, reduced);
  const pattern = axes.map((a) => (a.reduced ? 'R' : 'K')).join('');
  const [s0, s1, s2] = axes.map((a) => a.size) as [number, number, number];
  switch (pattern) {
    case '': // one element
      return sumCols(x, 1, 1, 1, alpha, into, false);
    case 'K': // nothing to sum: a scaled copy
      return sumCols(x, 1, 1, s0, alpha, into, false);
    case 'R':
      return sumSplit(x, 1, 1, s0, alpha, into);
    case 'KR':
      return sumRows(x, s0, s1, alpha, into);
    case 'RK':
      return sumCols(x, 1, s0, s1, alpha, into);
    case 'RKR':
      return sumSplit(x, s0, s1, s2, alpha, into);
    case 'KRK':
      return sumCols(x, s0, s1, s2, alpha, into);
  }
  return sumToShapeGeneral(x, reduced, alpha, into);
}

/** `kept` sums of nothing: zeros (sum_cols over 0 rows, x bound as f32: an empty tensor has no vec4 view). */
function emptySums(x: Tensor, kept: number, into: Tensor | null = null): Tensor {
  const out = finalOut(x, kept, into);
  if (kept) {
    const params = { outer: 1, mid: 0, inner: kept, splits: 1, chunk: 0, alpha: 1 };
    run(x, out, 'sum_cols', false, params, groups(kept, memoryBoundShape(x.engine).reduceWg), into !== null);
  }
  return out;
}

/** sum_to_shape: any reduction of rank ≤ 8, one thread per output. */
function sumToShapeGeneral(x: Tensor, reduced: readonly boolean[], alpha: number, into: Tensor | null): Tensor {
  const outSize = x.shape.reduce((acc, d, i) => (reduced[i] ? acc : acc * d), 1);
  const cols = x.size / outSize;
  const out = finalOut(x, outSize, into);
  const [slo, shi] = vec8(x.shape);
  const [rlo, rhi] = vec8(reduced.map(Number));
  run(
    x,
    out,
    'sum_to_shape',
    false,
    { rows: outSize, cols, alpha, ndim: x.shape.length, shape_lo: slo, shape_hi: shi, red_lo: rlo, red_hi: rhi },
    groups(outSize, memoryBoundShape(x.engine).reduceWg),
    into !== null,
  );
  return out;
}

/** out[r] = alpha · Σ_c x[r, c] for x viewed as [rows, cols]. */
export function sumRowsRaw(x: Tensor, rows: number, cols: number, alpha = 1): Tensor {
  if (rows * cols === 0) return emptySums(x, rows);
  return sumRows(x, rows, cols, alpha, null);
}

function sumAllRaw(x: Tensor, alpha: number): Tensor {
  const allAxes = x.shape.map(() => true);
  return x.engine._viewOwned(reduceRaw(x, allAxes, alpha), []);
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
  return [broadcastScaled(g, shape, scale)];
}

/** scale · g broadcast to `shape` (the backward of sums: g has the kept dims, or one element). */
function broadcastScaled(g: Tensor, shape: readonly number[], scale: number): Tensor {
  const out = g.engine.empty(shape);
  launchBroadcast(g.engine, 'add', g, g, out, scale, 0);
  return out;
}

/** Which of x's dims sumToShape(x, shape) reduces (ShapeError when it cannot). */
function reducedDims(x: Tensor, shape: readonly number[]): boolean[] {
  const nd = x.shape.length;
  if (shape.length > nd) throw new ShapeError(`sumToShape: ${fmtShape(shape)} has more dims than ${fmtShape(x.shape)}`);
  const target = [...new Array<number>(nd - shape.length).fill(1), ...shape];
  return x.shape.map((d, i) => {
    if (target[i] === d) return false;
    if (target[i] === 1) return true;
    throw new ShapeError(`sumToShape: cannot reduce ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  });
}

/** Sums `x` down to `shape` (same rank or fewer leading dims; reduced dims 1). */
export function sumToShape(x: Tensor, shape: readonly number[], alpha = 1): Tensor {
  const reduced = reducedDims(x, shape);
  if (shape.reduce((a, b) => a * b, 1) === 0) return x.engine.empty(shape);
  const out = x.engine._viewOwned(reduceRaw(x, reduced, alpha), shape);
  return record(out, 'sumToShape', [x], [], { inShape: x.shape, alpha });
}

/**
 * target += alpha · (x summed down to `shape`), in place, by the pass that
 * finishes the sums (no separate add; the same f32 add as acc_add): a
 * parameter's gradient into its `.grad` (src/autograd/leaf-grad.ts). No
 * autograd. `target` has shape's size. Bit for bit sumToShape then
 * accumulateInto with alpha = 1 (the only use: with another alpha a compiler
 * may fuse the final multiply and add).
 */
export function sumToShapeInto(x: Tensor, shape: readonly number[], target: Tensor, alpha = 1): void {
  const reduced = reducedDims(x, shape);
  const n = shape.reduce((a, b) => a * b, 1);
  if (target.size !== n) throw new ShapeError(`sumToShapeInto: ${fmtShape(shape)} into ${fmtShape(target.shape)}`);
  if (n === 0) return;
  reduceRaw(x, reduced, alpha, target);
}

/** The gradient of a sum is the upstream gradient broadcast back over the summed dims. */
export function sumToShapeBackward(node: GraphNode<'sumToShape'>, g: Tensor): (Tensor | null)[] {
  const { inShape, alpha } = node.attrs;
  return [broadcastScaled(g, inShape, alpha)];
}
