// Mini-batch assembly for training and evaluation: deterministic shuffling,
// random-crop / horizontal-flip augmentation, normalisation to float32 NCHW,
// and one batch of prefetch so the CPU work overlaps the GPU step.
//
// Reproducibility contract: the sample order of epoch e depends only on
// (seed, e), and the augmentation of batch k of epoch e only on (seed, e, k).
// A loader created after a restart and positioned with seek(e, k) therefore
// yields exactly the batches the interrupted run would have seen.

import { Rng } from '../util/rng.js';
import type { ImageDataset } from './dataset.js';

/** Augmentations applied per sample (training only). */
export interface AugmentOptions {
  /** Zero-pad each side by this many pixels, then randomly crop back to H x W (0 = off). */
  cropPadding?: number;
  /** Randomly mirror images left-right with probability 1/2. */
  flip?: boolean;
}

/** Options for {@link BatchLoader}. */
export interface BatchLoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default true). With false, samples come in dataset order. */
  shuffle?: boolean;
  /** Seed of the shuffle / augmentation streams (default 0). */
  seed?: number;
  /** Alternative to `seed`: one uint32 is drawn from this generator to become the seed. */
  rng?: Rng;
  augment?: AugmentOptions;
  /** Drop the final incomplete batch of each epoch (default false). */
  dropLast?: boolean;
}

/** One assembled mini-batch. */
export interface Batch {
  /** [n, C, H, W] normalised pixels ((v/255 - mean) / std). */
  x: Float32Array;
  /** [n] class labels. */
  y: Int32Array;
  /** Number of samples (equal to batchSize except possibly for the last batch). */
  n: number;
  epoch: number;
  /** Batch index within the epoch. */
  index: number;
  /** Dataset indices of the samples, in batch order. */
  indices: Int32Array;
}

// Stream tags keep the shuffle and augmentation streams independent of each other.
const SHUFFLE_TAG = 0x5348_5546; // "SHUF"
const AUGMENT_TAG = 0x4155_4732; // "AUG2"

/** Number of rotating batch buffers: the batch in use, the previous one, and the prefetch target. */
const RING = 3;

/** Run `fn` after the current macrotask so that a just-submitted GPU step proceeds first. */
const defer: (fn: () => void) => void = typeof globalThis.setImmediate === 'function' ? (fn) => globalThis.setImmediate(fn) : (fn) => setTimeout(fn, 0);

interface Slot {
  x: Float32Array;
  y: Int32Array;
  indices: Int32Array;
}

interface Pending {
  epoch: number;
  index: number;
  promise: Promise<Batch>;
  /** Shared with the deferred job so cancellation is seen when it runs. */
  state: { cancelled: boolean };
}

/**
 * Produces normalised, optionally augmented mini-batches of an {@link ImageDataset}.
 *
 * Buffers are reused: the loader rotates through three preallocated buffer sets
 * (double buffering plus the prefetch target). A returned batch's arrays stay
 * valid until the batch after next is requested (i.e. batch k may be overwritten
 * once batch k+2 is requested); copy them if you need them longer.
 *
 * One loader serves one stream of batches; use separate loaders for train and eval.
 */
export class BatchLoader {
  readonly ds: ImageDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly cropPadding: number;
  readonly flip: boolean;

  private readonly lut: Float32Array;
  private readonly slots: Slot[] = [];
  private nextSlot = 0;
  private orderEpoch = -1;
  private orderCache: Int32Array | null = null;
  private cursorEpoch = 0;
  private cursorIndex = 0;
  private pending: Pending | null = null;

  constructor(ds: ImageDataset, opts: BatchLoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) {
      throw new RangeError(`batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    const pad = opts.augment?.cropPadding ?? 0;
    if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`cropPadding must be an integer >= 0, got ${pad}`);
    if (ds.mean.length !== ds.c || ds.std.length !== ds.c) {
      throw new RangeError(`dataset ${ds.name}: mean/std need ${ds.c} entries, got ${ds.mean.length}/${ds.std.length}`);
    }
    this.ds = ds;
    this.batchSize = opts.batchSize;
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? (opts.rng ? opts.rng.nextU32() : 0);
    this.dropLast = opts.dropLast ?? false;
    this.cropPadding = pad;
    this.flip = opts.augment?.flip ?? false;

    // Byte -> normalised float lookup per channel: one table read per pixel.
    this.lut = new Float32Array(ds.c * 256);
    for (let c = 0; c < ds.c; c++) {
      for (let v = 0; v < 256; v++) this.lut[c * 256 + v] = (v / 255 - ds.mean[c]!) / ds.std[c]!;
    }
    const per = ds.c * ds.h * ds.w;
    for (let i = 0; i < RING; i++) {
      this.slots.push({
        x: new Float32Array(this.batchSize * per),
        y: new Int32Array(this.batchSize),
        indices: new Int32Array(this.batchSize),
      });
    }
  }

  /** Batches per epoch (floor with dropLast, ceil without). */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.ds.n / this.batchSize) : Math.ceil(this.ds.n / this.batchSize);
  }

  /** The (epoch, batch index) that the next call to {@link nextBatch} returns. */
  get position(): { epoch: number; index: number } {
    return { epoch: this.cursorEpoch, index: this.cursorIndex };
  }

  /** Sample order of `epoch`: a permutation derived only from (seed, epoch), or identity without shuffle. */
  order(epoch: number): Int32Array {
    if (this.orderEpoch === epoch && this.orderCache) return this.orderCache;
    let order: Int32Array;
    if (this.shuffle) {
      order = Rng.fromKeys(this.seed, SHUFFLE_TAG, epoch).permutation(this.ds.n);
    } else {
      order = new Int32Array(this.ds.n);
      for (let i = 0; i < order.length; i++) order[i] = i;
    }
    this.orderEpoch = epoch;
    this.orderCache = order;
    return order;
  }

  /**
   * Position the stream at batch `index` of `epoch` (for exact resume). Any prefetched
   * batch for another position is discarded; batches returned before a seek that moved
   * the position should be treated as invalid.
   */
  seek(epoch: number, index = 0): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be an integer >= 0, got ${epoch}`);
    if (!Number.isInteger(index) || index < 0 || index > this.batchesPerEpoch) {
      throw new RangeError(`batch index must be in 0..${this.batchesPerEpoch}, got ${index}`);
    }
    this.cursorEpoch = epoch;
    this.cursorIndex = index;
    this.normaliseCursor();
    if (this.pending && (this.pending.epoch !== this.cursorEpoch || this.pending.index !== this.cursorIndex)) {
      this.pending.state.cancelled = true;
      this.pending = null;
    }
  }

  /**
   * The next batch of the stream, crossing epoch boundaries automatically, and start
   * assembling the one after it in the background.
   */
  nextBatch(): Promise<Batch> {
    if (this.batchesPerEpoch === 0) {
      return Promise.reject(new RangeError(`dataset ${this.ds.name} has no complete batch of ${this.batchSize}`));
    }
    const epoch = this.cursorEpoch;
    const index = this.cursorIndex;
    let current: Promise<Batch>;
    if (this.pending && this.pending.epoch === epoch && this.pending.index === index) {
      current = this.pending.promise;
    } else {
      if (this.pending) this.pending.state.cancelled = true;
      current = Promise.resolve(this.assemble(epoch, index));
    }
    this.cursorIndex++;
    this.normaliseCursor();
    this.pending = this.schedule(this.cursorEpoch, this.cursorIndex);
    return current;
  }

  /**
   * Iterate the batches of one epoch, starting at batch `start` (for resume).
   * Moves the loader's stream position; stops at the end of the epoch.
   */
  async *batches(epoch: number, start = 0): AsyncGenerator<Batch> {
    this.seek(epoch, start);
    if (start >= this.batchesPerEpoch) return;
    for (let k = start; k < this.batchesPerEpoch; k++) {
      yield await this.nextBatch();
    }
  }

  /**
   * Assemble batch `index` of `epoch` synchronously into the next ring buffer.
   * Exposed for tests and for callers that want no prefetch.
   */
  assemble(epoch: number, index: number): Batch {
    const slot = this.slots[this.nextSlot]!;
    this.nextSlot = (this.nextSlot + 1) % RING;
    return this.fill(slot, epoch, index);
  }

  private normaliseCursor(): void {
    if (this.cursorIndex >= this.batchesPerEpoch && this.batchesPerEpoch > 0) {
      this.cursorEpoch += Math.floor(this.cursorIndex / this.batchesPerEpoch);
      this.cursorIndex %= this.batchesPerEpoch;
    }
  }

  private schedule(epoch: number, index: number): Pending {
    // Reserve the slot now so the ring order matches the request order.
    const slot = this.slots[this.nextSlot]!;
    this.nextSlot = (this.nextSlot + 1) % RING;
    const state = { cancelled: false };
    const promise = new Promise<Batch>((resolve, reject) => {
      defer(() => {
        // A cancelled prefetch must not write into a slot it gave up; nobody awaits it.
        if (state.cancelled) return reject(new Error('prefetch cancelled'));
        try {
          resolve(this.fill(slot, epoch, index));
        } catch (e) {
          reject(e);
        }
      });
    });
    // A cancelled or never-awaited prefetch must not become an unhandled rejection.
    promise.catch(() => undefined);
    return { epoch, index, promise, state };
  }

  private fill(slot: Slot, epoch: number, index: number): Batch {
    const ds = this.ds;
    const bpe = this.batchesPerEpoch;
    if (index < 0 || index >= bpe) throw new RangeError(`batch index ${index} out of range 0..${bpe - 1}`);
    const order = this.order(epoch);
    const begin = index * this.batchSize;
    const n = Math.min(this.batchSize, ds.n - begin);
    const { c: C, h: H, w: W } = ds;
    const hw = H * W;
    const per = C * hw;
    const pad = this.cropPadding;
    const augmenting = pad > 0 || this.flip;
    const rng = augmenting ? Rng.fromKeys(this.seed, AUGMENT_TAG, epoch, index) : null;
    const lut = this.lut;
    const images = ds.images;
    const x = slot.x;

    for (let i = 0; i < n; i++) {
      const src = order[begin + i]!;
      slot.indices[i] = src;
      slot.y[i] = ds.labels[src]!;
      // Draw in a fixed order per sample so the stream is identical on resume.
      const dy = pad > 0 ? rng!.int(2 * pad + 1) - pad : 0;
      const dx = pad > 0 ? rng!.int(2 * pad + 1) - pad : 0;
      const mirror = this.flip ? rng!.int(2) === 1 : false;
      const srcBase = src * per;
      const dstBase = i * per;
      for (let c = 0; c < C; c++) {
        const cl = c * 256;
        // A zero-padded pixel is raw value 0, which normalises to -mean/std (as torchvision does).
        const padValue = lut[cl]!;
        for (let yy = 0; yy < H; yy++) {
          const sy = yy + dy;
          const dRow = dstBase + c * hw + yy * W;
          if (sy < 0 || sy >= H) {
            x.fill(padValue, dRow, dRow + W);
            continue;
          }
          const sRow = srcBase + c * hw + sy * W;
          for (let xx = 0; xx < W; xx++) {
            // Crop first, then mirror the cropped window: column xx reads cropped column W-1-xx.
            const sx = (mirror ? W - 1 - xx : xx) + dx;
            x[dRow + xx] = sx < 0 || sx >= W ? padValue : lut[cl + images[sRow + sx]!]!;
          }
        }
      }
    }
    return {
      x: n === this.batchSize ? x : x.subarray(0, n * per),
      y: n === this.batchSize ? slot.y : slot.y.subarray(0, n),
      indices: n === this.batchSize ? slot.indices : slot.indices.subarray(0, n),
      n,
      epoch,
      index,
    };
  }
}
