/** Plain-TypeScript (f64) definitions of the elementwise ops and sums. */

/** Broadcast two shapes NumPy-style. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat index into an array of `shape` broadcast to `out`, at the coordinate `coord` of `out`. */
export function broadcastIndex(shape: readonly number[], out: readonly number[], coord: number[]): number {
  const off = out.length - shape.length;
  let idx = 0;
  for (let j = 0; j < shape.length; j++) idx = idx * shape[j]! + (shape[j] === 1 ? 0 : coord[j + off]!);
  return idx;
}

/** f(a, b) elementwise with broadcasting. */
export function binaryRef(
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
  f: (x: number, y: number) => number,
): { data: Float64Array; shape: number[] } {
  const shape = broadcastShape(aShape, bShape);
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float64Array(n);
  const coord = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let r = i;
    for (let d = shape.length - 1; d >= 0; d--) {
      coord[d] = r % shape[d]!;
      r = Math.floor(r / shape[d]!);
    }
    data[i] = f(a[broadcastIndex(aShape, shape, coord)]!, b[broadcastIndex(bShape, shape, coord)]!);
  }
  return { data, shape };
}

export const addRef = (a: ArrayLike<number>, as: number[], b: ArrayLike<number>, bs: number[]) => binaryRef(a, as, b, bs, (x, y) => x + y);
export const mulRef = (a: ArrayLike<number>, as: number[], b: ArrayLike<number>, bs: number[]) => binaryRef(a, as, b, bs, (x, y) => x * y);

export function reluRef(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (x) => Math.max(x, 0));
}

/** relu(a + b) for same-shape inputs. */
export function addReluRef(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (x, i) => Math.max(x + b[i]!, 0));
}
