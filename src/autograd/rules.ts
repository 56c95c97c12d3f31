/**
 * Every differentiable op and its backward rule, in one table. The table has
 * one rule per name in `OpPayloads` (payloads.ts), and each rule receives a
 * `GraphNode<name>` whose `attrs` and `saved` are typed by that op's payload,
 * so an op without a rule, or a rule that reads what its forward did not
 * record, does not compile.
 * A rule receives the graph node (inputs, saved tensors, attributes) and the
 * gradient of the op's output, and returns one gradient per input (null where
 * none is needed). Rules run with gradient recording off.
 */
import { addBackward, addReluBackward, affineBackward, mulBackward, reluBackward } from '../ops/elementwise.js';
import { matmulBackward } from '../ops/matmul.js';
import { softmaxBackward } from '../ops/softmax.js';
import { crossEntropyBackward } from '../ops/cross-entropy.js';
import { sumBackward, sumToShapeBackward } from '../ops/reduce.js';
import { permuteBackward, reshapeBackward } from '../ops/shape.js';
import { blendBackward } from '../ops/blend.js';
import { attentionBackward } from '../ops/attention.js';
import { mixBlockLogitsBackward } from '../ops/mix-block-attention.js';
import { batchNorm2dBackward } from '../ops/batchnorm.js';
import { layerNormBackward } from '../ops/layernorm.js';
import { geluBackward, sigmoidBackward } from '../ops/activation.js';
import { avgPool2dBackward, globalAvgPoolBackward, maxPool2dBackward } from '../ops/pool.js';
import { upsampleBackward } from '../ops/upsample.js';
import { conv2dBackward } from '../ops/conv2d.js';
import { patchEmbedBackward } from '../ops/patch-embed.js';
import type { Tensor } from '../tensor/tensor.js';
import type { GraphNode } from './graph.js';
import type { OpName } from './payloads.js';

export type BackwardRule<K extends OpName> = (node: GraphNode<K>, grad: Tensor) => (Tensor | null)[];

export type BackwardTable = { [K in OpName]: BackwardRule<K> };

export const BACKWARD: BackwardTable = {
  conv2d: conv2dBackward,
  patchEmbed: patchEmbedBackward,
  add: addBackward,
  mul: mulBackward,
  affine: affineBackward,
  relu: reluBackward,
  addRelu: addReluBackward,
  sum: sumBackward,
  sumToShape: sumToShapeBackward,
  matmul: matmulBackward,
  softmax: softmaxBackward,
  crossEntropy: crossEntropyBackward,
  reshape: reshapeBackward,
  permute: permuteBackward,
  blend: blendBackward,
  attention: attentionBackward,
  mixBlockLogits: mixBlockLogitsBackward,
  batchNorm2d: batchNorm2dBackward,
  layerNorm: layerNormBackward,
  gelu: geluBackward,
  sigmoid: sigmoidBackward,
  globalAvgPool: globalAvgPoolBackward,
  maxPool2d: maxPool2dBackward,
  avgPool2d: avgPool2dBackward,
  upsample: upsampleBackward,
};

export type { OpName };

/** Applies op K's rule to a node of op K (the mapped table keeps the two together). */
export function applyRule<K extends OpName>(node: GraphNode<K>, g: Tensor): (Tensor | null)[] {
  const rule: BackwardRule<K> = BACKWARD[node.op];
  return rule(node, g);
}
