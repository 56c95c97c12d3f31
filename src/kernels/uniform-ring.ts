/**
 * UniformRing: the uniform values (`Params`) of every dispatch in a batch,
 * packed at aligned offsets into a few GPU buffers and written with one
 * queue.writeBuffer per buffer just before the batch is submitted — instead
 * of one buffer and one write per dispatch. Queue order makes reuse safe: the
 * next batch's write lands after the previous submit.
 */
import type { GpuContext } from '../device/context.js';

const CHUNK_BYTES = 64 * 1024; // within every adapter's maxUniformBufferBindingSize

export class UniformRing {
  #chunks: { buffer: GPUBuffer; host: Uint8Array }[] = [];
  #chunk = 0;
  #offset = 0;

  constructor(
    readonly ctx: GpuContext,
    readonly align: number,
  ) {}

  /** Places one dispatch's uniform bytes; returns where to bind them. */
  push(data: ArrayBuffer): { buffer: GPUBuffer; offset: number } {
    const size = data.byteLength;
    if (this.#offset + size > CHUNK_BYTES) {
      this.#chunk++;
      this.#offset = 0;
    }
    if (this.#chunk === this.#chunks.length) {
      this.#chunks.push({
        buffer: this.ctx.createBuffer({ size: CHUNK_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: `uniforms ${this.#chunk}` }),
        host: new Uint8Array(CHUNK_BYTES),
      });
    }
    const c = this.#chunks[this.#chunk]!;
    const offset = this.#offset;
    c.host.set(new Uint8Array(data), offset);
    this.#offset = Math.ceil((offset + size) / this.align) * this.align;
    return { buffer: c.buffer, offset };
  }

  /** Writes this batch's values (call right before submit) and starts over. */
  upload(): void {
    for (let i = 0; i <= this.#chunk && i < this.#chunks.length; i++) {
      const used = i < this.#chunk ? CHUNK_BYTES : this.#offset;
      if (used > 0) this.ctx.writeBuffer(this.#chunks[i]!.buffer, 0, this.#chunks[i]!.host.buffer, 0, used);
    }
    this.#chunk = 0;
    this.#offset = 0;
  }

  destroy(): void {
    for (const c of this.#chunks) c.buffer.destroy();
    this.#chunks = [];
  }
}
