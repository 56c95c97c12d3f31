/**
 * TrainingRun: the state of a training run (online network; for AutoMix the
 * momentum network and the Mix Block; the optimiser) and one call per
 * iteration, `step()`. The CLI trainer, the browser demo, the browser tests
 * and the benchmarks all train through it; it uses no Node built-ins.
 *
 * A step is the method's host draw (steps.ts) uploaded into persistent input
 * tensors, then the device step: losses, backward, the gate (finite losses,
 * clipping factor — kernels/step_gate.wgsl), the optimiser update and, for
 * AutoMix, the EMA of the momentum network. The device step of each variant
 * runs eagerly once (creating lazy state), is then captured twice — both
 * captures are real steps — and, when the two recordings agree, replayed
 * from a `ReplayPlan` for every later step. When they disagree (a per-step
 * value in a uniform, e.g. the Mix Block's λ channel), that variant stays
 * eager and the reason is logged: a replay is never wrong, at worst absent.
 *
 * The step's scalars (loss terms, the mask mean, Σ g²) are copied into a
 * staging buffer and read without waiting: `results()` hands them out a step
 * or more later. A non-finite step never reaches the weights — the gate
 * stops its update on the GPU — and is reported by `results()` as not applied.
 */
import { mapWhenDone } from '../device/map-probe.js';
import { expectedStepMs, waitPlan } from './wait-estimate.js';
import type { Engine } from '../engine.js';
import { buildModel, type ModelSpec, type Network } from '../models/index.js';
import { add, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { AdamW, SGD, emaCoefficients, emaUpdate } from '../optim/index.js';
import { stepGate } from '../optim/gate.js';
import type { ReplayPlan } from '../replay/plan.js';
import { recordingMismatch, type Recording } from '../replay/recording.js';
import type { Tensor } from '../tensor/tensor.js';
import { tunerOf } from '../tune/tuner.js';
import { Rng } from '../util/rng.js';
import type { TrainConfig } from './config.js';
import { MixBlock } from '../nn/mix-block.js';
import { automixMethod, baselineMethod, type AutoMixState, type HostBatch, type MethodStep, type StepDraw, type StepTensors, vanillaMethod } from './steps.js';

/** What the model is trained on: channels, image size, classes. */
export interface DataShape {
  c: number;
  h: number;
  w: number;
  numClasses: number;
}

export interface TrainingRunOptions {
  /** 'auto' (default): capture each variant of the step and replay it; 'off': every step eager. */
  replay?: 'auto' | 'off';
  optimizer?: 'sgd' | 'adamw';
  log?: (msg: string) => void;
}

export interface StepResult {
  step: number;
  /** The loss terms (AutoMix: L_mix_q, L_one_q, L_mix_k, L_mask; else `loss`). */
  terms: Record<string, number>;
  /** λ draws, the mask mean (AutoMix), the gradient norm (with clipping). */
  stats: Record<string, number>;
  /** False when a loss or the gradient norm was not finite: the GPU skipped the update. */
  applied: boolean;
  /** True when the step ran from a captured plan. */
  replayed: boolean;
}

/** How each variant of the step runs, for logs and the bench. */
export interface VariantInfo {
  variant: string;
  mode: 'warm-up' | 'capturing' | 'replay' | 'eager';
  dispatches: number;
  reason?: string;
}

interface Variant {
  name: string;
  /**
   * The last eager run of this variant began with no kernel tuning in flight and scheduled none:
   * its kernel choices are final, and a capture (which reuses the last eager choices) keeps them.
   */
  settled?: boolean;
  first?: Recording;
  plan?: ReplayPlan;
  eagerReason?: string;
  dispatches: number;
}

interface Pending {
  step: number;
  draw: StepDraw;
  staging: GPUBuffer;
  replayed: boolean;
  /** When the step was submitted (performance.now()). */
  submitted: number;
}

const MAX_SCALARS = 16;
const STAGING = 3;

export function modelSpec(cfg: Pick<TrainConfig, 'model' | 'width' | 'method'>, data: DataShape): ModelSpec {
  return {
    model: cfg.model,
    width: cfg.width,
    inChannels: data.c,
    imageSize: data.h,
    numClasses: data.numClasses,
    heads: cfg.method === 'automix' ? ['head_mix', 'head_one'] : ['fc'],
  };
}

type RunConfig = Pick<TrainConfig, 'model' | 'width' | 'method' | 'alpha' | 'lr' | 'momentum' | 'weightDecay' | 'seed' | 'clipGrad'>;

export class TrainingRun {
  readonly engine: Engine;
  readonly online: Network;
  readonly automix: AutoMixState | null;
  readonly optimizer: SGD | AdamW;
  readonly method: MethodStep;
  #cfg: RunConfig;
  #replay: 'auto' | 'off';
  #log: (msg: string) => void;
  #inputs: StepTensors = {};
  #outputs: Tensor;
  #gate: Tensor;
  #ema: Tensor | null;
  #names: { terms: string[]; stats: string[]; normIndex: number } | null = null;
  #variants = new Map<string, Variant>();
  #pending: Pending[] = [];
  #freeStaging: GPUBuffer[] = [];
  #stagingCount = 0;
  #disposed = false;
  /** GPU ms of the last finished steps, to sleep instead of spinning while waiting (their median is the estimate). */
  #gpuMs: number[] = [];
  /** When the last step read back had finished on the GPU (as far as the host saw). */
  #lastDone = 0;

  constructor(engine: Engine, cfg: RunConfig, data: DataShape, opts: TrainingRunOptions = {}) {
    this.engine = engine;
    this.#cfg = cfg;
    this.#replay = opts.replay ?? 'auto';
    this.#log = opts.log ?? (() => {});
    const spec = modelSpec(cfg, data);
    this.online = buildModel(engine, spec, cfg.seed, 'online');
    const sets = [this.online.params];
    if (cfg.method === 'automix') {
      // Same spec and seed: f_k starts as an exact copy of f_q.
      const momentum = buildModel(engine, spec, cfg.seed, 'momentum');
      momentum.params.setRequiresGrad(false);
      const maskStage = 3;
      const mixBlock = new MixBlock(engine, this.online.backbone.stageChannels[maskStage - 1]!, cfg.seed + 1, {
        lamConcat: data.h > 64,
        upsampleMode: 'nearest',
      });
      this.automix = { online: this.online, momentum, mixBlock, maskStage };
      sets.push(mixBlock.params);
      this.method = automixMethod(this.automix, cfg);
    } else {
      this.automix = null;
      this.method = cfg.method === 'none' ? vanillaMethod(this.online) : baselineMethod(this.online, cfg);
    }
    // One optimiser; the Mix Block in the same schedule as the backbone (the CIFAR recipe).
    this.optimizer =
      opts.optimizer === 'adamw'
        ? new AdamW(sets.map((params) => ({ params, lr: cfg.lr, weightDecay: cfg.weightDecay })))
        : new SGD(sets.map((params) => ({ params, lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay })));
    this.#outputs = engine.untrack(engine.empty([MAX_SCALARS], 'f32', 'step.outputs'));
    this.#gate = engine.untrack(engine.tensor([1, 1], [2], { label: 'step.gate' }));
    this.#ema = this.automix ? engine.untrack(engine.tensor([1, 0], [2], { label: 'step.ema' })) : null;
  }

  /** The learning rate of every parameter group from the next step on. */
  setLr(lr: number): void {
    this.optimizer.groups.forEach((_, i) => this.optimizer.setLr(i, lr));
  }

  /** How each variant of the step runs now. */
  variants(): VariantInfo[] {
    return [...this.#variants.values()].map((v) => ({
      variant: v.name,
      mode: v.plan ? 'replay' : v.eagerReason ? 'eager' : !v.settled ? 'warm-up' : 'capturing',
      dispatches: v.dispatches,
      ...(v.eagerReason ? { reason: v.eagerReason } : {}),
    }));
  }

  /** The captured plans, by variant (for benchmarks and diagnostics). */
  plans(): ReplayPlan[] {
    return [...this.#variants.values()].flatMap((v) => (v.plan ? [v.plan] : []));
  }

  /** Steps submitted whose results have not been handed out yet. */
  get inFlight(): number {
    return this.#pending.length;
  }

  /**
   * One iteration on a host batch: draws, uploads, submits the GPU work and
   * starts reading its scalars back. Does not wait for the GPU.
   * `emaMomentum` is AutoMix's EMA coefficient for this step.
   */
  step(batch: HostBatch, step: number, emaMomentum = 0.999): void {
    if (this.#disposed) throw new Error('TrainingRun.step() after dispose()');
    const e = this.engine;
    const rng = Rng.fromKeys(this.#cfg.seed, step, 0x5eed);
    const draw = this.method.draw(batch, rng);
    this.#write('x', batch.x, batch.shape, 'f32');
    this.#write('y', batch.y, [batch.shape[0]], 'i32');
    for (const [k, v] of Object.entries(draw.inputs)) this.#write(k, v.data, v.shape, v.data instanceof Int32Array ? 'i32' : 'f32');
    if (this.#ema) this.#ema.write(emaCoefficients(emaMomentum));
    this.optimizer.prepare();
    const replayed = this.#run(draw);
    this.#readBack(step, draw, replayed);
    e.flush();
  }

  /**
   * Results of submitted steps, oldest first, waiting until at most
   * `keepInFlight` remain in flight (0: all of them).
   */
  async results(keepInFlight = 0): Promise<StepResult[]> {
    const out: StepResult[] = [];
    while (this.#pending.length > keepInFlight) {
      const p = this.#pending.shift()!;
      const vals = await this.#wait(p);
      out.push(this.#result(p, vals));
    }
    return out;
  }

  /** The GPU ms a step is expected to take, from the recent ones (src/train/wait-estimate.ts); 0 until known. */
  get expectedStepMs(): number {
    return expectedStepMs(this.#gpuMs);
  }

  /**
   * Waits for a step's scalars. Dawn's Node binding keeps the main thread
   * busy while a map is pending — on a CPU adapter that core is taken from the
   * GPU's own worker threads — so the host sleeps until the step is nearly
   * due and then probes with maps it aborts when not yet granted
   * (src/train/wait-estimate.ts, src/device/map-probe.ts).
   */
  async #wait(p: Pending): Promise<Float32Array> {
    const ctx = this.engine.ctx;
    const start = Math.max(p.submitted, this.#lastDone);
    const buf = p.staging;
    try {
      await mapWhenDone(buf, waitPlan(this.#gpuMs, start, performance.now()));
    } catch (err) {
      return ctx.mapFailed(err);
    }
    const now = performance.now();
    this.#gpuMs.push(now - start);
    if (this.#gpuMs.length > 5) this.#gpuMs.shift();
    this.#lastDone = now;
    const vals = new Float32Array(buf.getMappedRange().slice(0));
    buf.unmap();
    this.#freeStaging.push(buf);
    return vals;
  }

  #result(p: Pending, vals: Float32Array): StepResult {
    const n = this.#names!;
    const terms: Record<string, number> = {};
    n.terms.forEach((k, i) => (terms[k] = vals[i]!));
    const stats: Record<string, number> = { ...p.draw.stats };
    n.stats.forEach((k, i) => (stats[k] = vals[n.terms.length + i]!));
    let applied = n.terms.every((k) => Number.isFinite(terms[k]));
    if (n.normIndex >= 0) {
      stats['grad_norm'] = Math.sqrt(vals[n.normIndex]!);
      applied &&= Number.isFinite(stats['grad_norm']);
    }
    return { step: p.step, terms, stats, applied, replayed: p.replayed };
  }

  #write(name: string, data: Float32Array | Int32Array, shape: readonly number[], dtype: 'f32' | 'i32'): void {
    let t: Tensor | undefined = this.#inputs[name];
    if (t && (t.size !== data.length || t.shape.some((d, i) => d !== shape[i]))) {
      // A new batch shape: plans that bound the old tensor must go.
      this.#dropPlans();
      t.dispose();
      t = undefined;
    }
    t ??= this.#inputs[name] = this.engine.untrack(this.engine.empty(shape, dtype, `step.${name}`));
    t.write(data);
  }

  /** Runs the device step of the draw's variant; true when it was replayed. */
  #run(draw: StepDraw): boolean {
    const e = this.engine;
    const key = `${draw.variant}|${this.#inputs['x']!.shape.join('x')}`;
    let v = this.#variants.get(key);
    if (!v) this.#variants.set(key, (v = { name: key, dispatches: 0 }));
    if (v.plan) {
      e.replay(v.plan);
      return true;
    }
    const before = e.ctx.counters.dispatches;
    // Warm-up: eager until a run starts and ends with no kernel tuning in flight (tune mode 'full'
    // measures a new shape's candidates in the background; the run in which it ends picks the
    // winners), so the captures and the plan run the tuned kernels, not the static ones.
    const tuner = tunerOf(e);
    if (this.#replay === 'off' || v.eagerReason || !v.settled || tuner.pending > 0) {
      const quiet = tuner.pending === 0;
      this.#deviceStep(draw);
      v.settled = quiet && tuner.pending === 0;
      v.first = undefined;
    } else {
      const { recording } = e.capture(() => this.#deviceStep(draw));
      if (!v.first) v.first = recording;
      else {
        const why = recordingMismatch(v.first, recording);
        if (why) {
          v.eagerReason = why;
          this.#log(`step variant ${v.name} runs eagerly: ${why}`);
        } else {
          v.plan = e.plan(recording, [this.#outputs, this.#gate], `step ${v.name}`);
        }
        v.first = undefined;
      }
    }
    v.dispatches = e.ctx.counters.dispatches - before;
    return false;
  }

  #deviceStep(draw: StepDraw): void {
    const e = this.engine;
    e.scope(() => {
      this.online.params.zeroGrad();
      this.automix?.mixBlock.params.zeroGrad();
      const { terms, stats } = this.method.losses(this.#inputs, draw);
      const termNames = Object.keys(terms);
      const statNames = Object.keys(stats);
      let total = terms[termNames[0]!]!;
      for (const n of termNames.slice(1)) total = add(total, terms[n]!);
      total.backward();
      const scalars = [...termNames.map((n) => terms[n]!), ...statNames.map((n) => stats[n]!)];
      const sets = [this.online.params, ...(this.automix ? [this.automix.mixBlock.params] : [])];
      // Σ g² over every gradient arena (their padding is zero), for clipping and the finite check.
      const clip = this.#cfg.clipGrad;
      if (clip > 0) scalars.push(sets.map((p) => sum(mul(p.gradFlat, p.gradFlat))).reduce((a, b) => add(a, b)));
      if (scalars.length > MAX_SCALARS) throw new Error(`TrainingRun: ${scalars.length} step scalars, at most ${MAX_SCALARS}`);
      this.#names ??= { terms: termNames, stats: statNames, normIndex: clip > 0 ? scalars.length - 1 : -1 };
      scalars.forEach((t, i) => e.copyBuffer(t, this.#outputs, 4, 0, i * 4));
      stepGate(this.#outputs, this.#gate, { terms: termNames.length, normIndex: this.#names.normIndex, clip });
      this.optimizer.update(this.#gate);
      if (this.automix) emaUpdate(this.automix.momentum.params, this.online.params, this.#ema!, this.#gate);
      return null;
    });
  }

  #readBack(step: number, draw: StepDraw, replayed: boolean): void {
    const ctx = this.engine.ctx;
    let staging = this.#freeStaging.pop();
    if (!staging) {
      if (this.#stagingCount >= STAGING) throw new Error(`TrainingRun: more than ${STAGING - 1} steps in flight; call results() between steps`);
      staging = ctx.createBuffer({ size: MAX_SCALARS * 4, usage: 0x01 | 0x08, label: `step.staging ${this.#stagingCount++}` }); // MAP_READ | COPY_DST
    }
    ctx.copy(this.#outputs.buffer, 0, staging, 0, MAX_SCALARS * 4);
    ctx.flush();
    ctx.counters.asyncReadbacks++;
    this.#pending.push({ step, draw, staging, replayed, submitted: performance.now() });
  }

  #dropPlans(): void {
    for (const v of this.#variants.values()) v.plan?.dispose();
    this.#variants.clear();
  }

  /** Frees the plans, the networks, the Mix Block, the optimiser state and the step's buffers. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#dropPlans();
    for (const t of Object.values(this.#inputs)) t.dispose();
    this.#outputs.dispose();
    this.#gate.dispose();
    this.#ema?.dispose();
    for (const p of this.#pending) p.staging.destroy();
    for (const b of this.#freeStaging) b.destroy();
    this.#pending = [];
    this.online.dispose();
    this.automix?.momentum.dispose();
    this.automix?.mixBlock.dispose();
    this.optimizer.dispose();
  }
}
