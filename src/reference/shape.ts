/**
 * Reference for the layout ops (src/ops/shape.ts), in f64 over plain arrays:
 * `permute` reorders dimensions (out[i_0, …] = x[i_{axes⁻¹}…]); `reshape` is
 * a view and needs no reference.
 */

/** x.permute(axes) for x of `shape`: out's dimension d is x's dimension axes[d]. */
export function permuteRef(x: ArrayLike<number>, shape: readonly number[], axes: readonly number[]): Float64Array {
  const outShape = axes.map((a) => shape[a]!);
  const inStrides = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    inStrides[d] = acc;
    acc *= shape[d]!;
  }
  const out = new Float64Array(x.length);
  const coord = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let d = 0; d < outShape.length; d++) src += coord[d]! * inStrides[axes[d]!]!;
    out[i] = x[src]!;
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++coord[d]! < outShape[d]!) break;
      coord[d] = 0;
    }
  }
  return out;
}
