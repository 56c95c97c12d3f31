/**
 * Builder: modules declare their parameters and buffers (name, shape,
 * initialiser) while the model is constructed; `build()` then lays them out
 * in arenas (ParamSet for parameters, BufferSet for BN running statistics).
 * Two models built the same way have identical layouts, which is what lets
 * the AutoMix momentum encoder be updated with one flat EMA dispatch.
 */
import type { Engine } from '../engine.js';
import { ShapeError } from '../device/errors.js';
import { createArena, disposeArena, type Arena } from '../tensor/arena.js';
import type { Tensor } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';
import { checkDeclaredShape, ParamSet } from './params.js';

export type Init = (rng: Rng, n: number) => Float32Array;

export const init = {
  zeros: (): Init => (_r, n) => new Float32Array(n),
  ones: (): Init => (_r, n) => new Float32Array(n).fill(1),
  constant:
    (v: number): Init =>
    (_r, n) =>
      new Float32Array(n).fill(v),
  normal:
    (std: number): Init =>
    (r, n) =>
      Float32Array.from({ length: n }, () => r.normal() * std),
  /** Kaiming-normal, mode fan_out, ReLU gain (torch.nn.init.kaiming_normal_). */
  kaimingFanOut:
    (fanOut: number): Init =>
    (r, n) => {
      const std = Math.sqrt(2 / fanOut);
      return Float32Array.from({ length: n }, () => r.normal() * std);
    },
  /** PyTorch's default Linear/Conv init: U(−1/√fan_in, 1/√fan_in). */
  uniformFanIn:
    (fanIn: number): Init =>
    (r, n) => {
      const b = 1 / Math.sqrt(fanIn);
      return Float32Array.from({ length: n }, () => (r.uniform() * 2 - 1) * b);
    },
};

interface Decl {
  name: string;
  shape: number[];
  init: Init;
}

/** Non-trainable state (BN running statistics) in one arena. */
export class BufferSet {
  readonly names: string[];
  readonly arena: Arena;
  readonly #byName = new Map<string, Tensor>();
  constructor(engine: Engine, decls: Decl[], rng: Rng) {
    this.names = decls.map((d) => d.name);
    this.arena = createArena(engine, decls.length ? decls.map((d) => d.shape) : [[1]], 'buffers');
    decls.forEach((d, i) => {
      const t = this.arena.views[i]!;
      t.write(d.init(rng, t.size));
      t.label = d.name;
      this.#byName.set(d.name, t);
    });
  }
  get(name: string): Tensor {
    const t = this.#byName.get(name);
    if (!t) throw new ShapeError(`no buffer named '${name}'`);
    return t;
  }
  get tensors(): Tensor[] {
    return this.names.map((n) => this.#byName.get(n)!);
  }
  async read(): Promise<Map<string, Float32Array>> {
    const flat = await this.arena.flat.read();
    const out = new Map<string, Float32Array>();
    this.names.forEach((n, i) => {
      const t = this.#byName.get(n)!;
      out.set(n, flat.slice(this.arena.offsets[i]!, this.arena.offsets[i]! + t.size));
    });
    return out;
  }
  load(values: Map<string, Float32Array>, source = 'checkpoint'): void {
    for (const n of this.names) {
      const v = values.get(n);
      const t = this.#byName.get(n)!;
      if (!v) throw new ShapeError(`${source}: missing buffer '${n}'`);
      if (v.length !== t.size) throw new ShapeError(`${source}: buffer '${n}' has ${v.length} values, the model expects ${t.size}`);
      checkDeclaredShape('buffer', n, v, t.shape, source);
    }
    for (const n of this.names) this.#byName.get(n)!.write(values.get(n)!);
  }
  dispose(): void {
    disposeArena(this.arena);
  }
}

export class Builder {
  readonly #params: Decl[] = [];
  readonly #buffers: Decl[] = [];
  #built: { params: ParamSet; buffers: BufferSet } | null = null;

  constructor(readonly engine: Engine) {}

  param(name: string, shape: number[], initFn: Init): string {
    if (this.#built) throw new Error('Builder: parameters declared after build()');
    if (this.#params.some((p) => p.name === name)) throw new Error(`Builder: duplicate parameter '${name}'`);
    this.#params.push({ name, shape, init: initFn });
    return name;
  }

  buffer(name: string, shape: number[], initFn: Init): string {
    this.#buffers.push({ name, shape, init: initFn });
    return name;
  }

  /** Allocates and initialises everything declared, from `seed`. */
  build(seed: number, label = 'params'): { params: ParamSet; buffers: BufferSet } {
    const rng = new Rng(seed);
    const specs = this.#params.map((d) => ({
      name: d.name,
      shape: d.shape,
      init: d.init(
        rng,
        d.shape.reduce((a, b) => a * b, 1),
      ),
    }));
    const params = new ParamSet(this.engine, specs, label);
    const buffers = new BufferSet(this.engine, this.#buffers, rng);
    this.#built = { params, buffers };
    return this.#built;
  }

  get built(): { params: ParamSet; buffers: BufferSet } {
    if (!this.#built) throw new Error('Builder: build() has not been called');
    return this.#built;
  }
}
