/**
 * `automix` command line: train, eval, visualize. Bad flags and bad files end
 * with one clear message and a non-zero exit status (stack trace only with
 * --verbose).
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { createEngine } from '../index.js';
import { ConfigError, DEFAULT_ALPHA, defaultConfig, METHODS, type Method, type TrainConfig, validateConfig } from '../train/config.js';
import { train, type EpochRecord } from '../train/trainer.js';
import { checkpointNote, preflight } from '../train/preflight.js';
import { LimitError } from '../device/errors.js';
import { evalCommand, plotCommand, visualizeCommand } from './commands.js';

const HELP = `automix — train image classifiers with AutoMix on WebGPU

Usage:
  automix train [--data fashion-mnist|fashion-mnist:DIR|cifar10:DIR|cifar100:DIR] [--model resnet18|resnext50|vit-tiny]
                [--width W] [--method ${METHODS.join('|')}] [--epochs E] [--batch-size B] [--lr X]
                [--min-lr X] [--alpha A] [--seed S] [--limit-train N] [--limit-test N] [--out DIR] [--resume | --force]
                [--json FILE] [--checkpoint-every N] [--keep-checkpoints K] [--on-nonfinite stop|skip] [--clip-grad G]
                [--ema-momentum auto|M] [--no-augment] [--replay auto|off] [--tune off|cached|full] [--profile-step N] [--verbose]
  automix eval --checkpoint FILE|RUN_DIR [--network momentum|online] [--data ...] [--limit-test N] [--batch-size B] [--dump-logits FILE]
  automix visualize --checkpoint RUN_DIR [--data ...] [--out masks.png] [--pairs N] [--seed S]
  automix plot --json RUN.json [--json RUN2.json ...] [--label NAME ...] [--out curve.png]
  automix COMMAND --help

Defaults: --data fashion-mnist --model resnet18 --width 0.25 --method automix --epochs 10 --batch-size 100
          --lr 0.1 (cosine per epoch to --min-lr: 0.05 for automix, 0 otherwise) --seed 0 --out runs/latest
          --ema-momentum auto (AutoMix's momentum network: the EMA coefficient's start, rising to 0.999999;
          auto = 1 − 200/iterations, capped at the reference's 0.999: the reference's horizon for the run's length)
--profile-step N times every kernel of step N (0-based; e.g. 20, past the warm-up and captures) with timestamp
          queries and logs the step's GPU time by kernel (also in --json as step_profile); that one step runs slower.
An --out that already holds a run is refused: --resume continues it, --force deletes it and starts over.
Exit status: 0 done, 1 error, 2 usage, 130 stopped by Ctrl-C (a checkpoint is written: continue with --resume).`;

/** `automix eval|visualize|plot --help`. */
export const COMMAND_HELP: Record<string, string> = {
  eval: `automix eval — test accuracy of a trained model

Usage: automix eval --checkpoint FILE|RUN_DIR [--network momentum|online] [--data SPEC] [--limit-test N] [--batch-size B] [--dump-logits FILE]

  --checkpoint   a model.safetensors written by automix train, or the run directory holding it (required)
  --network      momentum or online. A run directory gives model.safetensors by default (the run's reported
                 network: AutoMix's momentum one) and AutoMix's model-online.safetensors for online; a file
                 is used as given (its metadata names its network) and must hold the one named
  --data         the dataset to test on (default fashion-mnist); its images must be the model's size
  --limit-test N test on the first N images only (a non-negative integer; 0 = all, the default)
  --batch-size B images per evaluation batch (a positive integer ≤ 4096; default 200)
  --dump-logits  also write the first 16 test images and their logits to FILE (safetensors)`,
  visualize: `automix visualize — draw AutoMix's masks for pairs of test images

Usage: automix visualize --checkpoint RUN_DIR [--data SPEC] [--out masks.png] [--pairs N] [--seed S]

  --checkpoint   the --out directory of an AutoMix training run (or its state.json) (required); the masks
                 come from the momentum encoder and Mix Block of its latest ckpt-*.safetensors, as in training
  --data         the dataset to draw from (default: the run's)
  --out          the PNG to write (default masks.png)
  --pairs N      rows to draw (an integer from 1 to 256, default 8; at most the test set's size)
  --seed S       which test batch (a non-negative integer, default 1)`,
  plot: `automix plot — loss and accuracy per epoch of one or more runs

Usage: automix plot --json RUN.json [--json RUN2.json ...] [--label NAME ...] [--out curve.png]

  --json FILE    a record written by automix train --json (or a run's state.json); repeat for several runs
  --label NAME   the legend's name of each run, one per --json, in order (default: method and seed)
  --out FILE     the PNG to write (default curve.png)`,
};

const TRAIN_FLAGS = {
  data: { type: 'string' },
  model: { type: 'string' },
  width: { type: 'string' },
  method: { type: 'string' },
  alpha: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  'min-lr': { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  seed: { type: 'string' },
  'limit-train': { type: 'string' },
  'limit-test': { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  json: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'keep-checkpoints': { type: 'string' },
  'on-nonfinite': { type: 'string' },
  'clip-grad': { type: 'string' },
  'ema-momentum': { type: 'string' },
  'profile-step': { type: 'string' },
  'inject-nan-at-step': { type: 'string' },
  'inject-device-loss-at-step': { type: 'string' },
  'inject-oom-at-step': { type: 'string' },
  'no-augment': { type: 'boolean' },
  replay: { type: 'string' },
  tune: { type: 'string' },
  force: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function num(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`--${flag}: expected a number, got '${v}'`);
  return n;
}

function tuneFlag(v: string): 'off' | 'cached' | 'full' {
  if (v === 'off' || v === 'cached' || v === 'full') return v;
  throw new ConfigError(`--tune: expected off, cached or full, got '${v}'`);
}

function replayFlag(v: string | undefined): 'auto' | 'off' {
  if (v === undefined || v === 'auto' || v === 'off') return v ?? 'auto';
  throw new ConfigError(`--replay: expected auto or off, got '${v}'`);
}

export function parseTrainArgs(argv: string[]): TrainConfig {
  const { values: v } = parseArgs({ args: argv, options: TRAIN_FLAGS, strict: true, allowPositionals: false });
  const method = (v.method ?? 'automix') as Method;
  if (!(METHODS as readonly string[]).includes(method)) throw new ConfigError(`--method: unknown method '${method}' (choose ${METHODS.join(', ')})`);
  const d = defaultConfig(method);
  return validateConfig({
    ...d,
    data: v.data ?? d.data,
    model: (v.model ?? d.model) as TrainConfig['model'],
    width: num('width', v.width, d.width),
    alpha: num('alpha', v.alpha, DEFAULT_ALPHA[method]),
    epochs: num('epochs', v.epochs, d.epochs),
    batchSize: num('batch-size', v['batch-size'], d.batchSize),
    lr: num('lr', v.lr, d.lr),
    minLr: num('min-lr', v['min-lr'], d.minLr),
    momentum: num('momentum', v.momentum, d.momentum),
    weightDecay: num('weight-decay', v['weight-decay'], d.weightDecay),
    seed: num('seed', v.seed, d.seed),
    limitTrain: num('limit-train', v['limit-train'], 0),
    limitTest: num('limit-test', v['limit-test'], 0),
    out: v.out ?? d.out,
    resume: v.resume ?? false,
    force: v.force ?? false,
    json: v.json ?? null,
    checkpointEvery: num('checkpoint-every', v['checkpoint-every'], 0),
    keepCheckpoints: num('keep-checkpoints', v['keep-checkpoints'], d.keepCheckpoints),
    onNonFinite: (v['on-nonfinite'] ?? 'stop') as TrainConfig['onNonFinite'],
    clipGrad: num('clip-grad', v['clip-grad'], 0),
    emaMomentum: v['ema-momentum'] === undefined ? d.emaMomentum : v['ema-momentum'] === 'auto' ? 'auto' : num('ema-momentum', v['ema-momentum'], 0),
    injectNanAtStep: num('inject-nan-at-step', v['inject-nan-at-step'], -1),
    injectDeviceLossAtStep: num('inject-device-loss-at-step', v['inject-device-loss-at-step'], -1),
    injectOomAtStep: num('inject-oom-at-step', v['inject-oom-at-step'], -1),
    augment: !v['no-augment'],
    replay: replayFlag(v.replay),
    ...(v['profile-step'] !== undefined ? { profileStep: num('profile-step', v['profile-step'], 0) } : {}),
    ...(v.tune !== undefined ? { tune: tuneFlag(v.tune) } : {}),
    verbose: v.verbose ?? false,
  });
}

export function fmtEpoch(r: EpochRecord): string {
  const terms = Object.entries(r.terms)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join('  ');
  const sig = (v: number) => (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : v.toFixed(3));
  const spread = r.mask_std ? `  mask σ ${sig(r.mask_std.mean)} (${sig(r.mask_std.min)}–${sig(r.mask_std.max)})` : '';
  const extra = r.mask_mean !== undefined ? `  mask ${r.mask_mean.toFixed(3)} vs λ ${r.lam_mean!.toFixed(3)}${spread}  ema ${r.ema_momentum!.toFixed(6)}` : '';
  // Only an epoch that moved between adapters says which: its images/s mixes them.
  const moved = r.adapters && r.adapters.length > 1 ? `  (trained on ${r.adapters.join(' + ')})` : '';
  return `epoch ${r.epoch}: loss ${r.train_loss.toFixed(4)} (${terms})  test acc ${(100 * r.test_acc).toFixed(2)}%  ${r.seconds.toFixed(1)} s  ${r.images_per_s.toFixed(1)} img/s${r.test_seconds !== undefined ? `  (test pass ${r.test_seconds.toFixed(1)} s)` : ''}${extra}${moved}`;
}

/** "1h 05m", "7m 09s", "42s": the ETA of plain log lines. */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (v: number) => String(v).padStart(2, '0');
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s % 60)}s`;
  return `${s}s`;
}

/**
 * The progress line printed every 10 s when stdout is not a terminal (nohup,
 * CI logs): the terminal's bar in words, with the time left in this epoch and
 * in the run's training steps at the epoch's rate so far (test passes not
 * included — they are not timed until they run).
 */
export function stepLine(s: { epoch: number; epochs: number; index: number; steps: number; batchSize: number; loss: number; imagesPerS: number }): string {
  const perStep = s.batchSize / s.imagesPerS;
  const leftEpoch = (s.steps - s.index - 1) * perStep;
  const leftRun = leftEpoch + (s.epochs - s.epoch - 1) * s.steps * perStep;
  return (
    `epoch ${s.epoch + 1} step ${s.index + 1}/${s.steps} loss ${s.loss.toFixed(4)} ${s.imagesPerS.toFixed(1)} img/s` +
    ` eta epoch ${fmtDuration(leftEpoch)}, run ${fmtDuration(leftRun)} + test passes`
  );
}

async function trainCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const cfg = parseTrainArgs(argv);
  // Output locations, an existing run in --out, the data against the model: all before the engine.
  await preflight(cfg, (m) => console.log(m));
  const engine = await createEngine(cfg.tune ? { tune: cfg.tune } : {});
  const info = engine.info;
  const notes = [
    info.isFallbackAdapter ? 'software' : '',
    info.compatibilityMode ? `compatibility mode, ${engine.maxWorkgroupSize} invocations per workgroup` : '',
  ].filter(Boolean);
  console.log(`adapter: ${info.vendor} ${info.architecture} ${info.device || info.description}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  console.log(
    `training ${cfg.model} (width ${cfg.width}) with ${cfg.method} on ${cfg.data}, ${cfg.epochs} epochs, batch ${cfg.batchSize}, seed ${cfg.seed} → ${cfg.out}`,
  );
  const tty = process.stdout.isTTY;
  let bar: cliProgress.SingleBar | null = null;
  let stop = false;
  const onSigint = () => {
    if (stop) {
      (bar as cliProgress.SingleBar | null)?.stop();
      console.error(`\naborted by a second Ctrl-C; ${checkpointNote(cfg.out)}`);
      process.exit(130);
    }
    stop = true;
    console.error('\nstopping after this step (a checkpoint is written first; Ctrl-C again to abort)');
  };
  process.on('SIGINT', onSigint);
  let lastPlain = 0;
  try {
    const r = await train(engine, cfg, {
      log: (m) => console.log(m),
      stopRequested: () => stop,
      onStep: ({ epoch, index, steps, loss, imagesPerS }) => {
        if (tty) {
          if (!bar) {
            bar = new cliProgress.SingleBar(
              { format: ' epoch {ep} [{bar}] {value}/{total} | loss {loss} | {ips} img/s | ETA {eta_formatted}', hideCursor: true },
              cliProgress.Presets.shades_classic,
            );
            bar.start(steps, 0, { ep: epoch + 1, loss: '-', ips: '-' });
          }
          bar.update(index + 1, { ep: epoch + 1, loss: loss.toFixed(4), ips: imagesPerS.toFixed(1) });
        } else if (performance.now() - lastPlain > 10_000) {
          lastPlain = performance.now();
          console.log(stepLine({ epoch, epochs: cfg.epochs, index, steps, batchSize: cfg.batchSize, loss, imagesPerS }));
        }
      },
      onEpoch: (rec) => {
        (bar as cliProgress.SingleBar | null)?.stop();
        bar = null;
        console.log(fmtEpoch(rec));
      },
    });
    console.log(
      `final test accuracy ${(100 * r.final.test_acc).toFixed(2)}% (median of last ${Math.min(10, r.epochs.length)} epochs ${(100 * r.final.median_last10).toFixed(2)}%, ${r.final.head})`,
    );
    if (cfg.method === 'automix') {
      const heads = Object.entries(r.final.median_last10_heads)
        .map(([h, a]) => `${h} ${(100 * a).toFixed(2)}%`)
        .join(', ');
      console.log(
        `median of last ${Math.min(10, r.epochs.length)} epochs per head: ${heads}; best (the reference's summary): ${r.final.best_head_median_last10.head}`,
      );
    }
    return 0;
  } catch (e) {
    // The trainer ends a stop on request by throwing this; it is a clean stop, not an error.
    if (stop && e instanceof Error && e.message.startsWith('stopped on request')) {
      (bar as cliProgress.SingleBar | null)?.stop();
      console.log(`\n${e.message}`);
      console.log(`continue with: automix train ${[...argv.filter((a) => a !== '--force'), ...(cfg.resume ? [] : ['--resume'])].map(shellWord).join(' ')}`);
      return 130;
    }
    throw e;
  } finally {
    (bar as cliProgress.SingleBar | null)?.stop();
    process.off('SIGINT', onSigint);
    engine.destroy();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const verbose = rest.includes('--verbose');
  if (cmd && COMMAND_HELP[cmd] && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(COMMAND_HELP[cmd]);
    return 0;
  }
  try {
    switch (cmd) {
      case 'train':
        return await trainCommand(rest);
      case 'eval':
        await evalCommand(rest);
        return 0;
      case 'visualize':
        await visualizeCommand(rest);
        return 0;
      case 'plot':
        await plotCommand(rest);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(HELP);
        return cmd === undefined ? 2 : 0;
      default:
        console.error(`automix: unknown command '${cmd}' (use train, eval, visualize or plot; automix --help)`);
        return 2;
    }
  } catch (e) {
    const err = e as Error;
    if (err instanceof LimitError && err.limit === 'maxStorageBufferBindingSize') err.message += batchSizeHint(err.message, cmd, rest);
    console.error(`automix ${cmd}: ${err.name === 'Error' || (err.name === 'TypeError' && !verbose) ? '' : `${err.name}: `}${err.message}`);
    if (verbose) console.error(err.stack);
    return 1;
  }
}

/** A word of a shell command line, quoted where the shell would split or expand it. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/**
 * What to do about a binding over maxStorageBufferBindingSize: activations grow with the batch,
 * so the batch that fits this binding is the given one scaled by limit/needed (an upper bound:
 * another binding may be the next to overflow).
 */
export function batchSizeHint(message: string, cmd: string | undefined, argv: string[]): string {
  const m = /needs (\d+) bytes, over the adapter's maxStorageBufferBindingSize \((\d+)\)/.exec(message);
  const flag = (() => {
    const i = argv.findIndex((a) => a === '--batch-size' || a.startsWith('--batch-size='));
    if (i < 0) return undefined;
    return argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  })();
  const batch = Number(flag ?? (cmd === 'train' ? 100 : cmd === 'eval' ? 200 : Number.NaN));
  if (!m || !(batch >= 1) || (cmd !== 'train' && cmd !== 'eval')) return '; try a smaller --batch-size';
  const fit = Math.floor((batch * Number(m[2])) / Number(m[1]));
  if (fit >= batch) return '; this buffer does not shrink with the batch: try a smaller --width or model';
  if (fit < 1) return '; even one image per batch is over the limit: try a smaller --width or model';
  return `; a batch of ${batch} is too large for this adapter: at most ${fit} images fit this buffer, so try --batch-size ${fit} or smaller`;
}

const isMain = process.argv[1] && /cli[\\/]main\.(ts|js)$/.test(process.argv[1]);
if (isMain || process.argv[1]?.endsWith('automix.js') || process.argv[1]?.endsWith('automix')) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
