/**
 * BufferPool: reuses GPU buffers by size class so that a training step that
 * allocates the same activations every iteration stops allocating after the
 * first. Size classes are 2^k and 1.25/1.5/1.75·2^k (at most 25% slack).
 */
import type { GpuCounters } from '../device/counters.js';
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

  /** Buffers acquired while a step is being captured (see `track`). */
  #tracking: Set<GPUBuffer> | null = null;
  /** Buffers a replay plan uses: when their owner releases them they wait in `#parked`. */
  #reserved = new Map<GPUBuffer, number>();
  #parked = new Map<GPUBuffer, number>();

  constructor(
    readonly device: GPUDevice,
    readonly maxBufferSize: number,
    readonly counters?: GpuCounters,
  ) {}

  acquire(bytes: number, usage: number, label?: string): GPUBuffer {
    // What is created: the size class, but never more than the adapter allows (the class of a
    // request near maxBufferSize rounds past it: 4,294,967,295 → 4,294,967,296 on lavapipe), and
    // never less than the request rounded to 4 bytes — which must itself fit.
    const need = Math.ceil(bytes / 4) * 4;
    if (!(need <= this.maxBufferSize)) {
      throw new LimitError(`cannot allocate ${label ?? 'a buffer'} of ${bytes} bytes: the adapter's maxBufferSize is ${this.maxBufferSize}`, 'maxBufferSize');
    }
    const cls = sizeClass(bytes);
    const size = Math.max(need, Math.min(cls, Math.floor(this.maxBufferSize / 4) * 4));
    const key = `${usage}:${cls}`;
    const list = this.#free.get(key);
    let buf = list?.pop();
    if (buf) {
      this.#pooled -= buf.size;
      this.#nPooled--;
    } else {
      try {
        buf = this.device.createBuffer({ size, usage, label });
        if (this.counters) this.counters.buffers++;
      } catch (e) {
        throw new OutOfMemoryError(`GPU buffer of ${size} bytes could not be created: ${(e as Error).message}`);
      }
    }
    this.#inUse += buf.size;
    this.#nInUse++;
    this.#tracking?.add(buf);
    return buf;
  }

  release(buf: GPUBuffer, usage: number): void {
    if (this.#reserved.has(buf)) {
      // A replay plan still binds it: it must not be handed to anyone else.
      this.#parked.set(buf, usage);
      return;
    }
    this.#toFree(buf, usage);
  }

  #toFree(buf: GPUBuffer, usage: number): void {
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

  /** Starts (a set) or stops (null) recording which buffers `acquire` hands out. */
  track(set: Set<GPUBuffer> | null): void {
    this.#tracking = set;
  }

  /**
   * Takes a free buffer out of the pool for good (a replay plan's scratch
   * memory); false when it is not free. Give it back with `release`.
   */
  take(buf: GPUBuffer, usage: number): boolean {
    const list = this.#free.get(`${usage}:${sizeClass(buf.size)}`);
    const i = list ? list.indexOf(buf) : -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    this.#pooled -= buf.size;
    this.#nPooled--;
    this.#inUse += buf.size;
    this.#nInUse++;
    return true;
  }

  /** Marks a buffer some other owner holds as used by a replay plan (counted: several plans may). */
  reserve(buf: GPUBuffer): void {
    this.#reserved.set(buf, (this.#reserved.get(buf) ?? 0) + 1);
  }

  /** Ends one plan's reservation; a buffer its owner released meanwhile returns to the pool. */
  unreserve(buf: GPUBuffer): void {
    const n = (this.#reserved.get(buf) ?? 0) - 1;
    if (n > 0) {
      this.#reserved.set(buf, n);
      return;
    }
    this.#reserved.delete(buf);
    const usage = this.#parked.get(buf);
    if (usage !== undefined) {
      this.#parked.delete(buf);
      this.#toFree(buf, usage);
    }
  }

  /** True when a reserved buffer's owner has released it (a plan would write into freed memory). */
  isParked(buf: GPUBuffer): boolean {
    return this.#parked.has(buf);
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
