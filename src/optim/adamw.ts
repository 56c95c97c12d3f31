/**
 * AdamW with the semantics of torch.optim.AdamW (amsgrad = false, maximize =
 * false). Each group is one ParamSet; a step is one dispatch per group over
 * the set's flat parameter, gradient, exp_avg and exp_avg_sq arenas
 * (kernels/optim.wgsl: `adamw`). With t the step count after increment:
 *
 *   p *= 1 − lr·wd                                   (decoupled decay)
 *   m = lerp(m, g, 1 − β1);  v = β2·v + (1 − β2)·g²
 *   p -= lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + ε)
 *
 * The step count is one per optimiser (PyTorch keeps one per parameter; they
 * agree as long as every parameter is stepped every time). Every parameter of
 * a set is updated, including those that received no gradient (zero here,
 * None-and-skipped in PyTorch).
 *
 * A step is split in two so that the device half can be recorded once and
 * replayed: `prepare()` (host) computes the coming step's scalars in f64 and
 * writes them into each group's persistent `hyper` tensor,
 * [1 − lr·wd, lr / (1 − β1^t), sqrt(1 − β2^t)] with t = stepCount + 1;
 * `update(gate?)` (device) records the dispatches, whose uniforms hold only
 * the static β1, β2, 1 − β1, 1 − β2 and ε. `step(gate?)` is both. The
 * optional gate is a 2-element f32 tensor [apply, grad_scale] read by the
 * kernel: apply = 0 skips the update (parameters and moments untouched),
 * otherwise the gradient is multiplied by grad_scale. A skipped step still
 * counts in `stepCount` (the host cannot know without reading the gate).
 */
import { disposeArena, type Arena } from '../tensor/arena.js';
import type { ParamSet } from '../nn/params.js';
import type { Tensor } from '../tensor/tensor.js';
import { ShapeError } from '../device/errors.js';
import { checkDistinct, checkHyper, checkStateValue, gateBinding, hyperTensor, runOptim, stateArena } from './layout.js';

export interface AdamWGroupOptions {
  params: ParamSet;
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export interface AdamWGroup {
  readonly params: ParamSet;
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}

interface GroupState {
  group: AdamWGroup;
  expAvg: Arena;
  expAvgSq: Arena;
  /** The per-step scalars the kernel reads (written by `prepare()`). */
  hyper: Tensor;
}

export class AdamW {
  #groups: GroupState[];
  /** Steps taken (or loaded): t − 1 of the next step's bias corrections. */
  stepCount = 0;

  constructor(groups: AdamWGroupOptions[]) {
    checkDistinct(
      'AdamW',
      groups.map((g) => g.params),
    );
    this.#groups = groups.map((o, i) => {
      const g: AdamWGroup = {
        params: o.params,
        lr: o.lr,
        betas: [o.betas?.[0] ?? 0.9, o.betas?.[1] ?? 0.999],
        eps: o.eps ?? 1e-8,
        weightDecay: o.weightDecay ?? 0.01,
      };
      const who = `AdamW group ${i}`;
      checkHyper(who, 'lr', g.lr, (v) => v >= 0, '≥ 0');
      checkHyper(who, 'eps', g.eps, (v) => v >= 0, '≥ 0');
      checkHyper(who, 'betas[0]', g.betas[0], (v) => v >= 0 && v < 1, 'in [0, 1)');
      checkHyper(who, 'betas[1]', g.betas[1], (v) => v >= 0 && v < 1, 'in [0, 1)');
      checkHyper(who, 'weightDecay', g.weightDecay, (v) => v >= 0, '≥ 0');
      const label = g.params.label;
      return {
        group: g,
        expAvg: stateArena(g.params, `${label}.exp_avg`),
        expAvgSq: stateArena(g.params, `${label}.exp_avg_sq`),
        hyper: hyperTensor(g.params.engine, 3, `${label}.adamw_hyper`),
      };
    });
    // The hyper tensors hold valid values from the start (update() alone works).
    this.#writeHyper(1);
  }

  get groups(): readonly AdamWGroup[] {
    return this.#groups.map((s) => s.group);
  }

  setLr(groupIndex: number, lr: number): void {
    const s = this.#groups[groupIndex];
    if (!s) throw new RangeError(`AdamW: no parameter group ${groupIndex} (there are ${this.#groups.length})`);
    checkHyper(`AdamW group ${groupIndex}`, 'lr', lr, (v) => v >= 0, '≥ 0');
    s.group = { ...s.group, lr };
  }

  /**
   * One update of every group (`prepare()` then `update(gate)`): one
   * dispatch per group. Gradients must be in place.
   */
  step(gate?: Tensor): void {
    this.prepare();
    this.update(gate);
  }

  /**
   * Host half of a step: computes, in f64, the scalars of step
   * t = stepCount + 1 and writes them into each group's `hyper` tensor as
   * [1 − lr·wd, lr / (1 − β1^t), sqrt(1 − β2^t)].
   */
  prepare(): void {
    const t = this.stepCount + 1;
    this.#writeHyper(t);
    // The host half counts the step: a replayed update() runs no JavaScript.
    this.stepCount = t;
  }

  #writeHyper(t: number): void {
    for (const s of this.#groups) {
      const { lr, betas, weightDecay } = s.group;
      const [b1, b2] = betas;
      s.hyper.write([1 - lr * weightDecay, lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t)]);
    }
  }

  /**
   * Device half of a step: one dispatch per group, reading the step's scalars
   * from the group's `hyper` tensor (as last written by `prepare()`) and
   * `gate` ([apply, grad_scale], default [1, 1]). `prepare()` counts the step.
   * Writes no host data; the uniforms it passes are the same on every call.
   */
  update(gate?: Tensor): void {
    const gates = this.#groups.map((s) => gateBinding('AdamW.update', s.group.params.engine, gate)); // checked before any dispatch
    this.#groups.forEach((s, k) => {
      const { params: set, betas, eps } = s.group;
      const [b1, b2] = betas;
      runOptim(
        set.engine,
        'adamw',
        set.flat.size,
        { param: set.flat, grad: set.gradFlat, exp_avg: s.expAvg.flat, exp_avg_sq: s.expAvgSq.flat, hyper: s.hyper, gate: gates[k]! },
        { beta1: b1, beta2: b2, one_minus_beta1: 1 - b1, one_minus_beta2: 1 - b2, eps },
      );
    });
  }

  /** `<paramName>.exp_avg` and `<paramName>.exp_avg_sq` as views into the state arenas (do not dispose them). */
  stateTensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const s of this.#groups) {
      s.group.params.names.forEach((n, i) => {
        out[`${n}.exp_avg`] = s.expAvg.views[i]!;
        out[`${n}.exp_avg_sq`] = s.expAvgSq.views[i]!;
      });
    }
    return out;
  }

  /**
   * Loads moments saved from `stateTensors()` (every key must be present)
   * and, when given, the step count — which the bias corrections need: save
   * `stepCount` with the tensors.
   */
  loadState(values: Map<string, Float32Array>, stepCount?: number): void {
    const writes: [Tensor, Float32Array][] = [];
    for (const s of this.#groups) {
      s.group.params.names.forEach((n, i) => {
        for (const [suffix, arena] of [
          ['exp_avg', s.expAvg],
          ['exp_avg_sq', s.expAvgSq],
        ] as const) {
          const key = `${n}.${suffix}`;
          const v = values.get(key);
          if (!v) throw new ShapeError(`AdamW.loadState: missing '${key}'`);
          checkStateValue('AdamW', key, v, arena.views[i]!);
          writes.push([arena.views[i]!, v]);
        }
      });
    }
    for (const [t, v] of writes) t.write(v);
    if (stepCount !== undefined) {
      if (!Number.isInteger(stepCount) || stepCount < 0) throw new RangeError(`AdamW.loadState: invalid step count ${stepCount}`);
      this.stepCount = stepCount;
    }
  }

  dispose(): void {
    for (const s of this.#groups) {
      disposeArena(s.expAvg);
      disposeArena(s.expAvgSq);
      s.hyper.dispose();
    }
    this.#groups = [];
  }
}
