/**
 * Reference for the reductions (src/ops/reduce.ts), in f64 over plain arrays.
 */
import { broadcastIndex } from './elementwise.js';

/** The sum of every element. */
export function sumRef(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Sums x of `shape` down to `target` (same rank, reduced dims 1). */
export function sumToShapeRef(x: ArrayLike<number>, shape: readonly number[], target: readonly number[]): Float64Array {
  const full = [...new Array<number>(shape.length - target.length).fill(1), ...target];
  const n = full.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  const coord = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < x.length; i++) {
    let r = i;
    for (let d = shape.length - 1; d >= 0; d--) {
      coord[d] = r % shape[d]!;
      r = Math.floor(r / shape[d]!);
    }
    out[broadcastIndex(full, shape, coord)]! += x[i]!;
  }
  return out;
}
