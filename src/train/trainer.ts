/**
 * The training loop shared by every method: data, model(s), SGD with a
 * per-epoch cosine LR, the method's step, EMA for AutoMix, evaluation,
 * checkpoints (periodic and per epoch, atomic), exact resume, and a JSON
 * record of the run.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BatchLoader } from '../data/loader.js';
import { DeviceLostError, OutOfMemoryError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Network } from '../models/index.js';
import { automixMomentum, cosineLr, scaledEmaStart } from '../optim/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ConfigError, type TrainConfig } from './config.js';
import { decodeTensorFile, type EpochTally, encodeTensorMap, loadRunState, readTensors, saveCheckpoint, type TensorMap } from './checkpoint.js';
import { loadData } from './data.js';
import { evaluate, evaluateHeads } from './evaluate.js';
import { NonFiniteLossError } from './errors.js';
import { TrainingRun, type StepResult } from './run.js';
import { formatKernelSummary, kernelSummary, type KernelSummary } from '../tune/report.js';
import { formatProfile, type GpuProfile, summariseProfile } from '../device/profile.js';
import { tunerOf } from '../tune/tuner.js';

export { evaluate };

export interface EpochRecord {
  epoch: number;
  lr: number;
  train_loss: number;
  terms: Record<string, number>;
  test_acc: number;
  test_acc_heads: Record<string, number>;
  /** Training seconds of the epoch (a resumed epoch's include the part before the stop). */
  seconds: number;
  images_per_s: number;
  /** Seconds of the epoch's test pass (all heads); absent in records written before it was kept. */
  test_seconds?: number;
  /**
   * The adapters the epoch trained on: one, or several when it was stopped and resumed on
   * another (a checkpoint carried from a CPU to a GPU); `images_per_s` then mixes them.
   */
  adapters?: string[];
  mask_mean?: number;
  /**
   * How spatial the Mix Block's masks are: each mask's standard deviation over its positions,
   * averaged over the batch (`mean`), and the batch's smallest and largest (`min`, `max`) —
   * each averaged over the epoch's steps. 0 for masks that are flat within each image.
   */
  mask_std?: { mean: number; min: number; max: number };
  lam_mean?: number;
  ema_momentum?: number;
}

export interface TrainResult {
  config: TrainConfig;
  adapter: Engine['info'];
  /**
   * The kernels of the training step, as the first epoch of this process ran them: per family,
   * configuration and where the choice came from (src/tune/report.ts), counted in problems.
   */
  kernels?: KernelSummary;
  /** `--profile-step`: that step's GPU time by kernel (timestamp queries; src/device/profile.ts). */
  step_profile?: GpuProfile & { step: number };
  epochs: EpochRecord[];
  final: {
    test_acc: number;
    median_last10: number;
    head: string;
    /**
     * The reference's summary (tools/summary/find_automix_val_median.py, docs/method.md §8):
     * the median of the last 10 epochs of every head, and the best of those medians.
     */
    median_last10_heads: Record<string, number>;
    best_head_median_last10: { head: string; acc: number };
  };
}

export { NonFiniteLossError };

export interface TrainHooks {
  /** Called after every step with running numbers (progress display). */
  onStep?: (info: { epoch: number; index: number; steps: number; loss: number; imagesPerS: number }) => void;
  onEpoch?: (r: EpochRecord) => void;
  log?: (msg: string) => void;
  /** Set to request a clean stop (SIGINT): a checkpoint is written first. */
  stopRequested?: () => boolean;
}

/** Every tensor of the run state, by checkpoint name. */
function stateTensors(run: TrainingRun): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const add2 = (prefix: string, net: Network) => {
    net.params.params.forEach((p, i) => (out[prefix + net.params.names[i]!] = p));
    net.buffers.tensors.forEach((b, i) => (out[prefix + net.buffers.names[i]!] = b));
  };
  add2('', run.online);
  if (run.automix) {
    add2('momentum_encoder.', run.automix.momentum);
    run.automix.mixBlock.params.params.forEach((p, i) => (out[run.automix!.mixBlock.params.names[i]!] = p));
  }
  for (const [k, v] of Object.entries(run.optimizer.stateTensors())) out[`optimizer.${k}`] = v;
  return out;
}

function loadState(run: TrainingRun, m: TensorMap, file: string): void {
  const take = (prefix: string) => {
    const sub = new Map<string, Float32Array>();
    for (const [k, v] of m) if (k.startsWith(prefix)) sub.set(k.slice(prefix.length), v);
    return sub;
  };
  const plain = new Map([...m].filter(([k]) => !k.startsWith('momentum_encoder.') && !k.startsWith('optimizer.') && !k.startsWith('mix_block.')));
  run.online.params.load(plain, file);
  run.online.buffers.load(plain, file);
  if (run.automix) {
    const mk = take('momentum_encoder.');
    run.automix.momentum.params.load(mk, file);
    run.automix.momentum.buffers.load(mk, file);
    run.automix.mixBlock.params.load(m, file);
  }
  run.optimizer.loadState(take('optimizer.'));
}

/** The files a run exports its network(s) to, and which network each holds. */
export const MODEL_FILES = { reported: 'model.safetensors', online: 'model-online.safetensors' } as const;

/**
 * Writes one network under PyTorch's names (for torch / `automix eval`), with its spec and which
 * network it is in the metadata. An AutoMix run reports — and exports as model.safetensors — its
 * momentum network (the one the reference evaluates); its online network goes to model-online.safetensors.
 */
export async function saveNetwork(net: Network, which: 'online' | 'momentum', file: string): Promise<void> {
  const named: Record<string, Tensor> = {};
  net.params.params.forEach((p, i) => (named[net.params.names[i]!] = p));
  net.buffers.tensors.forEach((b, i) => (named[net.buffers.names[i]!] = b));
  const m = await readTensors(named);
  const shapes = new Map(Object.entries(named).map(([k, t]) => [k, t.shape]));
  await writeFileAtomic(file, encodeTensorMap(m, shapes, { format: 'pt', automix_model: JSON.stringify(net.spec), automix_network: which }));
}

/** Exports the run's reported network as model.safetensors (and AutoMix's online one beside it). */
export async function saveModel(run: TrainingRun, dir: string): Promise<void> {
  if (run.automix) {
    await saveNetwork(run.automix.momentum, 'momentum', join(dir, MODEL_FILES.reported));
    await saveNetwork(run.online, 'online', join(dir, MODEL_FILES.online));
  } else await saveNetwork(run.online, 'online', join(dir, MODEL_FILES.reported));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The settings that shape the trained weights: a resumed run must keep them. */
const RUN_DEFINING = [
  'data',
  'model',
  'width',
  'method',
  'alpha',
  'epochs',
  'batchSize',
  'lr',
  'minLr',
  'momentum',
  'weightDecay',
  'seed',
  'limitTrain',
  'augment',
  'clipGrad',
  'emaMomentum',
] as const satisfies readonly (keyof TrainConfig)[];

/**
 * Refuses to resume with settings that differ from those the run was started with
 * (a different --epochs would silently change the LR schedule, a different seed the
 * data order). Keys absent from an older state file are not checked.
 */
export function checkResumeConfig(saved: Record<string, unknown>, cfg: TrainConfig, file: string): void {
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const diffs: string[] = [];
  for (const k of RUN_DEFINING) {
    if (!(k in saved)) continue;
    if (k === 'emaMomentum' && cfg.method !== 'automix') continue; // no momentum network
    if (saved[k] !== cfg[k]) {
      diffs.push(
        k === 'augment'
          ? `--no-augment was ${saved[k] ? 'off' : 'on'}, now ${cfg[k] ? 'off' : 'on'}`
          : `${flag(k)} was ${String(saved[k])}, now ${String(cfg[k])}`,
      );
    }
  }
  if (diffs.length > 0) {
    throw new ConfigError(`--resume: ${file} was started with other settings (${diffs.join('; ')}); resume with the original flags, or train into a new --out`);
  }
}

export async function train(engine: Engine, cfg: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? (() => {});
  const data = await loadData(cfg.data, cfg.limitTrain, cfg.limitTest);
  mkdirSync(cfg.out, { recursive: true });
  const { train: ds } = data;
  const run = new TrainingRun(engine, cfg, { c: ds.c, h: ds.h, w: ds.w, numClasses: ds.numClasses }, { replay: cfg.replay, log });
  const loader = new BatchLoader(ds, {
    batchSize: cfg.batchSize,
    seed: cfg.seed,
    augment: cfg.augment ? { cropPadding: ds.h >= 32 ? 4 : 2, flip: true } : {},
    dropLast: ds.n >= cfg.batchSize,
  });
  const perEpoch = loader.batchesPerEpoch;
  const totalSteps = perEpoch * cfg.epochs;
  const emaStart = cfg.emaMomentum === 'auto' ? scaledEmaStart(totalSteps) : cfg.emaMomentum;
  if (run.automix)
    log(
      `momentum network: EMA from ${+emaStart.toFixed(6)}${cfg.emaMomentum === 'auto' ? ` (auto: 1 − 200/${totalSteps} iterations, at most 0.999)` : ''} to 0.999999`,
    );
  let epoch0 = 0;
  let index0 = 0;
  let step = 0;
  const history: EpochRecord[] = [];
  let resumedTally: EpochTally | undefined;
  // The kernels the step runs: every choice the tuner makes from here to the end of the first epoch's steps.
  const choiceMark = tunerOf(engine).choiceCount;
  let kernels: KernelSummary | undefined;
  const adapterName = adapterLabel(engine.info);
  if (cfg.resume) {
    const st = loadRunState(cfg.out);
    if (st) {
      checkResumeConfig(st.config, cfg, join(cfg.out, 'state.json'));
      const { tensors } = decodeTensorFile(join(cfg.out, st.checkpoint));
      loadState(run, tensors, st.checkpoint);
      ({ epoch: epoch0, index: index0, step } = st);
      resumedTally = index0 > 0 ? st.partial : undefined;
      history.push(...(st.epochs as EpochRecord[]));
      log(`resumed from ${st.checkpoint}: epoch ${epoch0 + 1}, batch ${index0}, step ${step}`);
    } else log(`--resume: no state.json in ${cfg.out}, starting fresh`);
  }
  const B = Math.min(cfg.batchSize, ds.n);
  const batchShape = [B, ds.c, ds.h, ds.w] as const;
  const reportHead = run.automix ? 'head_one' : 'fc';

  const checkpoint = async (nextEpoch: number, nextIndex: number, partial?: EpochTally) => {
    const named = stateTensors(run);
    const m = await readTensors(named);
    const shapes = new Map(Object.entries(named).map(([k, t]) => [k, t.shape]));
    const bytes = encodeTensorMap(m, shapes, { config: JSON.stringify(cfg), step: String(step) });
    const state = { epoch: nextEpoch, index: nextIndex, step, config: { ...cfg }, epochs: history, ...(partial ? { partial } : {}) };
    return saveCheckpoint(cfg.out, step, bytes, state, cfg.keepCheckpoints);
  };

  // --profile-step: that step alone, its kernels timed with timestamp queries.
  let stepProfile: (GpuProfile & { step: number }) | undefined;
  if (cfg.profileStep !== undefined && cfg.profileStep >= totalSteps) {
    log(`--profile-step ${cfg.profileStep}: the run has ${totalSteps} steps (0 to ${totalSteps - 1}); no step will be profiled`);
  } else if (cfg.profileStep !== undefined && cfg.profileStep < step) {
    log(`--profile-step ${cfg.profileStep}: the run resumes at step ${step}, past it; no step will be profiled`);
  }
  type Account = (results: StepResult[]) => void;
  const startStepProfile = async (account: Account): Promise<boolean> => {
    account(await run.results()); // the steps before it leave the GPU first
    if (engine.startProfiling()) return true;
    log(`--profile-step: this adapter has no timestamp queries (the 'timestamp-query' feature); step ${step} is not profiled`);
    return false;
  };
  const endStepProfile = async (s: number, account: Account) => {
    const results = await run.results();
    const timings = await engine.stopProfiling();
    account(results);
    stepProfile = { step: s, ...summariseProfile(timings) };
    log(`profile of step ${s} (${results.find((r) => r.step === s)?.replayed ? 'replayed' : 'eager'}):`);
    for (const line of formatProfile(stepProfile, 12)) log(`  ${line}`);
  };
  let wroteCheckpoint = loadRunState(cfg.out) !== null;
  try {
    for (let epoch = epoch0; epoch < cfg.epochs; epoch++) {
      const lr = cosineLr(epoch, cfg.epochs, cfg.lr, cfg.minLr);
      run.setLr(lr);
      // An epoch resumed mid-way continues the tallies its checkpoint saved.
      const tally: EpochTally =
        epoch === epoch0 && resumedTally
          ? structuredClone(resumedTally)
          : { seconds: 0, lossSum: 0, seen: 0, steps: 0, sums: {}, maskSum: 0, lamSum: 0, emaM: 0 };
      if (!tally.adapters?.includes(adapterName)) tally.adapters = [...(tally.adapters ?? []), adapterName];
      const t0 = performance.now() - tally.seconds * 1000;
      const tallyNow = (): EpochTally => ({ ...tally, seconds: (performance.now() - t0) / 1000 });
      /** Batch index of each step in flight (for progress). */
      const indexOf = new Map<number, number>();
      // A step's losses arrive a step or more after it was submitted; a non-finite one was not applied.
      const account = (results: StepResult[]) => {
        for (const r of results) {
          const index = indexOf.get(r.step) ?? 0;
          indexOf.delete(r.step);
          if (!r.applied) {
            const bad = Object.entries(r.terms)
              .filter(([, v]) => !Number.isFinite(v))
              .map(([n, v]) => `${n} = ${v}`);
            if (r.stats['grad_norm'] !== undefined && !Number.isFinite(r.stats['grad_norm'])) bad.push(`gradient norm = ${r.stats['grad_norm']}`);
            const msg = `non-finite loss at epoch ${epoch + 1}, step ${r.step}: ${bad.join(', ')}`;
            if (cfg.onNonFinite === 'stop') {
              throw new NonFiniteLossError(
                `${msg}; stopping (the update was not applied; ${wroteCheckpoint ? `the last checkpoint in ${cfg.out} is intact` : 'no checkpoint was written yet'}; use --on-nonfinite skip to skip such steps)`,
              );
            }
            log(`${msg}; step skipped`);
            continue;
          }
          let loss = 0;
          const { sums } = tally;
          for (const [n, v] of Object.entries(r.terms)) {
            sums[n] = (sums[n] ?? 0) + v;
            loss += v;
          }
          if (r.stats['grad_norm'] !== undefined) sums['grad_norm'] = (sums['grad_norm'] ?? 0) + r.stats['grad_norm'];
          if (r.stats['mask_mean'] !== undefined) {
            tally.maskSum += 1 - r.stats['mask_mean']; // mean of m_a, the weight of x
            tally.lamSum += r.stats['lam_mb']!;
            const st = (tally.stats ??= {});
            for (const k of ['mask_std', 'mask_std_min', 'mask_std_max']) st[k] = (st[k] ?? 0) + r.stats[k]!;
          }
          tally.lossSum += loss;
          tally.steps++;
          tally.seen += B;
          hooks.onStep?.({ epoch, index, steps: perEpoch, loss, imagesPerS: tally.seen / ((performance.now() - t0) / 1000) });
        }
      };
      const save = async (nextIndex: number) => {
        account(await run.results());
        await checkpoint(epoch, nextIndex, tallyNow());
        wroteCheckpoint = true;
      };
      for await (const batch of loader.batches(epoch, epoch === epoch0 ? index0 : 0)) {
        if (batch.n !== B) continue;
        let xData = batch.x;
        if (step === cfg.injectNanAtStep) xData = new Float32Array(batch.x.length).fill(Number.NaN);
        if (step === cfg.injectDeviceLossAtStep) engine.ctx.device.destroy();
        if (step === cfg.injectOomAtStep) engine.ctx._injectError('GPUOutOfMemoryError', 'Out of memory (simulated by --inject-oom-at-step)');
        if (run.automix) tally.emaM = automixMomentum(step, totalSteps, emaStart);
        indexOf.set(step, batch.index);
        const profiled = step === cfg.profileStep && (await startStepProfile(account));
        run.step({ x: xData, y: batch.y, shape: batchShape }, step, tally.emaM);
        step++;
        if (profiled) await endStepProfile(step - 1, account);
        // Keep one step in flight: the GPU runs it while the host prepares the next.
        account(await run.results(1));
        if (cfg.checkpointEvery && step % cfg.checkpointEvery === 0) await save(batch.index + 1);
        if (hooks.stopRequested?.()) {
          await save(batch.index + 1);
          await saveModel(run, cfg.out);
          throw new Error(`stopped on request after step ${step}; checkpoint written to ${cfg.out} (continue with --resume)`);
        }
      }
      account(await run.results());
      if (!kernels) {
        kernels = kernelSummary(tunerOf(engine).choicesSince(choiceMark));
        const builtIn = Object.values(kernels).every((c) => Object.keys(c).every((k) => k.endsWith('(static)')));
        log(
          `kernels in the training step: ${formatKernelSummary(kernels)}${builtIn && engine.tuneMode !== 'full' && !engine.info.isFallbackAdapter ? ' — the built-in rules; --tune full measures the candidates on this adapter' : ''}`,
        );
      }
      const seconds = (performance.now() - t0) / 1000;
      const { steps, seen, lossSum, sums, maskSum, lamSum, emaM } = tally;
      const accHeads: Record<string, number> = {};
      const tTest = performance.now();
      if (run.automix) {
        // All four heads of docs/method.md §1 (k/q × one/mix): the reference's summary reports the best.
        for (const [name, net] of [
          ['momentum', run.automix.momentum],
          ['online', run.online],
        ] as const) {
          const acc = await evaluateHeads(engine, net, ['head_one', 'head_mix'], data.test, cfg.batchSize);
          for (const [h, a] of Object.entries(acc)) accHeads[`${name}.${h}`] = a;
        }
      } else accHeads['online.fc'] = await evaluate(engine, run.online, 'fc', data.test, cfg.batchSize);
      const testAcc = run.automix ? accHeads['momentum.head_one']! : accHeads['online.fc']!;
      const rec: EpochRecord = {
        epoch: epoch + 1,
        lr,
        train_loss: steps ? lossSum / steps : Number.NaN,
        terms: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(steps, 1)])),
        test_acc: testAcc,
        test_acc_heads: accHeads,
        seconds,
        images_per_s: seen / seconds,
        test_seconds: (performance.now() - tTest) / 1000,
        adapters: tally.adapters,
      };
      if (run.automix) {
        rec.mask_mean = maskSum / Math.max(steps, 1);
        const st = tally.stats ?? {};
        const avg = (k: string) => (st[k] ?? Number.NaN) / Math.max(steps, 1);
        rec.mask_std = { mean: avg('mask_std'), min: avg('mask_std_min'), max: avg('mask_std_max') };
        rec.lam_mean = lamSum / Math.max(steps, 1);
        rec.ema_momentum = emaM;
      }
      history.push(rec);
      hooks.onEpoch?.(rec);
      await checkpoint(epoch + 1, 0);
      wroteCheckpoint = true;
      await saveModel(run, cfg.out);
      if (cfg.json) await writeFileAtomic(cfg.json, JSON.stringify(result(engine, cfg, history, reportHead, { kernels, step_profile: stepProfile }), null, 1));
    }
  } catch (e) {
    if (e instanceof DeviceLostError || e instanceof OutOfMemoryError) {
      e.message += wroteCheckpoint
        ? `; the last checkpoint (${join(cfg.out, 'state.json')}) is intact: rerun with --resume to continue from it`
        : `; no checkpoint was written yet (the run stopped before its first): rerun without --resume`;
    }
    throw e;
  } finally {
    run.dispose();
  }
  const r = result(engine, cfg, history, reportHead, { kernels, step_profile: stepProfile });
  if (cfg.json) await writeFileAtomic(cfg.json, JSON.stringify(r, null, 1));
  return r;
}

/**
 * The adapter as a run record's epochs name it: a GPU by its device id (`nvidia-h100-80gb-hbm3`),
 * a software one by its description, which carries the driver's version (`llvmpipe: Mesa 25.0.7 …`).
 */
export function adapterLabel(info: Engine['info']): string {
  const name = (info.isFallbackAdapter ? info.description || info.device : info.device || info.description) || info.vendor || 'unknown adapter';
  return info.isFallbackAdapter ? `${name} (software)` : name;
}

function result(engine: Engine, cfg: TrainConfig, history: EpochRecord[], head: string, extra: Pick<TrainResult, 'kernels' | 'step_profile'>): TrainResult {
  const accs = history.map((h) => h.test_acc);
  const medians: Record<string, number> = {};
  for (const k of Object.keys(history.at(-1)?.test_acc_heads ?? {})) {
    const xs = history
      .slice(-10)
      .map((h) => h.test_acc_heads[k])
      .filter((v): v is number => v !== undefined);
    medians[k] = median(xs);
  }
  const best = Object.entries(medians).reduce<{ head: string; acc: number } | null>(
    (b, [h, a]) => (b === null || a > b.acc ? { head: h, acc: a } : b),
    null,
  ) ?? { head: '', acc: Number.NaN };
  return {
    config: cfg,
    adapter: engine.info,
    ...(extra.kernels ? { kernels: extra.kernels } : {}),
    ...(extra.step_profile ? { step_profile: extra.step_profile } : {}),
    epochs: history,
    final: {
      test_acc: accs.at(-1) ?? Number.NaN,
      median_last10: accs.length ? median(accs.slice(-10)) : Number.NaN,
      head: cfg.method === 'automix' ? `momentum network, ${head}` : `online network, ${head}`,
      median_last10_heads: medians,
      best_head_median_last10: best,
    },
  };
}
