/**
 * Softmax and log-softmax along the last axis (kernels/softmax.wgsl), and
 * their backward rules, which read only the saved forward output.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { assertF32, groups, sameShape } from './launch.js';
import type { Engine } from '../engine.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    softmax: { attrs: { log: boolean }; saved: [y: Tensor] };
  }
}

/**
 * Threads per workgroup (per row in the *_wg kernels, rows per group in
 * *_thread), a power of two. On CPU adapters (llvmpipe: one 8-lane SIMD
 * register per subgroup) 8 measured fastest, 2–3× faster than 64 (every
 * halving step of the tree reduction is a barrier, i.e. a coroutine switch
 * per 8 lanes); GPUs get 64.
 */
export function rowWorkgroupSize(engine: Engine): number {
  return engine.kernelRules === 'cpu' || engine.ctx.subgroupSizes.max === 8 ? 8 : 64;
}
/**
 * Rows up to this length run one thread per row (no barriers); longer rows
 * a workgroup per row. Measured on lavapipe: see docs/kernels/softmax.md.
 */
export const SOFTMAX_THREAD_MAX_COLS = 64;

function rowsCols(op: string, x: Tensor): [number, number] {
  assertF32(op, x);
  if (x.ndim < 1) throw new ShapeError(`${op}: needs at least one dimension, got a scalar ${fmtShape(x.shape)}`);
  const cols = x.shape[x.ndim - 1]!;
  if (cols === 0) throw new ShapeError(`${op}: the last axis of ${fmtShape(x.shape)} is empty`);
  return [x.size / cols, cols];
}

/** Grid for a kernel family that has *_wg and *_thread entries. */
export function rowLaunch(engine: Engine, rows: number, cols: number, vec4 = false): { suffix: 'wg' | 'wg4' | 'thread'; workgroups: number; WG: number } {
  const WG = rowWorkgroupSize(engine);
  if (cols <= SOFTMAX_THREAD_MAX_COLS) return { suffix: 'thread', workgroups: groups(rows, WG), WG };
  return { suffix: vec4 && cols % 4 === 0 ? 'wg4' : 'wg', workgroups: rows, WG };
}

function forwardRaw(op: string, x: Tensor, log: boolean): Tensor {
  const [rows, cols] = rowsCols(op, x);
  const y = x.engine.empty(x.shape);
  if (rows === 0) return y;
  const l = rowLaunch(x.engine, rows, cols, true);
  x.engine.run('softmax', `fwd_${l.suffix}`, {
    bind: l.suffix === 'wg4' ? { x4: x, y4: y } : { x, y },
    params: { rows, cols },
    constants: { WG: l.WG, LOG: log ? 1 : 0 },
    workgroups: l.workgroups,
  });
  return y;
}

/** Raw backward: dx from the saved output y and the upstream gradient g. */
export function softmaxBackwardRaw(y: Tensor, g: Tensor, log: boolean): Tensor {
  if (!sameShape(y.shape, g.shape)) {
    throw new ShapeError(`${log ? 'logSoftmax' : 'softmax'} backward: gradient ${fmtShape(g.shape)} does not match output ${fmtShape(y.shape)}`);
  }
  const [rows, cols] = rowsCols('softmax backward', y);
  const dx = y.engine.empty(y.shape);
  if (rows === 0) return dx;
  const l = rowLaunch(y.engine, rows, cols, true);
  y.engine.run('softmax', `bwd_${l.suffix}`, {
    bind: l.suffix === 'wg4' ? { x4: y, g4: g, y4: dx } : { x: y, g, y: dx },
    params: { rows, cols },
    constants: { WG: l.WG, LOG: log ? 1 : 0 },
    workgroups: l.workgroups,
  });
  return dx;
}

/** softmax(x) along the last axis: exp(x − max) / Σ exp(x − max). */
export function softmax(x: Tensor): Tensor {
  const y = forwardRaw('softmax', x, false);
  return record(y, 'softmax', [x], [y], { log: false });
}

/** log(softmax(x)) along the last axis, computed as x − max − log Σ exp(x − max). */
export function logSoftmax(x: Tensor): Tensor {
  const y = forwardRaw('logSoftmax', x, true);
  return record(y, 'softmax', [x], [y], { log: true });
}

export function softmaxBackward(node: GraphNode<'softmax'>, g: Tensor): (Tensor | null)[] {
  const { log } = node.attrs;
  return [softmaxBackwardRaw(node.saved[0], g, log)];
}
