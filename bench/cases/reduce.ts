/** The reductions of src/ops/reduce.ts: the sum of every element. */
import { sum } from '../../src/ops/reduce.js';
import { unaryCase } from './helpers.js';
import type { BenchCase } from './types.js';

export function sumCase(shape: number[]): BenchCase {
  return unaryCase('sum (all)', shape, sum, (tf, x) => tf.sum(x));
}
