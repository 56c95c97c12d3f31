/**
 * Tensor: a shape, a dtype and a reference-counted GPU buffer (Storage).
 *
 * Ownership: JavaScript has no destructors, so GPU memory is released
 * explicitly. Whoever creates a tensor owns one reference; `dispose()` drops
 * it. The autograd tape takes its own reference to each tensor a backward
 * rule needs, so disposing a tensor early is always safe. `engine.scope()`
 * disposes everything created inside it that is not returned or kept.
 */
import { DisposedError, ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import type { GraphNode } from '../autograd/graph.js';

export type DType = 'f32' | 'i32';

/** A GPU buffer shared by a tensor and its views (reshape, detach). */
export class Storage {
  refs = 1;
  constructor(
    readonly engine: Engine,
    public buffer: GPUBuffer,
    readonly bytes: number,
  ) {}

  ref(): void {
    this.refs++;
  }

  unref(): void {
    if (--this.refs === 0) this.engine._releaseStorage(this);
  }
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** True for parameters and other leaves whose gradient is wanted. */
  requiresGrad: boolean;
  /** Gradient accumulated by `backward()` (leaves only). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, while its graph is alive. */
  node: GraphNode | null = null;
  label: string | undefined;
  #disposed = false;

  constructor(
    readonly engine: Engine,
    readonly storage: Storage,
    shape: readonly number[],
    readonly dtype: DType = 'f32',
    requiresGrad = false,
    /** Element offset into the storage (views into an arena). */
    readonly offset = 0,
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid tensor shape [${shape.join(', ')}]`);
    }
    this.shape = Object.freeze([...shape]);
    this.size = shape.reduce((a, b) => a * b, 1);
    this.requiresGrad = requiresGrad;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** The GPU buffer; throws if the tensor was disposed. */
  get buffer(): GPUBuffer {
    if (this.storage.refs <= 0)
      throw new DisposedError(`tensor #${this.id}${this.label ? ` (${this.label})` : ''} [${this.shape.join(', ')}] was used after dispose()`);
    return this.storage.buffer;
  }

  get bytes(): number {
    return this.size * 4;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Drops the owner's reference. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.engine._onDispose(this);
    if (this.node) {
      const n = this.node;
      this.node = null;
      n.unref();
    }
    this.storage.unref();
  }

  /** Copies the data back to the host (submits pending GPU work). */
  async read(): Promise<Float32Array> {
    if (this.dtype !== 'f32') throw new ShapeError(`read() on an ${this.dtype} tensor; use readInt()`);
    const bytes = await this.engine.ctx.read(this.buffer, this.offset * 4, this.bytes);
    return new Float32Array(bytes);
  }

  async readInt(): Promise<Int32Array> {
    const bytes = await this.engine.ctx.read(this.buffer, this.offset * 4, this.bytes);
    return new Int32Array(bytes);
  }

  /** Reads a one-element tensor as a number. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`item() needs a one-element tensor, got shape [${this.shape.join(', ')}]`);
    return (await this.read())[0]!;
  }

  /** Overwrites the contents from host data of the same size. */
  write(data: ArrayLike<number>): void {
    this.engine._upload(this, data);
  }

  /** Runs backpropagation from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor): void {
    this.engine.backward(this, grad);
  }

  toString(): string {
    return `Tensor#${this.id}[${this.shape.join(', ')}] ${this.dtype}${this.requiresGrad ? ' requiresGrad' : ''}`;
  }
}

/** Describes a shape for error messages. */
export function fmtShape(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}
