/**
 * The benchmark registry: every kernel case in one list (CASES), in the
 * table's order, whole training steps in another (stepCases). A case is built
 * by the file named like its op's module in src/ops/ (conv2d.ts for
 * src/ops/conv2d.ts); each imports its op statically, so a missing or renamed
 * op fails the type check rather than a row at run time.
 *
 * A case's `prepare` uploads inputs and returns:
 *   - ours: the timed op call (plus untimed `before`/`after` per repeat, e.g.
 *     the forward whose backward is timed);
 *   - tf (optional): the same computation through TF.js, for --vs tfjs, with
 *     converters of its outputs to our layout for the max |Δ| check;
 *   - flops and/or bytes per call (bytes = the minimum DRAM traffic: every
 *     input read once, every output written once), from which the rate and
 *     share of peak are computed; `bound` says which one the case is judged by.
 * Layouts: ours NCHW / OIHW; TF.js convolutions are NHWC / HWIO (its native
 * and only WebGPU layout), so TF.js gets transposed copies of the same data.
 * The kernel configurations the autotuner chose for a case (the variant
 * column) are read from the tuner by bench/run.ts, not declared here.
 */
import { makeStep } from '../steps.js';
import { makeTfResNet18Step } from '../tfjs-steps.js';
import { geluCase, sigmoidCase } from './activation.js';
import { attentionCase, attentionTokensCase } from './attention.js';
import { batchNormCase } from './batchnorm.js';
import { blendCase } from './blend.js';
import { conv3x3, convCase } from './conv2d.js';
import { crossEntropyCase } from './cross-entropy.js';
import { addCase, reluCase } from './elementwise.js';
import { layerNormCase } from './layernorm.js';
import { matmulCase } from './matmul.js';
import { mixBlockCase } from './mix-block-attention.js';
import { optimCase } from './optim.js';
import { patchEmbedCase } from './patch-embed.js';
import { globalAvgPoolCase, poolCase } from './pool.js';
import { sumCase } from './reduce.js';
import { softmaxCase } from './softmax.js';
import type { BenchCase, StepCase } from './types.js';
import { permuteCase } from './shape.js';
import { upsampleCase } from './upsample.js';

export type { BenchCase, CaseContext, OursRunner, Prepared, StepBench, StepCase, TfSide } from './types.js';

const MAIN_CONV = conv3x3(32, 64, 32);

export const CASES: BenchCase[] = [
  matmulCase(256),
  matmulCase(512),
  matmulCase(1024),
  matmulCase(2048),

  convCase('3×3 N=32 64→64 32×32', MAIN_CONV, 'forward'),
  convCase('3×3 N=32 64→64 32×32', MAIN_CONV, 'grad-input'),
  convCase('3×3 N=32 64→64 32×32', MAIN_CONV, 'grad-weight'),
  // CIFAR ResNet-18 layer shapes at batch 32: stem, layer2–4 3×3 convs, a stride-2 downsample.
  convCase('ResNet stem 3→64 32×32', { N: 32, Cin: 3, Cout: 64, H: 32, W: 32, k: 3, stride: 1, pad: 1 }, 'forward'),
  convCase('ResNet layer2 128→128 16×16', conv3x3(32, 128, 16), 'forward'),
  convCase('ResNet layer3 256→256 8×8', conv3x3(32, 256, 8), 'forward'),
  convCase('ResNet layer4 512→512 4×4', conv3x3(32, 512, 4), 'forward'),
  convCase('ResNet down 64→128 s2 32×32', conv3x3(32, 64, 32, 2, 128), 'forward'),

  // ViT-tiny patch embedding: 32×32×3 images, 4×4 patches, D = 192 → [B, 64, 192].
  patchEmbedCase('ViT-tiny', 32, 3, 32, 4, 192),

  softmaxCase(4096, 1024, 'forward'),
  softmaxCase(4096, 1024, 'backward'),
  crossEntropyCase(128, 10, false, 'forward'),
  crossEntropyCase(128, 10, false, 'backward'),
  crossEntropyCase(128, 10, true, 'forward'),
  crossEntropyCase(128, 10, true, 'backward'),

  batchNormCase(32, 64, 32, 32, 'forward'),
  batchNormCase(32, 64, 32, 32, 'backward'),
  layerNormCase(32, 64, 192, 'forward'),
  layerNormCase(32, 64, 192, 'backward'),

  poolCase('max', 32, 64, 32, 32, 2),
  poolCase('avg', 32, 64, 32, 32, 2),
  globalAvgPoolCase(32, 512, 4, 4),

  reluCase([32, 64, 32, 32]),
  geluCase([32, 64, 768]),
  sigmoidCase([32, 64, 32, 32]),
  addCase([32, 64, 32, 32], [32, 64, 32, 32]),
  addCase([32, 64, 32, 32], [64, 1, 1]),
  sumCase([4096, 1024]),

  upsampleCase(100, 1, 8, 8, 4, 'bilinear'),
  upsampleCase(32, 64, 16, 16, 2, 'nearest'),
  permuteCase([32, 65, 3, 64], [0, 2, 1, 3]),

  blendCase('mixup', 100, 3, 32, 32),
  blendCase('maskedBlend', 100, 3, 32, 32),

  mixBlockCase(100, 256, 8, 'forward'),
  mixBlockCase(100, 256, 8, 'backward'),
  mixBlockCase(100, 256, 16, 'forward'),
  mixBlockCase(100, 256, 16, 'backward'),

  attentionCase(32, 3, 64, 64, 'forward'),
  attentionCase(32, 3, 64, 64, 'backward'),
  attentionTokensCase(32, 3, 64, 64, 'forward'),
  attentionTokensCase(32, 3, 64, 64, 'backward'),

  optimCase('SGD'),
  optimCase('AdamW'),
];

/**
 * Whole training steps (images/s): `make` builds the model, a fixed batch and
 * the optimiser on `engine` and returns `{ step, imagesPerStep }`; the bench
 * times `step()` + engine.sync() on the wall clock.
 */
// Batch 100 (the CIFAR recipe) on GPUs; 32 on software adapters, where one
// AutoMix ViT step at 100 would take minutes. images/s is per image either way.
export function stepCases(software: boolean): StepCase[] {
  const b = software ? 32 : 100;
  return [
    {
      name: `ResNet-18 ×0.25 CIFAR, vanilla, batch ${b}`,
      make: makeStep('resnet18', 0.25, 'none', b),
      tf: (tf, ours) => makeTfResNet18Step(tf, 0.25, ours.inputs!.xHost, ours.inputs!.yHost, 10, software),
    },
    { name: `ResNet-18 ×0.25 CIFAR, AutoMix, batch ${b}`, make: makeStep('resnet18', 0.25, 'automix', b) },
    { name: `ViT-tiny CIFAR, vanilla, batch ${b}`, make: makeStep('vit-tiny', 1, 'none', b) },
    { name: `ViT-tiny CIFAR, AutoMix, batch ${b}`, make: makeStep('vit-tiny', 1, 'automix', b) },
  ];
}
