/**
 * One training iteration per method, in two halves:
 *
 *  - `draw` (host): everything random or data-dependent that the step needs —
 *    λ, permutations, permuted labels, CutMix/SaliencyMix boxes, FMix masks,
 *    the ResizeMix batch, the λ-margin decision — as named arrays. They are
 *    uploaded into the step's input tensors before the step runs.
 *  - `losses` (device): the loss terms from the input tensors alone. Nothing
 *    in it writes host data, reads back or puts a per-step number into a
 *    kernel's uniforms, so `TrainingRun` can capture it once and replay it.
 *
 * A data-dependent branch either becomes arithmetic on input tensors (the
 * λ-margin fallback: mask·keep + fill) or selects a `variant` — steps of one
 * variant share a captured plan (ManifoldMix's mixing point).
 *
 * Mixed targets use λ·CE(y) + (1−λ)·CE(y[π]) with the sampled (or
 * box-corrected) λ, given per sample.
 */
import type { Engine } from '../engine.js';
import { crossEntropy, mixedCrossEntropy } from '../ops/cross-entropy.js';
import { add, affine, mul, relu, sub } from '../ops/elementwise.js';
import { maskSpread } from '../ops/mask-stats.js';
import { boxMix, maskedBlend, maskMix, mixup } from '../ops/blend.js';
import { mean } from '../ops/reduce.js';
import { detach } from '../ops/shape.js';
import type { Network } from '../models/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../util/rng.js';
import { boxAround, boxLambda, cutmixBox, fmixMask, resizeMixHost, saliencyPeak } from './baseline-sampling.js';
import type { MixBlock } from '../nn/mix-block.js';
import type { Method, TrainConfig } from './config.js';

/** A batch on the host: images [N, C, H, W] and labels [N]. */
export interface HostBatch {
  x: Float32Array;
  y: Int32Array;
  shape: readonly [number, number, number, number];
}

/** One host array of a draw and the shape its tensor takes on the GPU (Int32Array → i32, else f32). */
export interface DrawnInput {
  data: Float32Array | Int32Array;
  shape: readonly number[];
}

/** What the host draws for one step. */
export interface StepDraw {
  /** Values and shapes of the step's input tensors (besides `x` and `y`), by name. */
  inputs: Record<string, DrawnInput>;
  /** Steps of one variant have the same GPU work (one captured plan each). */
  variant: string;
  /** Numbers known on the host to report (λ). */
  stats: Record<string, number>;
}

/** The step's input tensors: `x` (f32 [N,C,H,W]), `y` (i32 [N]) and the draw's, by name. */
export type StepTensors = Record<string, Tensor>;

export interface StepLosses {
  terms: Record<string, Tensor>;
  /** Scalars to report that live on the GPU (the Mix Block's mask mean). */
  stats: Record<string, Tensor>;
}

export interface MethodStep {
  readonly method: Method;
  draw(batch: HostBatch, rng: Rng): StepDraw;
  /** The GPU half. `draw` is the host half of the same step (read only for values a replay may not need). */
  losses(inputs: StepTensors, draw: StepDraw): StepLosses;
}

/** A 1-D input. */
const vector = (data: Float32Array | Int32Array): DrawnInput => ({ data, shape: [data.length] });
/** A 1-D f32 input of n copies of v. */
const filled = (n: number, v: number): DrawnInput => vector(new Float32Array(n).fill(v));
const permuted = (y: Int32Array, perm: Int32Array) => Int32Array.from(perm, (p) => y[p]!);

function need(inputs: StepTensors, name: string): Tensor {
  const t = inputs[name];
  if (!t) throw new Error(`step input '${name}' is missing (the draw did not produce it)`);
  return t;
}

export function vanillaMethod(net: Network): MethodStep {
  return {
    method: 'none',
    draw: () => ({ inputs: {}, variant: 'none', stats: {} }),
    losses: (inp) => ({ terms: { loss: crossEntropy(net.logits(need(inp, 'x')), need(inp, 'y')) }, stats: {} }),
  };
}

/** Mixup, CutMix, ManifoldMix, FMix, ResizeMix, SaliencyMix. */
export function baselineMethod(net: Network, cfg: Pick<TrainConfig, 'method' | 'alpha'>): MethodStep {
  const method = cfg.method;
  if (method === 'none' || method === 'automix') throw new Error(`baselineMethod: ${method} is not a baseline`);
  return {
    method,
    draw(batch, rng) {
      const [N, C, H, W] = batch.shape;
      const perm = rng.permutation(N);
      let lam = rng.beta(cfg.alpha, cfg.alpha);
      const inputs: StepDraw['inputs'] = { perm: vector(perm), yb: vector(permuted(batch.y, perm)) };
      let variant: string = method;
      switch (method) {
        case 'mixup':
          inputs['lam'] = filled(1, lam);
          break;
        case 'cutmix': {
          const box = cutmixBox(rng, H, W, lam);
          lam = boxLambda(box, H, W);
          inputs['box'] = vector(Int32Array.of(box.y0, box.x0, box.y1, box.x1));
          break;
        }
        case 'saliencymix': {
          // One saliency map, of x[π[0]], places the box for the whole batch (docs/method.md).
          const img = batch.x.subarray(perm[0]! * C * H * W, (perm[0]! + 1) * C * H * W);
          const peak = saliencyPeak(img, C, H, W);
          const cut = Math.sqrt(1 - lam);
          const box = boxAround(peak.y, peak.x, Math.floor(H * cut), Math.floor(W * cut), H, W);
          lam = boxLambda(box, H, W);
          inputs['box'] = vector(Int32Array.of(box.y0, box.x0, box.y1, box.x1));
          break;
        }
        case 'fmix':
          inputs['mask'] = { data: fmixMask(rng, H, W, lam), shape: [H, W] };
          break;
        case 'resizemix': {
          const r = resizeMixHost(rng, batch.x, perm, N, C, H, W, cfg.alpha);
          lam = r.lam;
          inputs['xmix'] = { data: r.out, shape: batch.shape };
          break;
        }
        case 'manifoldmix': {
          inputs['lam'] = filled(1, lam);
          variant = `manifoldmix@${rng.int(3)}`; // mix the input (0) or the output of stage 1 or 2
          break;
        }
      }
      inputs['lam_n'] = filled(N, lam);
      return { inputs, variant, stats: { lam } };
    },
    losses(inp, d) {
      const x = need(inp, 'x');
      const perm = need(inp, 'perm');
      let logits: Tensor;
      switch (method) {
        case 'mixup':
          logits = net.logits(mixup(x, perm, need(inp, 'lam')));
          break;
        case 'cutmix':
        case 'saliencymix':
          logits = net.logits(boxMix(x, perm, need(inp, 'box')));
          break;
        case 'fmix':
          logits = net.logits(maskMix(x, need(inp, 'mask'), perm));
          break;
        case 'resizemix':
          logits = net.logits(need(inp, 'xmix'));
          break;
        case 'manifoldmix': {
          const after = Number(d.variant.split('@')[1]);
          const lam = need(inp, 'lam');
          logits = net.logits(x, undefined, { mixAt: { after, fn: (h) => mixup(h, perm, lam) } });
          break;
        }
      }
      return { terms: { loss: mixedCrossEntropy(logits, need(inp, 'y'), need(inp, 'yb'), need(inp, 'lam_n')) }, stats: {} };
    },
  };
}

/** State AutoMix keeps between iterations. */
export interface AutoMixState {
  /** Online network f_q with heads head_mix and head_one. */
  online: Network;
  /** Momentum (EMA) network f_k, parameters frozen, BN in train mode. */
  momentum: Network;
  mixBlock: MixBlock;
  /** Stage whose output the Mix Block reads (3 = layer3, the reference's mask_layer=2). */
  maskStage: number;
}

/** |v| for a scalar tensor, from relu(v) + relu(−v). */
function absScalar(v: Tensor): Tensor {
  return add(relu(v), relu(affine(v, -1)));
}

/** λ near 0 or 1 (outside [0.08, 0.92]): the backbone's batch falls back to plain Mixup. */
export function inLambdaMargin(lam: number): boolean {
  return lam <= 0.08 || lam >= 0.92;
}

/**
 * The bi-level AutoMix iteration in the order of docs/method.md (the
 * optimiser step and the EMA update are `TrainingRun`'s).
 */
export function automixMethod(st: AutoMixState, cfg: Pick<TrainConfig, 'alpha'>): MethodStep {
  return {
    method: 'automix',
    draw(batch, rng) {
      const N = batch.shape[0];
      // Two independent (λ, π) draws, α = 2: one for the Mix Block's loss, one for the backbone's.
      const lamMb = rng.beta(cfg.alpha, cfg.alpha);
      const lamBb = rng.beta(cfg.alpha, cfg.alpha);
      const permMb = rng.permutation(N);
      const permBb = rng.permutation(N);
      const margin = inLambdaMargin(lamBb);
      return {
        inputs: {
          perm_mb: vector(permMb),
          perm_bb: vector(permBb),
          y_mb: vector(permuted(batch.y, permMb)),
          y_bb: vector(permuted(batch.y, permBb)),
          lam_mb: filled(1, lamMb),
          lam_mb_n: filled(N, lamMb),
          lam_bb_n: filled(N, lamBb),
          // The backbone's mask is m·keep + fill: the Mix Block's mask, or the constant 1 − λ.
          keep_bb: filled(1, margin ? 0 : 1),
          fill_bb: filled(1, margin ? 1 - lamBb : 0),
        },
        variant: 'automix',
        stats: { lam_mb: lamMb, lam_bb: lamBb },
      };
    },
    losses(inp, d) {
      const engine: Engine = st.online.engine;
      const x = need(inp, 'x');
      const y = need(inp, 'y');
      const H = x.shape[2]!;
      const permMb = need(inp, 'perm_mb');
      const permBb = need(inp, 'perm_bb');
      // Stage-3 features of the momentum encoder (no gradient: its parameters are frozen).
      const z = engine.noGrad(() => st.momentum.backbone.forward(x, { stopAfter: st.maskStage }));
      // The Mix Block twice: with gradient for its own loss, detached for the backbone.
      // (λ reaches the Mix Block only with lamConcat, as a uniform: such steps are not replayed.)
      const maskMb = st.mixBlock.mask(z, permMb, d.stats['lam_mb']!, H);
      const maskBb = engine.noGrad(() => {
        const m = st.mixBlock.mask(z, permBb, d.stats['lam_bb']!, H);
        return add(mul(m, need(inp, 'keep_bb')), need(inp, 'fill_bb'));
      });
      // L_mask = 0.1·max(|mean(m_a) − λ_mb| − 0.1, 0), with mean(m_a) = 1 − mean(m_b).
      const meanMb = mean(maskMb);
      const dev = sub(affine(meanMb, -1, 1), need(inp, 'lam_mb'));
      const lossMask = affine(relu(affine(absScalar(dev), 1, -0.1)), 0.1);
      // The two mixed batches.
      const xMb = maskedBlend(x, maskMb, permMb);
      const xBb = engine.noGrad(() => maskedBlend(x, maskBb, permBb));
      // L_mix_k through the frozen momentum network: trains only the Mix Block.
      const lossMixK = mixedCrossEntropy(st.momentum.logits(xMb, 'head_mix'), y, need(inp, 'y_mb'), need(inp, 'lam_mb_n'));
      // Online network: clean and mixed batches as two separate forward calls.
      const lossOneQ = crossEntropy(st.online.logits(x, 'head_one'), y);
      const lossMixQ = mixedCrossEntropy(st.online.logits(xBb, 'head_mix'), y, need(inp, 'y_bb'), need(inp, 'lam_bb_n'));
      // How spatial the masks are: each mask's standard deviation over positions — mean, min, max over the batch.
      const spread = maskSpread(detach(maskMb));
      const at = (i: number) => engine._view(spread, [], i);
      return {
        terms: { L_mix_q: lossMixQ, L_one_q: lossOneQ, L_mix_k: lossMixK, L_mask: lossMask },
        stats: { mask_mean: detach(meanMb), mask_std: at(0), mask_std_min: at(1), mask_std_max: at(2) },
      };
    },
  };
}

// ---- eager one-call forms (tests, ad-hoc code) ---------------------------------

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

/** Draws on the host, uploads the draw (tensors owned by the enclosing scope) and runs the losses eagerly. */
export function runStepEagerly(m: MethodStep, s: StepInput): StepOutput {
  const shape = s.x.shape as unknown as [number, number, number, number];
  const d = m.draw({ x: s.xHost, y: s.yHost, shape }, s.rng);
  const inputs: StepTensors = { x: s.x, y: s.y };
  for (const [k, v] of Object.entries(d.inputs)) {
    inputs[k] = s.engine.tensor(v.data, v.shape, { dtype: v.data instanceof Int32Array ? 'i32' : 'f32' });
  }
  const out = m.losses(inputs, d);
  return { terms: out.terms, stats: { ...out.stats, ...d.stats } };
}

export function vanillaStep(net: Network, s: StepInput): StepOutput {
  return runStepEagerly(vanillaMethod(net), s);
}

export function baselineStep(net: Network, s: StepInput): StepOutput {
  return runStepEagerly(baselineMethod(net, s.cfg), s);
}

export function automixStep(st: AutoMixState, s: StepInput): StepOutput {
  return runStepEagerly(automixMethod(st, s.cfg), s);
}
