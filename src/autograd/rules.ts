/**
 * Every differentiable op and its backward rule, in one table. `record()`
 * accepts only names in this table, so an op without a rule does not compile.
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
import { blendBackward } from '../ops/mix.js';
import { attentionBackward } from '../ops/attention.js';
import { mixBlockLogitsBackward } from '../ops/mix-block.js';
import { batchNorm2dBackward } from '../ops/batchnorm.js';
import { layerNormBackward } from '../ops/layernorm.js';
import { geluBackward, sigmoidBackward } from '../ops/activation.js';
import { avgPool2dBackward, globalAvgPoolBackward, maxPool2dBackward } from '../ops/pool.js';
import { upsampleBackward } from '../ops/upsample.js';
import { conv2dBackward } from '../ops/conv2d.js';
import { patchEmbedBackward } from '../ops/patch-embed.js';
import type { Tensor } from '../tensor/tensor.js';
import type { GraphNode } from './graph.js';

export type BackwardRule = (node: GraphNode, grad: Tensor) => (Tensor | null)[];

export const BACKWARD = {
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
} satisfies Record<string, BackwardRule>;

export type OpName = keyof typeof BACKWARD;
