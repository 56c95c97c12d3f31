/**
 * Launchers for broadcasting add and mul (no autograd): the output collapsed
 * to rank ≤ 3 runs kernels/broadcast.wgsl (vec4 along the innermost axis
 * when it allows), anything else elementwise.wgsl's general path. Used by the
 * elementwise ops and by the reductions' backward rules (broadcasting a sum's
 * gradient back).
 */
import { LimitError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastStrides, flat, groups, vec8 } from './launch.js';
import { flatConstants, memoryBoundShape } from './memory-bound.js';

/** A broadcast with the output's size-1 dims dropped and alike neighbours merged. */
export interface CollapsedBroadcast {
  dims: number[];
  aStrides: number[];
  bStrides: number[];
}

/**
 * Drops the output's size-1 dimensions and merges neighbouring dimensions
 * that each input either spans (stride ≠ 0) or broadcasts (stride 0) alike:
 * within such a run an input's elements are contiguous (or all one), so the
 * run is one dimension with the inner dimension's stride.
 */
export function collapseBroadcast(shape: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): CollapsedBroadcast {
  const c: CollapsedBroadcast = { dims: [], aStrides: [], bStrides: [] };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const k = c.dims.length - 1;
    const sa = aStrides[d]!;
    const sb = bStrides[d]!;
    if (k >= 0 && (c.aStrides[k] === 0) === (sa === 0) && (c.bStrides[k] === 0) === (sb === 0)) {
      c.dims[k]! *= shape[d]!;
      c.aStrides[k] = sa;
      c.bStrides[k] = sb;
    } else {
      c.dims.push(shape[d]!);
      c.aStrides.push(sa);
      c.bStrides.push(sb);
    }
  }
  return c;
}

/**
 * out = alpha·a' + beta·b' ('add') or a'·b' ('mul') into `out`, where a', b'
 * are a and b broadcast to out's shape (which the caller has checked).
 */
export function launchBroadcast(engine: Engine, op: 'add' | 'mul', a: Tensor, b: Tensor, out: Tensor, alpha = 1, beta = 1): void {
  const n = out.size;
  if (n === 0) return;
  const shape = out.shape;
  const aFull = broadcastStrides(a.shape, shape);
  const bFull = broadcastStrides(b.shape, shape);
  const c = collapseBroadcast(shape, aFull, bFull);
  if (c.dims.length > 3) {
    if (shape.length > 8) throw new LimitError(`${op}: broadcasting supports up to 8 dimensions, got ${shape.length}`, 'ndim');
    const [slo, shi] = vec8(shape);
    const [alo, ahi] = vec8(aFull);
    const [blo, bhi] = vec8(bFull);
    engine.run('elementwise', `${op}_bcast`, {
      bind: { a, b, out },
      params: { n, ndim: shape.length, alpha, beta, shape_lo: slo, shape_hi: shi, a_str_lo: alo, a_str_hi: ahi, b_str_lo: blo, b_str_hi: bhi },
      ...flat(engine, n),
    });
    return;
  }
  while (c.dims.length < 3) {
    c.dims.unshift(1);
    c.aStrides.unshift(0);
    c.bStrides.unshift(0);
  }
  const [, d1, d2] = c.dims as [number, number, number];
  const aStr = [...c.aStrides, 0];
  const bStr = [...c.bStrides, 0];
  const aligned = a.offset % 4 === 0 && b.offset % 4 === 0 && out.offset % 4 === 0;
  const launch = memoryBoundShape(engine);
  const perWorkgroup = launch.wg * launch.perThread;
  if (d2 % 4 === 0 && aligned) {
    // A spanned innermost axis has stride 1 (row-major), a broadcast one 0.
    const aVec = aStr[2] === 1;
    const bVec = bStr[2] === 1;
    engine.run('broadcast', 'binary_bc_v4', {
      bind: { a, b, a4: aVec ? a : engine.placeholder(), b4: bVec ? b : engine.placeholder(), out4: out },
      params: { n: n / 4, d1, d2: d2 / 4, alpha, beta, a_str: aStr, b_str: bStr },
      constants: { ...flatConstants(launch), A_VEC: aVec ? 1 : 0, B_VEC: bVec ? 1 : 0, MUL: op === 'mul' ? 1 : 0 },
      workgroups: groups(n / 4, perWorkgroup),
    });
    return;
  }
  engine.run('broadcast', 'binary_bc', {
    bind: { a, b, out },
    params: { n, d1, d2, alpha, beta, a_str: aStr, b_str: bStr },
    constants: { ...flatConstants(launch), MUL: op === 'mul' ? 1 : 0 },
    workgroups: groups(n, perWorkgroup),
  });
}
