/**
 * Pooling over NCHW (kernels/pool.wgsl): global average pooling, max pooling
 * (saves the argmax indices; backward routes each gradient to its argmax) and
 * average pooling, with their backward rules. 2×2 stride-2 max and average
 * pooling without padding over rows of a multiple of 8 run the vec4 *_k2v4
 * entries (4 outputs per item, work per thread as memory-bound.ts chooses for
 * the adapter); every other window, stride, padding or width runs the general
 * one-element-per-thread entries. Both compute the same arithmetic in the
 * same order, so which ran never shows in the results.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import type { Engine } from '../engine.js';
import { assertF32, flat, groups } from './launch.js';
import { kernelForms } from './kernel-forms.js';
import { flatConstants, memoryBoundShape } from './memory-bound.js';
import { sumRowsRaw } from './reduce.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    globalAvgPool: { attrs: { shape: readonly number[] }; saved: [] };
    maxPool2d: { attrs: { shape: readonly number[]; k: number; s: number; pad: number }; saved: [argmax: Tensor] };
    avgPool2d: { attrs: { shape: readonly number[]; k: number; s: number }; saved: [] };
  }
}

/** Planes of at most this many elements are averaged one thread per plane. */
const SMALL_PLANE = 64;

function nchw(op: string, x: Tensor): [number, number, number, number] {
  assertF32(op, x);
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected NCHW input, got ${fmtShape(x.shape)}`);
  return x.shape as [number, number, number, number];
}

/** Mean over H×W: [N, C, H, W] → [N, C]. */
export function globalAvgPool(x: Tensor): Tensor {
  const [N, C, H, W] = nchw('globalAvgPool', x);
  const e = x.engine;
  const planes = N * C;
  const HW = H * W;
  if (HW === 0) throw new ShapeError(`globalAvgPool: empty planes in ${fmtShape(x.shape)}`);
  let out: Tensor;
  if (HW > SMALL_PLANE) {
    out = e._viewOwned(sumRowsRaw(x, planes, HW, 1 / HW), [N, C]);
  } else {
    out = e.empty([N, C]);
    if (planes) e.run('pool', 'gap_fwd', { bind: { x, out }, params: { n: planes, H, W, inv: 1 / HW }, ...flat(e, planes) });
  }
  return record(out, 'globalAvgPool', [x], [], { shape: x.shape });
}

export function globalAvgPoolBackward(node: GraphNode<'globalAvgPool'>, g: Tensor): (Tensor | null)[] {
  const { shape } = node.attrs;
  const [, , H, W] = shape as [number, number, number, number];
  const dx = g.engine.empty(shape);
  if (dx.size) g.engine.run('pool', 'gap_bwd', { bind: { g, out: dx }, params: { n: dx.size, H, W, inv: 1 / (H * W) }, ...flat(g.engine, dx.size) });
  return [dx];
}

/** Whether a k×k, stride-s, padding-pad pooling over rows of W takes the *_k2v4 entries. */
function k2v4(k: number, s: number, pad: number, W: number, ...ts: Tensor[]): boolean {
  return kernelForms(ts[0]!.engine).vec4 && k === 2 && s === 2 && pad === 0 && W % 8 === 0 && ts.every((t) => t.offset % 4 === 0);
}

/**
 * Runs a *_k2v4 entry over the items (4 outputs each) of an [N, C, OH, OW]
 * output of a 2×2 stride-2 pooling over [N, C, H, W] (OW = W/2).
 */
function runK2v4(e: Engine, entry: string, bind: Record<string, Tensor>, items: number, dims: { H: number; W: number; OH: number; OW: number }): void {
  const shape = memoryBoundShape(e);
  e.run('pool', entry, {
    bind,
    params: { n: items, ...dims, k: 2, s: 2, pad: 0, inv: 0.25 },
    constants: flatConstants(shape),
    workgroups: groups(items, shape.wg * shape.perThread),
  });
}

function outSize(op: string, x: Tensor, n: number, k: number, s: number, pad: number): number {
  const o = Math.floor((n + 2 * pad - k) / s) + 1;
  if (o < 1) throw new ShapeError(`${op}: kernel ${k} (padding ${pad}) is larger than the input ${fmtShape(x.shape)}`);
  return o;
}

function checkWindow(op: string, k: number, s: number, pad: number): void {
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(s) || s < 1 || !Number.isInteger(pad) || pad < 0) {
    throw new ShapeError(`${op}: kernel, stride must be positive integers and padding a non-negative one (got ${k}, ${s}, ${pad})`);
  }
  if (pad > k / 2) throw new ShapeError(`${op}: padding ${pad} must be at most half the kernel size ${k}`);
}

/** Max pooling with a square k×k window (stride defaults to k; padding counts as −∞). */
export function maxPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  const [N, C, H, W] = nchw('maxPool2d', x);
  checkWindow('maxPool2d', kernel, stride, padding);
  const OH = outSize('maxPool2d', x, H, kernel, stride, padding);
  const OW = outSize('maxPool2d', x, W, kernel, stride, padding);
  const e = x.engine;
  const out = e.empty([N, C, OH, OW]);
  const idx = e.empty([N, C, OH, OW], 'i32');
  if (out.size && k2v4(kernel, stride, padding, W, x)) {
    runK2v4(e, 'maxpool_fwd_k2v4', { x4: x, out4: out, idx4: idx }, out.size / 4, { H, W, OH, OW });
  } else if (out.size) {
    e.run('pool', 'maxpool_fwd', {
      bind: { x, out, idx },
      params: { n: out.size, H, W, OH, OW, k: kernel, s: stride, pad: padding },
      ...flat(e, out.size),
    });
  }
  record(out, 'maxPool2d', [x], [idx], { shape: x.shape, k: kernel, s: stride, pad: padding });
  idx.dispose();
  return out;
}

export function maxPool2dBackward(node: GraphNode<'maxPool2d'>, g: Tensor): (Tensor | null)[] {
  const { shape, k, s, pad } = node.attrs;
  const [, , H, W] = shape as [number, number, number, number];
  const [, , OH, OW] = g.shape as [number, number, number, number];
  const dx = g.engine.empty(shape);
  if (dx.size && k2v4(k, s, pad, W, g, node.saved[0])) {
    runK2v4(g.engine, 'maxpool_bwd_k2v4', { g4: g, idx_in4: node.saved[0], out4: dx }, g.size / 4, { H, W, OH, OW });
  } else if (dx.size) {
    g.engine.run('pool', 'maxpool_bwd', {
      bind: { g, idx_in: node.saved[0], out: dx },
      params: { n: dx.size, H, W, OH, OW, k, s, pad },
      ...flat(g.engine, dx.size),
    });
  }
  return [dx];
}

/** Average pooling with a square k×k window, no padding (stride defaults to k). */
export function avgPool2d(x: Tensor, kernel: number, stride = kernel): Tensor {
  const [N, C, H, W] = nchw('avgPool2d', x);
  checkWindow('avgPool2d', kernel, stride, 0);
  const OH = outSize('avgPool2d', x, H, kernel, stride, 0);
  const OW = outSize('avgPool2d', x, W, kernel, stride, 0);
  const e = x.engine;
  const out = e.empty([N, C, OH, OW]);
  if (out.size && k2v4(kernel, stride, 0, W, x)) {
    runK2v4(e, 'avgpool_fwd_k2v4', { x4: x, out4: out }, out.size / 4, { H, W, OH, OW });
  } else if (out.size) {
    e.run('pool', 'avgpool_fwd', {
      bind: { x, out },
      params: { n: out.size, H, W, OH, OW, k: kernel, s: stride, inv: 1 / (kernel * kernel) },
      ...flat(e, out.size),
    });
  }
  return record(out, 'avgPool2d', [x], [], { shape: x.shape, k: kernel, s: stride });
}

export function avgPool2dBackward(node: GraphNode<'avgPool2d'>, g: Tensor): (Tensor | null)[] {
  const { shape, k, s } = node.attrs;
  const [, , H, W] = shape as [number, number, number, number];
  const [, , OH, OW] = g.shape as [number, number, number, number];
  const dx = g.engine.empty(shape);
  if (dx.size && k2v4(k, s, 0, W, g)) {
    runK2v4(g.engine, 'avgpool_bwd_k2v4', { g4: g, out4: dx }, g.size / 4, { H, W, OH, OW });
  } else if (dx.size) {
    g.engine.run('pool', 'avgpool_bwd', {
      bind: { g, out: dx },
      params: { n: dx.size, H, W, OH, OW, k, s, inv: 1 / (k * k) },
      ...flat(g.engine, dx.size),
    });
  }
  return [dx];
}
