/** Training configuration: defaults, and validation with messages that name the flag. */
import { MODELS } from '../models/index.js';

export const METHODS = ['none', 'mixup', 'cutmix', 'manifoldmix', 'fmix', 'resizemix', 'saliencymix', 'automix'] as const;
export type Method = (typeof METHODS)[number];

/** Beta(α, α) defaults for each method (docs/method.md §7, CIFAR column). */
export const DEFAULT_ALPHA: Record<Method, number> = {
  none: 0,
  mixup: 1,
  cutmix: 0.2,
  manifoldmix: 2,
  fmix: 0.2,
  resizemix: 1,
  saliencymix: 0.2,
  automix: 2,
};

export interface TrainConfig {
  data: string;
  model: (typeof MODELS)[number];
  width: number;
  method: Method;
  alpha: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Cosine floor: 0.05 for AutoMix's CIFAR recipe, 0 for the baselines (docs/method.md §5). */
  minLr: number;
  momentum: number;
  weightDecay: number;
  seed: number;
  limitTrain: number;
  limitTest: number;
  out: string;
  resume: boolean;
  /**
   * Start over in an --out that already holds a run: its state.json, checkpoints and
   * model.safetensors are removed first. Without it (or --resume) such a directory is refused.
   */
  force?: boolean;
  json: string | null;
  /** Also checkpoint every N steps (0: only at epoch ends). */
  checkpointEvery: number;
  /** Keep the last K periodic checkpoints. */
  keepCheckpoints: number;
  /** What to do when a loss goes non-finite: stop the run, or skip the step. */
  onNonFinite: 'stop' | 'skip';
  /** Clip the global gradient norm to this value (0: off). */
  clipGrad: number;
  /**
   * AutoMix's EMA coefficient at the start of training, held for the first 10 % of iterations,
   * then a cosine in k/K up to 0.999999 (docs/method.md §3). 'auto' (default): `scaledEmaStart(K)`, the
   * reference's 0.999 for runs as long as its own and proportionally less for shorter ones
   * (with 0.999 the momentum network averages over ≈ 1 000 iterations — more than a short run has).
   */
  emaMomentum: number | 'auto';
  /**
   * Time every kernel of this training step (0-based, counted over the whole run) with timestamp
   * queries and log its GPU time by kernel (and record it in --json). Pick a step past the warm-up,
   * the two captures and any tuning — e.g. 20 — to see the steady state. Unset: no profile.
   * (That step runs its kernels one pass each and waits for their times: it is slower than the
   * others, and its time counts in its epoch's images/s.)
   */
  profileStep?: number;
  /** Test hook: poison the input of this step with NaN (robustness tests). */
  injectNanAtStep: number;
  /** Test hook: destroy the GPU device at this step (robustness tests). */
  injectDeviceLossAtStep: number;
  /** Test hook: report a GPU out-of-memory error at this step. */
  injectOomAtStep: number;
  augment: boolean;
  /**
   * 'auto' (default): each step's GPU work is captured after a warm-up step and replayed (the
   * same bits, a fraction of the host time); 'off': every step runs eagerly (debugging).
   */
  replay?: 'auto' | 'off';
  /**
   * Kernel autotuning (src/tune/): 'off' (the static rule), 'cached' (the default: tuned choices
   * from the cache file, else the static rule), 'full' (tune each new shape on first use). Unset:
   * the AUTOMIX_TUNE environment variable, else 'cached'. Does not shape the weights beyond the
   * tuner's stated tolerance, so --resume does not check it.
   */
  tune?: 'off' | 'cached' | 'full';
  verbose: boolean;
}

export function defaultConfig(method: Method = 'automix'): TrainConfig {
  return {
    data: 'fashion-mnist',
    model: 'resnet18',
    width: 0.25,
    method,
    alpha: DEFAULT_ALPHA[method],
    epochs: 10,
    batchSize: 100,
    lr: 0.1,
    minLr: method === 'automix' ? 0.05 : 0,
    momentum: 0.9,
    weightDecay: 1e-4,
    seed: 0,
    limitTrain: 0,
    limitTest: 0,
    out: 'runs/latest',
    resume: false,
    force: false,
    json: null,
    checkpointEvery: 0,
    keepCheckpoints: 2,
    onNonFinite: 'stop',
    clipGrad: 0,
    emaMomentum: 'auto',
    injectNanAtStep: -1,
    injectDeviceLossAtStep: -1,
    injectOomAtStep: -1,
    augment: true,
    verbose: false,
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function validateConfig(c: TrainConfig): TrainConfig {
  const bad = (flag: string, why: string): never => {
    throw new ConfigError(`--${flag}: ${why}`);
  };
  if (!(MODELS as readonly string[]).includes(c.model)) bad('model', `unknown model '${c.model}' (choose ${MODELS.join(', ')})`);
  if (!(METHODS as readonly string[]).includes(c.method)) bad('method', `unknown method '${c.method}' (choose ${METHODS.join(', ')})`);
  const pos = (flag: string, v: number, int = false) => {
    if (!Number.isFinite(v) || v <= 0 || (int && !Number.isInteger(v))) bad(flag, `must be a positive ${int ? 'integer' : 'number'}, got ${v}`);
  };
  pos('epochs', c.epochs, true);
  pos('batch-size', c.batchSize, true);
  if (c.batchSize > 4096) bad('batch-size', `at most 4096, got ${c.batchSize}`);
  pos('lr', c.lr);
  pos('width', c.width);
  if (c.width > 4) bad('width', `at most 4, got ${c.width}`);
  if (!(c.minLr >= 0 && c.minLr <= c.lr)) bad('min-lr', `must be in [0, lr], got ${c.minLr}`);
  if (!(c.momentum >= 0 && c.momentum < 1)) bad('momentum', `must be in [0, 1), got ${c.momentum}`);
  if (!(c.weightDecay >= 0)) bad('weight-decay', `must be ≥ 0, got ${c.weightDecay}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) bad('seed', `must be a non-negative integer, got ${c.seed}`);
  for (const [f, v] of [
    ['limit-train', c.limitTrain],
    ['limit-test', c.limitTest],
    ['checkpoint-every', c.checkpointEvery],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) bad(f, `must be a non-negative integer, got ${v}`);
  }
  if (c.profileStep !== undefined && !(Number.isInteger(c.profileStep) && c.profileStep >= 0))
    bad('profile-step', `must be a non-negative integer (a step number, 0-based), got ${c.profileStep}`);
  if (!Number.isInteger(c.keepCheckpoints) || c.keepCheckpoints < 1) bad('keep-checkpoints', `must be ≥ 1, got ${c.keepCheckpoints}`);
  if (c.method !== 'none' && !(c.alpha > 0)) bad('alpha', `must be > 0 for ${c.method}, got ${c.alpha}`);
  if (!(c.clipGrad >= 0)) bad('clip-grad', `must be ≥ 0, got ${c.clipGrad}`);
  if (c.emaMomentum !== 'auto' && !(c.emaMomentum >= 0 && c.emaMomentum <= 0.999999))
    bad('ema-momentum', `must be auto or in [0, 0.999999], got ${c.emaMomentum}`);
  if (c.onNonFinite !== 'stop' && c.onNonFinite !== 'skip') bad('on-nonfinite', `must be stop or skip, got ${c.onNonFinite}`);
  if (c.resume && c.force)
    bad('force', 'and --resume contradict each other: --resume continues the run in --out, --force deletes it and starts over; give one');
  return c;
}
