/**
 * One training iteration per method. Each returns its loss terms as scalar
 * tensors (summed by the trainer and backpropagated once). Mixed targets use
 * λ·CE(y) + (1−λ)·CE(y[π]) with the sampled (or box-corrected) λ.
 */
import type { Engine } from '../engine.js';
import { crossEntropy, mixedCrossEntropy } from '../ops/cross-entropy.js';
import { affine, add, relu } from '../ops/elementwise.js';
import { boxMix, maskedBlend, maskMix, mixup } from '../ops/mix.js';
import { mean } from '../ops/reduce.js';
import { detach } from '../ops/shape.js';
import type { Network } from '../models/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../util/rng.js';
import { boxAround, boxLambda, cutmixBox, fmixMask, resizeMixHost, saliencyPeak } from '../mix/sample.js';
import type { MixBlock } from './mix-block.js';
import type { TrainConfig } from './config.js';

export interface StepInput {
  engine: Engine;
  /** Images [N, C, H, W] on the GPU, and the same batch on the host. */
  x: Tensor;
  xHost: Float32Array;
  /** Labels on the GPU (i32) and the host. */
  y: Tensor;
  yHost: Int32Array;
  rng: Rng;
  cfg: TrainConfig;
}

export interface StepOutput {
  terms: Record<string, Tensor>;
  /** Scalars to report (e.g. λ, mask mean), as tensors or numbers. */
  stats: Record<string, Tensor | number>;
}

/** Uploads y[π] as an i32 tensor. */
function permutedLabels(engine: Engine, y: Int32Array, perm: Int32Array): Tensor {
  return engine.tensor(Int32Array.from(perm, (p) => y[p]!), [perm.length], { dtype: 'i32' });
}

function permTensor(engine: Engine, perm: Int32Array): Tensor {
  return engine.tensor(perm, [perm.length], { dtype: 'i32' });
}

export function vanillaStep(net: Network, s: StepInput): StepOutput {
  return { terms: { loss: crossEntropy(net.logits(s.x), s.y) }, stats: {} };
}

/** Mixup, CutMix, ManifoldMix, FMix, ResizeMix, SaliencyMix. */
export function baselineStep(net: Network, s: StepInput): StepOutput {
  const { engine, rng, cfg } = s;
  const [N, C, H, W] = s.x.shape as [number, number, number, number];
  const perm = rng.permutation(N);
  const pt = permTensor(engine, perm);
  const yb = permutedLabels(engine, s.yHost, perm);
  let lam = rng.beta(cfg.alpha, cfg.alpha);
  let logits: Tensor;
  switch (cfg.method) {
    case 'mixup':
      logits = net.logits(mixup(s.x, pt, lam));
      break;
    case 'cutmix': {
      const box = cutmixBox(rng, H, W, lam);
      lam = boxLambda(box, H, W);
      logits = net.logits(boxMix(s.x, pt, box));
      break;
    }
    case 'saliencymix': {
      // One saliency map, of x[π[0]], places the box for the whole batch (spec §7).
      const img = s.xHost.subarray(perm[0]! * C * H * W, (perm[0]! + 1) * C * H * W);
      const peak = saliencyPeak(img, C, H, W);
      const cut = Math.sqrt(1 - lam);
      const box = boxAround(peak.y, peak.x, Math.floor(H * cut), Math.floor(W * cut), H, W);
      lam = boxLambda(box, H, W);
      logits = net.logits(boxMix(s.x, pt, box));
      break;
    }
    case 'fmix': {
      const m = engine.tensor(fmixMask(rng, H, W, lam), [H, W]);
      logits = net.logits(maskMix(s.x, m, pt));
      break;
    }
    case 'resizemix': {
      const r = resizeMixHost(rng, s.xHost, perm, N, C, H, W, cfg.alpha);
      lam = r.lam;
      logits = net.logits(engine.tensor(r.out, s.x.shape));
      break;
    }
    case 'manifoldmix': {
      const after = rng.int(3); // 0 = input, k = output of stage k
      logits = net.logits(s.x, undefined, { mixAt: { after, fn: (h) => mixup(h, pt, lam) } });
      break;
    }
    default:
      throw new Error(`baselineStep: ${cfg.method} is not a baseline`);
  }
  return { terms: { loss: mixedCrossEntropy(logits, s.y, yb, lam) }, stats: { lam } };
}

/** State AutoMix keeps between iterations. */
export interface AutoMixState {
  /** Online network f_q with heads head_mix and head_one. */
  online: Network;
  /** Momentum (EMA) network f_k, parameters frozen, BN in train mode. */
  momentum: Network;
  mixBlock: MixBlock;
  /** Stage whose output the Mix Block reads (3 = layer3, spec mask_layer=2). */
  maskStage: number;
}

/** |v| for a scalar tensor, from relu(v) + relu(−v). */
function absScalar(v: Tensor): Tensor {
  return add(relu(v), relu(affine(v, -1)));
}

/**
 * The bi-level AutoMix iteration in the order of spec §1 (steps 2–9; the
 * optimiser step and the EMA update are the trainer's).
 */
export function automixStep(st: AutoMixState, s: StepInput): StepOutput {
  const { engine, rng } = s;
  const [N, , H] = s.x.shape as [number, number, number, number];
  // 2. Two independent (λ, π) draws, α = 2.
  const lamMb = rng.beta(s.cfg.alpha, s.cfg.alpha);
  const lamBb = rng.beta(s.cfg.alpha, s.cfg.alpha);
  const permMb = rng.permutation(N);
  const permBb = rng.permutation(N);
  const pMb = permTensor(engine, permMb);
  const pBb = permTensor(engine, permBb);
  // 3. Stage-3 features of the momentum encoder (no gradient: its parameters are frozen).
  const z = engine.noGrad(() => st.momentum.backbone.forward(s.x, { stopAfter: st.maskStage }));
  // 4. The Mix Block twice: with gradient for the Mix Block's own loss, detached for the backbone.
  const maskMb = st.mixBlock.mask(z, pMb, lamMb, H);
  let maskBb = engine.noGrad(() => st.mixBlock.mask(z, pBb, lamBb, H));
  // 5. λ margin: near-0/1 λ falls back to plain Mixup for the backbone's batch.
  if (lamBb <= 0.08 || lamBb >= 0.92) {
    maskBb = engine.noGrad(() => affine(maskBb, 0, 1 - lamBb));
  }
  // 6. L_mask = 0.1·max(|mean(m_a) − λ_mb| − 0.1, 0), with mean(m_a) = 1 − mean(m_b).
  const meanMb = mean(maskMb);
  const lossMask = affine(relu(affine(absScalar(affine(meanMb, -1, 1 - lamMb)), 1, -0.1)), 0.1);
  // 7. The two mixed batches.
  const xMb = maskedBlend(s.x, maskMb, pMb);
  const xBb = engine.noGrad(() => maskedBlend(s.x, maskBb, pBb));
  // 8. L_mix_k through the frozen momentum network: trains only the Mix Block.
  const yMb = permutedLabels(engine, s.yHost, permMb);
  const lossMixK = mixedCrossEntropy(st.momentum.logits(xMb, 'head_mix'), s.y, yMb, lamMb);
  // 9. Online network: clean and mixed batches as two separate forward calls.
  const lossOneQ = crossEntropy(st.online.logits(s.x, 'head_one'), s.y);
  const yBb = permutedLabels(engine, s.yHost, permBb);
  const lossMixQ = mixedCrossEntropy(st.online.logits(xBb, 'head_mix'), s.y, yBb, lamBb);
  return {
    terms: { L_mix_q: lossMixQ, L_one_q: lossOneQ, L_mix_k: lossMixK, L_mask: lossMask },
    stats: { mask_mean: detach(meanMb), lam_mb: lamMb, lam_bb: lamBb },
  };
}

