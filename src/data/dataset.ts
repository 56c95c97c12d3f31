// The in-memory image dataset shape shared by all loaders (Node or browser),
// plus the standard per-channel normalisation statistics of the supported sets.

/** A labelled image dataset held as raw bytes. */
export interface ImageDataset {
  /** N*C*H*W bytes in NCHW order, pixel values 0..255. */
  images: Uint8Array;
  /** N class indices, each < numClasses. */
  labels: Uint8Array;
  n: number;
  c: number;
  h: number;
  w: number;
  numClasses: number;
  /** Short identifier, e.g. "fashion-mnist/train". */
  name: string;
  /** Per-channel mean in 0..1 pixel units, used to normalise batches. */
  mean: number[];
  /** Per-channel standard deviation in 0..1 pixel units. */
  std: number[];
  /** The file the images were read from, for error messages (absent for generated sets). */
  file?: string;
}

/** Normalisation statistics (0..1 units) of one dataset family. */
export interface ChannelStats {
  mean: number[];
  std: number[];
}

/** Commonly used training-set statistics; the same values are applied to train and test. */
export const DATASET_STATS = {
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
} as const satisfies Record<string, { mean: readonly number[]; std: readonly number[] }>;

/** Names accepted for {@link DATASET_STATS}. */
export type DatasetFamily = keyof typeof DATASET_STATS;

/** Fresh mutable copies of a family's statistics (so callers cannot corrupt the table). */
export function statsFor(family: DatasetFamily): ChannelStats {
  const s = DATASET_STATS[family];
  return { mean: [...s.mean], std: [...s.std] };
}

/**
 * The first `n` samples of `ds` (all of it if n >= ds.n). Shares memory with `ds`
 * (subarray views), so it is free; useful for quick runs and smoke tests.
 */
export function limitDataset(ds: ImageDataset, n: number): ImageDataset {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`limitDataset: n must be an integer >= 0, got ${n}`);
  if (n >= ds.n) return ds;
  const per = ds.c * ds.h * ds.w;
  return {
    ...ds,
    images: ds.images.subarray(0, n * per),
    labels: ds.labels.subarray(0, n),
    n,
    mean: [...ds.mean],
    std: [...ds.std],
  };
}

/**
 * Check the internal consistency of a dataset (sizes, label range, stats length).
 * Returns a description of the first problem found, or null when it is valid.
 */
export function validateDataset(ds: ImageDataset): string | null {
  const dims = [ds.n, ds.c, ds.h, ds.w, ds.numClasses];
  if (!dims.every((d) => Number.isInteger(d) && d >= 0)) return `non-integer or negative dimension in ${JSON.stringify(dims)}`;
  if (ds.images.length !== ds.n * ds.c * ds.h * ds.w) {
    return `images has ${ds.images.length} bytes, expected n*c*h*w = ${ds.n * ds.c * ds.h * ds.w}`;
  }
  if (ds.labels.length !== ds.n) return `labels has ${ds.labels.length} entries, expected n = ${ds.n}`;
  if (ds.mean.length !== ds.c || ds.std.length !== ds.c) return `mean/std must have ${ds.c} entries (one per channel)`;
  if (ds.std.some((s) => !(s > 0))) return `std entries must be > 0, got ${JSON.stringify(ds.std)}`;
  for (let i = 0; i < ds.n; i++) {
    if (ds.labels[i]! >= ds.numClasses) return `label ${ds.labels[i]} at index ${i} is >= numClasses ${ds.numClasses}`;
  }
  return null;
}
