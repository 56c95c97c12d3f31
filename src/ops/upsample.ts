/**
 * Upsampling of NCHW by an integer factor (kernels/upsample.wgsl): nearest,
 * or bilinear with align_corners=False (PyTorch semantics), forward/backward.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { assertF32, flat } from './launch.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    upsample: { attrs: { shape: readonly number[]; factor: number; mode: UpsampleMode }; saved: [] };
  }
}

export type UpsampleMode = 'nearest' | 'bilinear';

export function upsample(x: Tensor, factor: number, mode: UpsampleMode): Tensor {
  assertF32('upsample', x);
  if (x.ndim !== 4) throw new ShapeError(`upsample: expected NCHW input, got ${fmtShape(x.shape)}`);
  if (!Number.isInteger(factor) || factor < 1) throw new ShapeError(`upsample: factor must be a positive integer, got ${factor}`);
  if (mode !== 'nearest' && mode !== 'bilinear') throw new ShapeError(`upsample: unknown mode '${String(mode)}'`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const e = x.engine;
  const out = e.empty([N, C, H * factor, W * factor]);
  if (out.size) {
    e.run('upsample', `${mode}_fwd`, {
      bind: { x, out },
      params: { n: out.size, H, W, f: factor, inv_f: 1 / factor },
      ...flat(e, out.size),
    });
  }
  return record(out, 'upsample', [x], [], { shape: x.shape, factor, mode });
}

export function upsampleBackward(node: GraphNode<'upsample'>, g: Tensor): (Tensor | null)[] {
  const { shape, factor, mode } = node.attrs;
  const [, , H, W] = shape as [number, number, number, number];
  const dx = g.engine.empty(shape);
  if (dx.size) {
    g.engine.run('upsample', `${mode}_bwd`, {
      bind: { g, out: dx },
      params: { n: dx.size, H, W, f: factor, inv_f: 1 / factor },
      ...flat(g.engine, dx.size),
    });
  }
  return [dx];
}
