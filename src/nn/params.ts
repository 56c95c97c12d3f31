/**
 * ParamSet: a model's parameters laid out in one arena, their gradients in a
 * second arena of the same layout. `param.grad` is the parameter's view into
 * the gradient arena, so backward accumulates in place, zeroing all
 * gradients is one clear, and an optimiser or EMA step over the whole set is
 * one dispatch over the flat arrays.
 */
import type { Engine } from '../engine.js';
import { ShapeError } from '../device/errors.js';
import { tensorOrigin } from '../io/safetensors.js';
import { createArena, disposeArena, type Arena } from '../tensor/arena.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ParamSpec {
  /** PyTorch-style dotted name, e.g. `layer1.0.conv1.weight`. */
  name: string;
  shape: number[];
  /** Host initial values (length = product of shape). */
  init: Float32Array;
}

/**
 * Refuses values decoded from a file whose declared shape differs from the model's, even with
 * the same element count (a transposed `fc.weight`, a permuted conv kernel): they would load and
 * silently compute something else. Values not from a file (plain arrays) have no declared shape.
 */
export function checkDeclaredShape(kind: string, name: string, values: Float32Array, expected: readonly number[], source: string): void {
  const o = tensorOrigin(values);
  if (!o) return;
  if (o.shape.length === expected.length && o.shape.every((d, i) => d === expected[i])) return;
  const file = o.file === '<safetensors>' ? source : o.file;
  throw new ShapeError(
    `${file}: ${kind} '${name}'${o.name !== name ? ` (stored as '${o.name}')` : ''} is declared [${o.shape.join(', ')}] in the file, the model expects [${expected.join(', ')}]`,
  );
}

export class ParamSet {
  readonly names: string[];
  readonly params: Tensor[];
  readonly grads: Tensor[];
  readonly #values: Arena;
  readonly #grads: Arena;
  readonly #byName = new Map<string, Tensor>();

  constructor(
    readonly engine: Engine,
    specs: ParamSpec[],
    readonly label = 'params',
  ) {
    this.names = specs.map((s) => s.name);
    const shapes = specs.map((s) => s.shape);
    this.#values = createArena(engine, shapes, `${label}`);
    this.#grads = createArena(engine, shapes, `${label}.grad`);
    this.params = this.#values.views;
    this.grads = this.#grads.views;
    specs.forEach((s, i) => {
      const p = this.params[i]!;
      if (s.init.length !== p.size) throw new ShapeError(`${s.name}: ${s.init.length} initial values for shape [${s.shape.join(', ')}]`);
      p.write(s.init);
      p.requiresGrad = true;
      p.label = s.name;
      p.grad = this.grads[i]!;
      this.#byName.set(s.name, p);
    });
  }

  /** The flat parameter array (padding included). */
  get flat(): Tensor {
    return this.#values.flat;
  }
  get gradFlat(): Tensor {
    return this.#grads.flat;
  }
  get offsets(): number[] {
    return this.#values.offsets;
  }
  get count(): number {
    return this.params.reduce((a, p) => a + p.size, 0);
  }

  get(name: string): Tensor {
    const p = this.#byName.get(name);
    if (!p) throw new ShapeError(`no parameter named '${name}'`);
    return p;
  }

  /** Zeroes every gradient (one clear). */
  zeroGrad(): void {
    this.engine.clear(this.gradFlat);
  }

  /** Turns gradient recording for these parameters on or off (frozen copies). */
  setRequiresGrad(on: boolean): void {
    for (const p of this.params) p.requiresGrad = on;
  }

  /** Host copy of every parameter by name. */
  async read(): Promise<Map<string, Float32Array>> {
    const flat = await this.flat.read();
    const out = new Map<string, Float32Array>();
    this.params.forEach((p, i) => out.set(this.names[i]!, flat.slice(this.offsets[i]!, this.offsets[i]! + p.size)));
    return out;
  }

  /** Overwrites parameters from host values by name (shapes checked). */
  load(values: Map<string, Float32Array> | Record<string, Float32Array>, source = 'checkpoint'): void {
    const get = (n: string) => (values instanceof Map ? values.get(n) : values[n]);
    this.params.forEach((p, i) => {
      const name = this.names[i]!;
      const v = get(name);
      if (!v) throw new ShapeError(`${source}: missing parameter '${name}'`);
      if (v.length !== p.size)
        throw new ShapeError(`${source}: parameter '${name}' has ${v.length} values, the model expects ${p.size} [${p.shape.join(', ')}]`);
      checkDeclaredShape('parameter', name, v, p.shape, source);
    });
    // Written only once every parameter passed: a refused file leaves the model as it was.
    this.params.forEach((p, i) => {
      p.write(get(this.names[i]!)!);
    });
  }

  dispose(): void {
    for (const p of this.params) p.grad = null;
    disposeArena(this.#values);
    disposeArena(this.#grads);
  }
}
