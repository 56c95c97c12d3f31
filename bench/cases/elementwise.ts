/** The elementwise ops of src/ops/elementwise.ts: relu, and add with and without broadcasting. */
import { add, relu } from '../../src/ops/elementwise.js';
import { binaryCase, unaryCase } from './helpers.js';
import type { BenchCase } from './types.js';

export function reluCase(shape: number[]): BenchCase {
  return unaryCase('relu', shape, relu, (tf, x) => tf.relu(x));
}

/** a + b; 'add (broadcast)' when b's shape differs from a's. */
export function addCase(shapeA: number[], shapeB: number[]): BenchCase {
  const broadcast = shapeA.join() !== shapeB.join();
  return binaryCase(broadcast ? 'add (broadcast)' : 'add', shapeA, shapeB, add, (tf, a, b) => tf.add(a, b));
}
