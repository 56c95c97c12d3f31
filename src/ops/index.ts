/** All ops, as `ops.add(a, b)` etc. */
export { add, sub, mul, axpby, affine, scale, relu, addRelu } from './elementwise.js';
export { sum, mean, sumToShape } from './reduce.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { softmax, logSoftmax } from './softmax.js';
export { crossEntropy, mixedCrossEntropy } from './cross-entropy.js';
export { reshape, detach, permute } from './shape.js';
export { fill, zeros, ones, copy } from './creation.js';
export { gatherBatch, maskedBlend, mixup, boxMix, maskMix, type Box } from './blend.js';
export { attention, attentionTokens, type AttentionTokensOptions } from './attention.js';
export { batchNorm2d, type BatchNormOptions } from './batchnorm.js';
export { layerNorm } from './layernorm.js';
export { gelu, sigmoid } from './activation.js';
export { globalAvgPool, maxPool2d, avgPool2d } from './pool.js';
export { upsample, type UpsampleMode } from './upsample.js';
export { mixBlockLogits, type MixBlockOptions } from './mix-block-attention.js';
export { conv2d, type Conv2dOptions } from './conv2d.js';
export { patchEmbed } from './patch-embed.js';
export { maskSpread } from './mask-stats.js';
