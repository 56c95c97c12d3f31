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
import { buildModel, type ModelSpec, type Network } from '../models/index.js';
import { add, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { SGD, automixMomentum, cosineLr, emaUpdate, scaledEmaStart } from '../optim/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';
import { ConfigError, type TrainConfig } from './config.js';
import { decodeTensorFile, type EpochTally, encodeTensorMap, loadRunState, readTensors, saveCheckpoint, type TensorMap } from './checkpoint.js';
import { loadData, type Datasets } from './data.js';
import { MixBlock } from './mix-block.js';
import { evaluate, evaluateHeads } from './evaluate.js';

export { evaluate };
import { automixStep, baselineStep, type StepInput, type StepOutput, vanillaStep, type AutoMixState } from './steps.js';

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
  lam_mean?: number;
  ema_momentum?: number;
}

export interface TrainResult {
  config: TrainConfig;
  adapter: Engine['info'];
  epochs: EpochRecord[];
  final: {
    test_acc: number;
    median_last10: number;
    head: string;
    /**
     * The reference's summary (tools/summary/find_automix_val_median.py, spec note 11):
     * the median of the last 10 epochs of every head, and the best of those medians.
     */
    median_last10_heads: Record<string, number>;
    best_head_median_last10: { head: string; acc: number };
  };
}

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

export interface TrainHooks {
  /** Called after every step with running numbers (progress display). */
  onStep?: (info: { epoch: number; index: number; steps: number; loss: number; imagesPerS: number }) => void;
  onEpoch?: (r: EpochRecord) => void;
  log?: (msg: string) => void;
  /** Set to request a clean stop (SIGINT): a checkpoint is written first. */
  stopRequested?: () => boolean;
}

interface Run {
  engine: Engine;
  cfg: TrainConfig;
  data: Datasets;
  online: Network;
  automix: AutoMixState | null;
  sgd: SGD;
}

function modelSpec(cfg: TrainConfig, data: Datasets): ModelSpec {
  return {
    model: cfg.model,
    width: cfg.width,
    inChannels: data.train.c,
    imageSize: data.train.h,
    numClasses: data.train.numClasses,
    heads: cfg.method === 'automix' ? ['head_mix', 'head_one'] : ['fc'],
  };
}

function setup(engine: Engine, cfg: TrainConfig, data: Datasets): Run {
  const spec = modelSpec(cfg, data);
  const online = buildModel(engine, spec, cfg.seed, 'online');
  let automix: AutoMixState | null = null;
  const groups = [{ params: online.params, lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay }];
  if (cfg.method === 'automix') {
    // Same spec and seed: f_k starts as an exact copy of f_q (spec §1).
    const momentum = buildModel(engine, spec, cfg.seed, 'momentum');
    momentum.params.setRequiresGrad(false);
    const maskStage = 3;
    const mixBlock = new MixBlock(engine, online.backbone.stageChannels[maskStage - 1]!, cfg.seed + 1, {
      lamConcat: data.train.h > 64,
      upsampleMode: 'nearest',
    });
    automix = { online, momentum, mixBlock, maskStage };
    // One optimiser, the Mix Block in the same schedule as the backbone (CIFAR recipe).
    groups.push({ params: mixBlock.params, lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
  }
  return { engine, cfg, data, online, automix, sgd: new SGD(groups) };
}

/** Every tensor of the run state, by checkpoint name. */
function stateTensors(run: Run): Record<string, Tensor> {
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
  for (const [k, v] of Object.entries(run.sgd.stateTensors())) out[`optimizer.${k}`] = v;
  return out;
}

function loadState(run: Run, m: TensorMap, file: string): void {
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
  run.sgd.loadState(take('optimizer.'));
}

/** Writes the online network alone, under PyTorch's names (for torch / `automix eval`). */
export async function saveModel(run: Run, file: string): Promise<void> {
  const named: Record<string, Tensor> = {};
  run.online.params.params.forEach((p, i) => (named[run.online.params.names[i]!] = p));
  run.online.buffers.tensors.forEach((b, i) => (named[run.online.buffers.names[i]!] = b));
  const m = await readTensors(named);
  const shapes = new Map(Object.entries(named).map(([k, t]) => [k, t.shape]));
  await writeFileAtomic(file, encodeTensorMap(m, shapes, { format: 'pt', automix_model: JSON.stringify(run.online.spec) }));
}


/** t ← s·t (through a temporary: a kernel may not read and write one buffer). */
function scaleInPlace(engine: Engine, t: Tensor, s: number): void {
  const tmp = engine.empty(t.shape);
  engine.run('elementwise', 'affine', { bind: { a: t, out: tmp }, params: { n: t.size, alpha: s, beta: 0 }, workgroups: Math.ceil(t.size / 256) });
  engine.copyBuffer(tmp, t);
  tmp.dispose();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The settings that shape the trained weights: a resumed run must keep them. */
const RUN_DEFINING = [
  'data', 'model', 'width', 'method', 'alpha', 'epochs', 'batchSize', 'lr', 'minLr', 'momentum',
  'weightDecay', 'seed', 'limitTrain', 'augment', 'clipGrad', 'emaMomentum',
] as const satisfies readonly (keyof TrainConfig)[];

/**
 * Refuses to resume with settings that differ from those the run was started with
 * (a different --epochs would silently change the LR schedule, a different seed the
 * data order). Keys absent from an older state file are not checked.
 */
export function checkResumeConfig(saved: Record<string, unknown>, cfg: TrainConfig, file: string): void {
  const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  const diffs: string[] = [];
  for (const k of RUN_DEFINING) {
    if (!(k in saved)) continue;
    if (k === 'emaMomentum' && cfg.method !== 'automix') continue; // no momentum network
    if (saved[k] !== cfg[k]) {
      diffs.push(k === 'augment' ? `--no-augment was ${saved[k] ? 'off' : 'on'}, now ${cfg[k] ? 'off' : 'on'}` : `${flag(k)} was ${String(saved[k])}, now ${String(cfg[k])}`);
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
  const run = setup(engine, cfg, data);
  const { train: ds } = data;
  const loader = new BatchLoader(ds, {
    batchSize: cfg.batchSize,
    seed: cfg.seed,
    augment: cfg.augment ? { cropPadding: ds.h >= 32 ? 4 : 2, flip: true } : {},
    dropLast: ds.n >= cfg.batchSize,
  });
  const perEpoch = loader.batchesPerEpoch;
  const totalSteps = perEpoch * cfg.epochs;
  const emaStart = cfg.emaMomentum === 'auto' ? scaledEmaStart(totalSteps) : cfg.emaMomentum;
  if (run.automix) log(`momentum network: EMA from ${+emaStart.toFixed(6)}${cfg.emaMomentum === 'auto' ? ` (auto: 1 − 200/${totalSteps} iterations, at most 0.999)` : ''} to 0.999999`);
  let epoch0 = 0;
  let index0 = 0;
  let step = 0;
  const history: EpochRecord[] = [];
  let resumedTally: EpochTally | undefined;
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
  const xT = engine.empty([B, ds.c, ds.h, ds.w], 'f32', 'batch.x');
  const yT = engine.empty([B], 'i32', 'batch.y');
  const reportHead = run.automix ? 'head_one' : 'fc';

  const checkpoint = async (nextEpoch: number, nextIndex: number, partial?: EpochTally) => {
    const named = stateTensors(run);
    const m = await readTensors(named);
    const shapes = new Map(Object.entries(named).map(([k, t]) => [k, t.shape]));
    const bytes = encodeTensorMap(m, shapes, { config: JSON.stringify(cfg), step: String(step) });
    const state = { epoch: nextEpoch, index: nextIndex, step, config: { ...cfg }, epochs: history, ...(partial ? { partial } : {}) };
    return saveCheckpoint(cfg.out, step, bytes, state, cfg.keepCheckpoints);
  };

  try {
    for (let epoch = epoch0; epoch < cfg.epochs; epoch++) {
      const lr = cosineLr(epoch, cfg.epochs, cfg.lr, cfg.minLr);
      run.sgd.setLr(0, lr);
      if (run.automix) run.sgd.setLr(1, lr);
      // An epoch resumed mid-way continues the tallies its checkpoint saved.
      const tally: EpochTally = epoch === epoch0 && resumedTally
        ? structuredClone(resumedTally)
        : { seconds: 0, lossSum: 0, seen: 0, steps: 0, sums: {}, maskSum: 0, lamSum: 0, emaM: 0 };
      if (!tally.adapters?.includes(adapterName)) tally.adapters = [...(tally.adapters ?? []), adapterName];
      const t0 = performance.now() - tally.seconds * 1000;
      const tallyNow = (): EpochTally => ({ ...tally, seconds: (performance.now() - t0) / 1000 });
      for await (const batch of loader.batches(epoch, epoch === epoch0 ? index0 : 0)) {
        if (batch.n !== B) continue;
        let xData = batch.x;
        if (step === cfg.injectNanAtStep) xData = new Float32Array(batch.x.length).fill(Number.NaN);
        if (step === cfg.injectDeviceLossAtStep) engine.ctx.device.destroy();
        if (step === cfg.injectOomAtStep) engine.ctx._injectError('GPUOutOfMemoryError', 'Out of memory (simulated by --inject-oom-at-step)');
        xT.write(xData);
        yT.write(batch.y);
        const rng = Rng.fromKeys(cfg.seed, step, 0x5eed);
        const input: StepInput = { engine, x: xT, xHost: batch.x, y: yT, yHost: batch.y, rng, cfg };
        // Run the step up to the losses, read them (4 floats), then decide.
        const values = await engine.asyncScope(async () => {
          run.online.params.zeroGrad();
          run.automix?.mixBlock.params.zeroGrad();
          const out: StepOutput = run.automix ? automixStep(run.automix, input) : cfg.method === 'none' ? vanillaStep(run.online, input) : baselineStep(run.online, input);
          const names = Object.keys(out.terms);
          let total = out.terms[names[0]!]!;
          for (const n of names.slice(1)) total = add(total, out.terms[n]!);
          total.backward();
          // One readback for all loss terms and tensor stats (each read waits for the GPU).
          const statNames = Object.keys(out.stats);
          const gradSets = [run.online.params, ...(run.automix ? [run.automix.mixBlock.params] : [])];
          // Global gradient norm² (padding in the arenas is zero), read with the losses.
          const gradSq = cfg.clipGrad > 0 ? gradSets.map((p) => sum(mul(p.gradFlat, p.gradFlat))).reduce((a, b) => add(a, b)) : null;
          const gpuScalars = [
            ...names.map((n) => out.terms[n]!),
            ...statNames.map((k) => out.stats[k]!).filter((v): v is Tensor => typeof v !== 'number'),
            ...(gradSq ? [gradSq] : []),
          ];
          const packed = engine.empty([gpuScalars.length]);
          gpuScalars.forEach((t, i) => engine.copyBuffer(t, packed, 4, 0, i * 4));
          const vals = await packed.read();
          const host: Record<string, number> = {};
          names.forEach((n, i) => (host[n] = vals[i]!));
          let j = names.length;
          for (const k of statNames) {
            const v = out.stats[k]!;
            host[`stat:${k}`] = typeof v === 'number' ? v : vals[j++]!;
          }
          const bad = names.filter((n) => !Number.isFinite(host[n]!));
          if (gradSq) {
            const norm = Math.sqrt(vals[vals.length - 1]!);
            host['stat:grad_norm'] = norm;
            if (!Number.isFinite(norm)) bad.push('gradient norm');
            else if (norm > cfg.clipGrad) for (const p of gradSets) scaleInPlace(engine, p.gradFlat, cfg.clipGrad / (norm + 1e-6));
          }
          if (bad.length === 0) {
            run.sgd.step();
            if (run.automix) {
              tally.emaM = automixMomentum(step, totalSteps, emaStart);
              emaUpdate(run.automix.momentum.params, run.online.params, tally.emaM);
            }
          }
          return { host, bad, names };
        });
        if (values.bad.length) {
          const msg = `non-finite loss at epoch ${epoch + 1}, step ${step}: ${values.bad.map((n) => `${n} = ${values.host[n]}`).join(', ')}`;
          if (cfg.onNonFinite === 'stop') throw new NonFiniteLossError(`${msg}; stopping (the last checkpoint in ${cfg.out} is intact; use --on-nonfinite skip to skip such steps)`);
          log(`${msg}; step skipped`);
          step++;
          continue;
        }
        let loss = 0;
        const { sums } = tally;
        for (const n of values.names) {
          sums[n] = (sums[n] ?? 0) + values.host[n]!;
          loss += values.host[n]!;
        }
        if (values.host['stat:grad_norm'] !== undefined) sums['grad_norm'] = (sums['grad_norm'] ?? 0) + values.host['stat:grad_norm']!;
        if (values.host['stat:mask_mean'] !== undefined) {
          tally.maskSum += 1 - values.host['stat:mask_mean']!; // mean of m_a, the weight of x
          tally.lamSum += values.host['stat:lam_mb']!;
        }
        tally.lossSum += loss;
        tally.steps++;
        tally.seen += B;
        step++;
        hooks.onStep?.({ epoch, index: batch.index, steps: perEpoch, loss, imagesPerS: tally.seen / ((performance.now() - t0) / 1000) });
        if (cfg.checkpointEvery && step % cfg.checkpointEvery === 0) await checkpoint(epoch, batch.index + 1, tallyNow());
        if (hooks.stopRequested?.()) {
          await checkpoint(epoch, batch.index + 1, tallyNow());
          throw new Error(`stopped on request after step ${step}; checkpoint written to ${cfg.out} (continue with --resume)`);
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      const { steps, seen, lossSum, sums, maskSum, lamSum, emaM } = tally;
      const accHeads: Record<string, number> = {};
      const tTest = performance.now();
      if (run.automix) {
        // All four heads of spec §1 (k/q × one/mix): the reference's summary reports the best.
        for (const [name, net] of [['momentum', run.automix.momentum], ['online', run.online]] as const) {
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
        rec.lam_mean = lamSum / Math.max(steps, 1);
        rec.ema_momentum = emaM;
      }
      history.push(rec);
      hooks.onEpoch?.(rec);
      await checkpoint(epoch + 1, 0);
      await saveModel(run, join(cfg.out, 'model.safetensors'));
      if (cfg.json) await writeFileAtomic(cfg.json, JSON.stringify(result(engine, cfg, history, reportHead), null, 1));
    }
  } catch (e) {
    if (e instanceof DeviceLostError || e instanceof OutOfMemoryError) {
      e.message += `; the last checkpoint (${join(cfg.out, 'state.json')}) is intact: rerun with --resume to continue from it`;
    }
    throw e;
  } finally {
    xT.dispose();
    yT.dispose();
    run.online.dispose();
    run.automix?.momentum.dispose();
    run.automix?.mixBlock.dispose();
    run.sgd.dispose();
  }
  const r = result(engine, cfg, history, reportHead);
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

function result(engine: Engine, cfg: TrainConfig, history: EpochRecord[], head: string): TrainResult {
  const accs = history.map((h) => h.test_acc);
  const medians: Record<string, number> = {};
  for (const k of Object.keys(history.at(-1)?.test_acc_heads ?? {})) {
    const xs = history.slice(-10).map((h) => h.test_acc_heads[k]).filter((v): v is number => v !== undefined);
    medians[k] = median(xs);
  }
  const best = Object.entries(medians).reduce<{ head: string; acc: number } | null>((b, [h, a]) => (b === null || a > b.acc ? { head: h, acc: a } : b), null) ?? { head: '', acc: Number.NaN };
  return {
    config: cfg,
    adapter: engine.info,
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

