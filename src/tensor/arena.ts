/**
 * Arena: many tensors laid out in one GPU buffer. Parameters, their
 * gradients and optimiser state live in arenas with identical layouts, so an
 * optimiser step or an EMA update over a whole model is one dispatch over a
 * flat array instead of one per tensor. Each view starts on a 256-byte
 * boundary (WebGPU's minStorageBufferOffsetAlignment); padding stays zero.
 */
import type { Engine } from '../engine.js';
import type { Tensor } from './tensor.js';

const ALIGN = 64; // elements: 256 bytes

export interface Arena {
  /** The whole buffer as a 1-D tensor (padding included). */
  flat: Tensor;
  /** One view per requested shape, in order. */
  views: Tensor[];
  offsets: number[];
}

export function arenaLayout(shapes: readonly (readonly number[])[]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const s of shapes) {
    offsets.push(total);
    const n = s.reduce((a, b) => a * b, 1);
    total += Math.ceil(Math.max(n, 1) / ALIGN) * ALIGN;
  }
  return { offsets, total: Math.max(total, ALIGN) };
}

/** Allocates a zero-filled arena holding tensors of `shapes`. */
export function createArena(engine: Engine, shapes: readonly (readonly number[])[], label?: string): Arena {
  const { offsets, total } = arenaLayout(shapes);
  const flat = engine.empty([total], 'f32', label);
  engine.clear(flat);
  const views = shapes.map((s, i) => engine.untrack(engine._view(flat, s, offsets[i]!)));
  engine.untrack(flat);
  return { flat, views, offsets };
}

export function disposeArena(a: Arena): void {
  for (const v of a.views) v.dispose();
  a.flat.dispose();
}
