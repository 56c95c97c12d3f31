/**
 * Batched matmul with transposes and a bias + ReLU epilogue, and its backward
 * rule. Two kernels: kernels/matmul_sg.wgsl (vec4 loads shared through 8-wide
 * subgroups; used when the adapter has exactly 8-lane subgroups and the
 * shapes allow vec4 access) and kernels/matmul.wgsl (any shape, any adapter).
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { reluGrad } from './elementwise.js';
import { assertF32, sameEngine } from './launch.js';
import { sumToShape } from './reduce.js';
import type { Engine } from '../engine.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** Added to every row: shape [N]. */
  bias?: Tensor | null;
  activation?: 'none' | 'relu';
}

const TILE = 32; // WG_X·TM = WG_Y·TN, see matmul.wgsl

interface Dims {
  batch: number;
  M: number;
  N: number;
  K: number;
  aBatched: boolean;
  bBatched: boolean;
}

function dims(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Dims {
  if (a.ndim < 2 || a.ndim > 3 || b.ndim < 2 || b.ndim > 3) {
    throw new ShapeError(`matmul: operands must be 2-D or 3-D, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const ar = a.shape.slice(-2) as [number, number];
  const br = b.shape.slice(-2) as [number, number];
  const [M, Ka] = transA ? [ar[1], ar[0]] : ar;
  const [Kb, N] = transB ? [br[1], br[0]] : br;
  if (Ka !== Kb) {
    throw new ShapeError(
      `matmul: inner dimensions differ: ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} · ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''} (${Ka} vs ${Kb})`,
    );
  }
  const ab = a.ndim === 3 ? a.shape[0]! : 1;
  const bb = b.ndim === 3 ? b.shape[0]! : 1;
  if (a.ndim === 3 && b.ndim === 3 && ab !== bb) {
    throw new ShapeError(`matmul: batch sizes differ: ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  return { batch: Math.max(ab, bb), M, N, K: Ka, aBatched: a.ndim === 3, bBatched: b.ndim === 3 };
}

/**
 * Whether the 8-wide-subgroup kernel (kernels/matmul_sg.wgsl) applies: the
 * device has subgroups of exactly 8 lanes (llvmpipe with 256-bit vectors),
 * and every operand's contiguous dimension is a multiple of 4 (vec4 loads).
 * Measured on lavapipe it is 4–6× faster than matmul.wgsl (docs/kernels/matmul.md).
 */
function useSubgroupKernel(engine: Engine, d: Dims, transA: boolean, transB: boolean): boolean {
  if (!engine.features.has('subgroups')) return false;
  const info = engine.ctx.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  if (info?.subgroupMinSize !== 8 || info.subgroupMaxSize !== 8) return false;
  // The kernel steps k four at a time, so K must be a multiple of 4 in every
  // layout; beyond that each operand's contiguous dimension is read as vec4.
  return d.N % 4 === 0 && d.K % 4 === 0 && (!transA || d.M % 4 === 0);
}

/** The raw launcher: no autograd. */
export function matmulRaw(a: Tensor, b: Tensor, o: MatmulOptions = {}): Tensor {
  const transA = o.transA ?? false;
  const transB = o.transB ?? false;
  assertF32('matmul', a, b);
  const engine = sameEngine('matmul', a, b);
  const d = dims(a, b, transA, transB);
  if (o.bias && (o.bias.ndim !== 1 || o.bias.shape[0] !== d.N)) {
    throw new ShapeError(`matmul: bias must have shape [${d.N}], got ${fmtShape(o.bias.shape)}`);
  }
  const outShape = a.ndim === 3 || b.ndim === 3 ? [d.batch, d.M, d.N] : [d.M, d.N];
  const c = engine.empty(outShape);
  if (c.size === 0) return c;
  if (d.K === 0) {
    engine.run('elementwise', 'fill', { bind: { out: c }, params: { n: c.size, alpha: 0 }, workgroups: Math.ceil(c.size / 256) });
    return c;
  }
  const params = {
    M: d.M,
    N: d.N,
    K: d.K,
    batch: d.batch,
    a_batch_stride: d.aBatched ? d.M * d.K : 0,
    b_batch_stride: d.bBatched ? d.K * d.N : 0,
  };
  const flags = { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0, HAS_BIAS: o.bias ? 1 : 0, ACT: o.activation === 'relu' ? 1 : 0 };
  if (useSubgroupKernel(engine, d, transA, transB)) {
    // kernels/matmul_sg.wgsl: TM rows × 32 columns per 8-lane workgroup.
    // Each TM is its own pipeline (compiled once, seconds on lavapipe): two sizes only.
    const TM = d.M <= 8 ? 8 : 32;
    engine.run('matmul_sg', 'matmul_sg8', {
      bind: { a, b, bias: o.bias ?? engine.placeholder(), c },
      params,
      constants: { ...flags, TM },
      workgroups: [Math.ceil(d.N / 32), Math.ceil(d.M / TM), d.batch],
    });
    return c;
  }
  engine.run('matmul', 'matmul', {
    bind: { a, b, bias: o.bias ?? engine.placeholder(), c },
    params,
    constants: flags,
    workgroups: [Math.ceil(d.N / TILE), Math.ceil(d.M / TILE), d.batch],
  });
  return c;
}

/** op(A)·op(B) (+ bias, then ReLU), batched over a leading dimension. */
export function matmul(a: Tensor, b: Tensor, o: MatmulOptions = {}): Tensor {
  const c = matmulRaw(a, b, o);
  const attrs = { transA: o.transA ?? false, transB: o.transB ?? false, act: o.activation ?? 'none' };
  const saved = attrs.act === 'relu' ? [a, b, c] : [a, b];
  return record(c, 'matmul', [a, b, o.bias ?? null], saved, attrs);
}

export function matmulBackward(node: GraphNode, g: Tensor): (Tensor | null)[] {
  const { transA, transB, act } = node.attrs as { transA: boolean; transB: boolean; act: string };
  const [a, b] = node.saved as [Tensor, Tensor];
  const bias = node.inputs[2];
  const dC = act === 'relu' ? reluGrad(node.saved[2]!, g) : g;
  let dA: Tensor | null = null;
  let dB: Tensor | null = null;
  if (a.requiresGrad) {
    dA = transA ? matmulRaw(b, dC, { transA: transB, transB: true }) : matmulRaw(dC, b, { transB: !transB });
    dA = reduceBatch(dA, a.shape);
  }
  if (b.requiresGrad) {
    dB = transB ? matmulRaw(dC, a, { transA: true, transB: transA }) : matmulRaw(a, dC, { transA: !transA });
    dB = reduceBatch(dB, b.shape);
  }
  let dBias: Tensor | null = null;
  if (bias?.requiresGrad) dBias = sumToShape(dC, [bias.shape[0]!]);
  if (dC !== g) dC.dispose();
  return [dA, dB, dBias];
}

/** Sums a batched gradient over the batch when the operand was shared. */
function reduceBatch(t: Tensor, shape: readonly number[]): Tensor {
  if (t.ndim === shape.length) return t;
  const r = sumToShape(t, shape);
  t.dispose();
  return r;
}
