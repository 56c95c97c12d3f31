/**
 * BufferPool: reuses GPU buffers by size class so that a training step that
 * allocates the same activations every iteration stops allocating after the
 * first. Size classes are 2^k and 1.25/1.5/1.75·2^k (at most 25% slack).
 */
import { LimitError, OutOfMemoryError } from '../device/errors.js';

const MIN_BYTES = 256;

export function sizeClass(bytes: number): number {
  const b = Math.max(MIN_BYTES, bytes);
  const p = 2 ** Math.floor(Math.log2(b));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) {
    const c = p * f;
    if (c >= b) return Math.ceil(c / 16) * 16;
  }
  return p * 2;
}

export interface PoolStats {
  /** Bytes of buffers handed out and not yet returned. */
  bytesInUse: number;
  /** Bytes of buffers held for reuse. */
  bytesPooled: number;
  buffersInUse: number;
  buffersPooled: number;
}

export class BufferPool {
  #free = new Map<string, GPUBuffer[]>();
  #inUse = 0;
  #pooled = 0;
  #nInUse = 0;
  #nPooled = 0;

  constructor(
    readonly device: GPUDevice,
    readonly maxBufferSize: number,
  ) {}

  acquire(bytes: number, usage: number, label?: string): GPUBuffer {
    const size = sizeClass(bytes);
    if (bytes > this.maxBufferSize) {
      throw new LimitError(
        `cannot allocate ${label ?? 'a buffer'} of ${bytes} bytes: the adapter's maxBufferSize is ${this.maxBufferSize}`,
        'maxBufferSize',
      );
    }
    const key = `${usage}:${size}`;
    const list = this.#free.get(key);
    let buf = list?.pop();
    if (buf) {
      this.#pooled -= buf.size;
      this.#nPooled--;
    } else {
      const alloc = Math.min(size, Math.ceil(this.maxBufferSize / 4) * 4);
      try {
        buf = this.device.createBuffer({ size: Math.max(alloc, Math.ceil(bytes / 4) * 4), usage, label });
      } catch (e) {
        throw new OutOfMemoryError(`GPU buffer of ${size} bytes could not be created: ${(e as Error).message}`);
      }
    }
    this.#inUse += buf.size;
    this.#nInUse++;
    return buf;
  }

  release(buf: GPUBuffer, usage: number): void {
    const size = buf.size;
    const key = `${usage}:${sizeClass(size)}`;
    let list = this.#free.get(key);
    if (!list) this.#free.set(key, (list = []));
    list.push(buf);
    this.#inUse -= size;
    this.#nInUse--;
    this.#pooled += size;
    this.#nPooled++;
  }

  /** Destroys every pooled (free) buffer. */
  trim(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
    this.#pooled = 0;
    this.#nPooled = 0;
  }

  stats(): PoolStats {
    return { bytesInUse: this.#inUse, bytesPooled: this.#pooled, buffersInUse: this.#nInUse, buffersPooled: this.#nPooled };
  }
}
