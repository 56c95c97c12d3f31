/** The activations of src/ops/activation.ts; the FLOPs per element count their arithmetic (erf ≈ 8, sigmoid ≈ 4). */
import { gelu, sigmoid } from '../../src/ops/activation.js';
import { unaryCase } from './helpers.js';
import type { BenchCase } from './types.js';

/** The exact (erf) GELU. */
export function geluCase(shape: number[]): BenchCase {
  return unaryCase('gelu', shape, gelu, (tf, x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))), 8);
}

export function sigmoidCase(shape: number[]): BenchCase {
  return unaryCase('sigmoid', shape, sigmoid, (tf, x) => tf.sigmoid(x), 4);
}
