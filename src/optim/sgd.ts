/**
 * SGD with momentum, Nesterov, dampening and (coupled) weight decay, with the
 * semantics of torch.optim.SGD. Each group is one ParamSet; a step is one
 * dispatch per group over the set's flat parameter, gradient and momentum
 * buffer arenas (kernels/optim.wgsl: `sgd`, `sgd_momentum`).
 *
 *   d = g + wd·p
 *   if momentum ≠ 0:  buf = (first step) ? d : momentum·buf + (1 − dampening)·d
 *                     d = nesterov ? d + momentum·buf : buf
 *   p -= lr·d
 *
 * Unlike PyTorch, which skips parameters whose `.grad` is None, every
 * parameter of a set is updated (a parameter that received no gradient has a
 * zero gradient here, so weight decay and momentum still move it).
 *
 * A step is split in two so that the device half can be recorded once and
 * replayed: `prepare()` (host) writes each group's lr into the group's
 * persistent `hyper` tensor ([lr]); `update(gate?)` (device) records the
 * dispatches, whose uniforms hold only static values (weight decay, momentum,
 * 1 − dampening, Nesterov and — constant after the first step — the `first`
 * flag). `step(gate?)` is both. The optional gate is a 2-element f32 tensor
 * [apply, grad_scale] read by the kernel: apply = 0 skips the update
 * (parameters and momentum buffers untouched), otherwise the gradient is
 * multiplied by grad_scale (e.g. a clipping factor computed on the GPU). The
 * host cannot see the gate: a skipped step still counts in `stepCount`, and a
 * skipped first step still marks the momentum buffers initialised, so they
 * stay zero and the next step takes momentum·0 + (1 − dampening)·d where
 * PyTorch would take d (the same value when dampening is 0).
 */
import { disposeArena, type Arena } from '../tensor/arena.js';
import type { ParamSet } from '../nn/params.js';
import type { Tensor } from '../tensor/tensor.js';
import { ShapeError } from '../device/errors.js';
import { checkDistinct, checkHyper, checkStateValue, gateBinding, hyperTensor, runOptim, stateArena } from './layout.js';

export interface SGDGroupOptions {
  params: ParamSet;
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  dampening?: number;
}

export interface SGDGroup {
  readonly params: ParamSet;
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly dampening: number;
}

interface GroupState {
  group: SGDGroup;
  /** Momentum buffers (null when momentum is 0). */
  buf: Arena | null;
  /** The per-step scalars the kernel reads: [lr] (written by `prepare()`). */
  hyper: Tensor;
  /** The lr `hyper` holds (written only when the group's lr changes: once per epoch under a schedule). */
  writtenLr: number | null;
  /** True once the buffers hold a value (after the first step or a load). */
  initialized: boolean;
}

export class SGD {
  #groups: GroupState[];
  /** Steps taken (or loaded); does not affect SGD's arithmetic. */
  stepCount = 0;

  constructor(groups: SGDGroupOptions[]) {
    checkDistinct(
      'SGD',
      groups.map((g) => g.params),
    );
    this.#groups = groups.map((o, i) => {
      const g: SGDGroup = {
        params: o.params,
        lr: o.lr,
        momentum: o.momentum ?? 0,
        nesterov: o.nesterov ?? false,
        weightDecay: o.weightDecay ?? 0,
        dampening: o.dampening ?? 0,
      };
      const who = `SGD group ${i}`;
      checkHyper(who, 'lr', g.lr, (v) => v >= 0, '≥ 0');
      checkHyper(who, 'momentum', g.momentum, (v) => v >= 0, '≥ 0');
      checkHyper(who, 'weightDecay', g.weightDecay, (v) => v >= 0, '≥ 0');
      checkHyper(who, 'dampening', g.dampening, () => true, 'a finite number');
      if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
        throw new RangeError(`${who}: Nesterov momentum requires a momentum > 0 and zero dampening`);
      }
      const buf = g.momentum !== 0 ? stateArena(g.params, `${g.params.label}.momentum_buffer`) : null;
      const hyper = hyperTensor(g.params.engine, 1, `${g.params.label}.sgd_hyper`);
      return { group: g, buf, hyper, writtenLr: null, initialized: false };
    });
    // The hyper tensors hold valid values from the start (update() alone works).
    this.#writeHyper();
  }

  get groups(): readonly SGDGroup[] {
    return this.#groups.map((s) => s.group);
  }

  setLr(groupIndex: number, lr: number): void {
    const s = this.#state(groupIndex);
    checkHyper(`SGD group ${groupIndex}`, 'lr', lr, (v) => v >= 0, '≥ 0');
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

  /** Host half of a step: writes each group's lr into its `hyper` tensor if it changed. */
  prepare(): void {
    this.#writeHyper();
    // The host half counts the step: a replayed update() runs no JavaScript.
    this.stepCount++;
  }

  #writeHyper(): void {
    for (const s of this.#groups) {
      if (s.writtenLr === s.group.lr) continue;
      s.hyper.write([s.group.lr]);
      s.writtenLr = s.group.lr;
    }
  }

  /**
   * Device half of a step: one dispatch per group, reading lr from the group's
   * `hyper` tensor (as last written by `prepare()`) and `gate` ([apply,
   * grad_scale], default [1, 1]). Writes no host data; the uniforms it passes
   * are the same on every call after a group's first step.
   */
  update(gate?: Tensor): void {
    const gates = this.#groups.map((s) => gateBinding('SGD.update', s.group.params.engine, gate)); // checked before any dispatch
    this.#groups.forEach((s, k) => {
      const g = s.group;
      const set = g.params;
      const bind = { param: set.flat, grad: set.gradFlat, hyper: s.hyper, gate: gates[k]! };
      const common = { weight_decay: g.weightDecay };
      if (!s.buf) {
        runOptim(set.engine, 'sgd', set.flat.size, bind, common);
        return;
      }
      runOptim(
        set.engine,
        'sgd_momentum',
        set.flat.size,
        { ...bind, buf: s.buf.flat },
        {
          ...common,
          first: s.initialized ? 0 : 1,
          nesterov: g.nesterov ? 1 : 0,
          momentum: g.momentum,
          one_minus_dampening: 1 - g.dampening,
        },
      );
      s.initialized = true;
    });
  }

  /**
   * Momentum buffers by `<paramName>.momentum_buffer`, as views into the
   * state arenas (do not dispose them). Like PyTorch's state_dict, a group
   * has no entries before its first step (or without momentum).
   */
  stateTensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const s of this.#groups) {
      if (!s.buf || !s.initialized) continue;
      s.group.params.names.forEach((n, i) => (out[`${n}.momentum_buffer`] = s.buf!.views[i]!));
    }
    return out;
  }

  /**
   * Loads momentum buffers saved from `stateTensors()`. A group whose buffers
   * are all present continues as after a step; one with none present starts
   * fresh (its next step initialises the buffers); a partial group is an error.
   * `stepCount` restores the step counter.
   */
  loadState(values: Map<string, Float32Array>, stepCount?: number): void {
    for (const s of this.#groups) {
      if (!s.buf) continue;
      const names = s.group.params.names;
      const keys = names.map((n) => `${n}.momentum_buffer`);
      const present = keys.filter((k) => values.has(k));
      if (present.length === 0) {
        this.#clear(s);
        continue;
      }
      if (present.length !== keys.length) {
        const missing = keys.filter((k) => !values.has(k));
        throw new ShapeError(`SGD.loadState: missing ${missing.length} momentum buffer(s) of a group, e.g. '${missing[0]}'`);
      }
      keys.forEach((k, i) => checkStateValue('SGD', k, values.get(k)!, s.buf!.views[i]!));
      keys.forEach((k, i) => s.buf!.views[i]!.write(values.get(k)!));
      s.initialized = true;
    }
    if (stepCount !== undefined) this.stepCount = stepCount;
  }

  /** Frees the momentum buffers and the hyper tensors. */
  dispose(): void {
    for (const s of this.#groups) {
      if (s.buf) disposeArena(s.buf);
      s.hyper.dispose();
    }
    this.#groups = [];
  }

  #clear(s: GroupState): void {
    if (s.buf) s.group.params.engine.clear(s.buf.flat);
    s.initialized = false;
  }

  #state(i: number): GroupState {
    const s = this.#groups[i];
    if (!s) throw new RangeError(`SGD: no parameter group ${i} (there are ${this.#groups.length})`);
    return s;
  }
}
