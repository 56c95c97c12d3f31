/** Tensors made on the GPU: fills and copies. Not differentiable. */
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { flat } from './launch.js';

export function fill(engine: Engine, shape: readonly number[], value: number): Tensor {
  return fillWith(engine.empty(shape), value);
}

/** Writes `value` into every element of `out` (an existing tensor); returns it. */
export function fillWith(out: Tensor, value: number): Tensor {
  if (out.size > 0) out.engine.run('elementwise', 'fill', { bind: { out }, params: { n: out.size, alpha: value }, ...flat(out.engine, out.size) });
  return out;
}

export function zeros(engine: Engine, shape: readonly number[]): Tensor {
  return fill(engine, shape, 0);
}

export function ones(engine: Engine, shape: readonly number[]): Tensor {
  return fill(engine, shape, 1);
}

/** A new tensor with the same contents (no graph). */
export function copy(t: Tensor): Tensor {
  const out = t.engine.empty(t.shape, t.dtype);
  t.engine.copyBuffer(t, out);
  return out;
}
