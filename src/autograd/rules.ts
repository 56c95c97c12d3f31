/**
 * Every differentiable op and its backward rule, in one table. `record()`
 * accepts only names in this table, so an op without a rule does not compile.
 * A rule receives the graph node (inputs, saved tensors, attributes) and the
 * gradient of the op's output, and returns one gradient per input (null where
 * none is needed). Rules run with gradient recording off.
 */
import { addBackward, affineBackward, mulBackward, reluBackward } from '../ops/elementwise.js';
import { matmulBackward } from '../ops/matmul.js';
import { sumBackward } from '../ops/reduce.js';
import { reshapeBackward } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { GraphNode } from './graph.js';

export type BackwardRule = (node: GraphNode, grad: Tensor) => (Tensor | null)[];

export const BACKWARD = {
  add: addBackward,
  mul: mulBackward,
  affine: affineBackward,
  relu: reluBackward,
  sum: sumBackward,
  matmul: matmulBackward,
  reshape: reshapeBackward,
} satisfies Record<string, BackwardRule>;

export type OpName = keyof typeof BACKWARD;
