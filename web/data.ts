/**
 * Fashion-MNIST for the demo page, from either the dev server's route
 * (/datasets/fashion-mnist/<file>, see vite.config.ts) or files the user picks.
 * The IDX parsing is the library's own (src/data/idx.ts, pure: no Node APIs).
 */
import { statsFor, type ImageDataset } from '../src/data/dataset.js';
import { idxToDataset } from '../src/data/idx.js';

/** Label names, in label order (from the Fashion-MNIST README). */
export const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const BASES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
type Key = keyof typeof BASES;

export interface Splits {
  train: ImageDataset;
  test: ImageDataset;
  /** Where the data came from, for the status line. */
  source: string;
}

function build(files: Partial<Record<Key, { bytes: Uint8Array; name: string }>>, source: string, nTrain: number, nTest: number): Splits {
  const stats = statsFor('fashion-mnist');
  const { trainImages, trainLabels, testImages, testLabels } = files;
  if (!trainImages || !trainLabels) {
    const missing = [!trainImages && BASES.trainImages, !trainLabels && BASES.trainLabels].filter(Boolean);
    throw new Error(`missing ${missing.map((m) => `${m}(.gz)`).join(' and ')}`);
  }
  const full = idxToDataset(trainImages.bytes, trainLabels.bytes, {
    imagesFile: trainImages.name,
    labelsFile: trainLabels.name,
    name: 'fashion-mnist/train',
    numClasses: 10,
    ...stats,
  });
  const train = slice(full, 0, nTrain);
  let test: ImageDataset;
  if (testImages && testLabels) {
    const t = idxToDataset(testImages.bytes, testLabels.bytes, {
      imagesFile: testImages.name,
      labelsFile: testLabels.name,
      name: 'fashion-mnist/test',
      numClasses: 10,
      ...stats,
    });
    test = slice(t, 0, nTest);
  } else {
    // No test files: hold out the training images after the training subset.
    test = slice(full, train.n, nTest);
    source += ' (test: held-out training images)';
  }
  if (train.n === 0 || test.n === 0) throw new Error(`not enough images: ${full.n} in the training file`);
  return { train, test, source };
}

/** Samples [start, start + n) of a dataset, sharing memory. */
export function slice(ds: ImageDataset, start: number, n: number): ImageDataset {
  const per = ds.c * ds.h * ds.w;
  const s = Math.min(start, ds.n);
  const m = Math.max(0, Math.min(n, ds.n - s));
  return { ...ds, images: ds.images.subarray(s * per, (s + m) * per), labels: ds.labels.subarray(s, s + m), n: m, mean: [...ds.mean], std: [...ds.std] };
}

/** Fetches the four files from the dev server's /datasets/fashion-mnist/ route. */
export async function loadServed(nTrain: number, nTest: number, onProgress: (m: string) => void): Promise<Splits> {
  const files: Partial<Record<Key, { bytes: Uint8Array; name: string }>> = {};
  const keys = Object.keys(BASES) as Key[];
  await Promise.all(
    keys.map(async (k) => {
      const url = `datasets/fashion-mnist/${BASES[k]}`;
      const r = await fetch(url);
      if (!r.ok) {
        const why = (await r.text()).slice(0, 400);
        throw new Error(`GET /${url}: ${r.status} ${r.statusText}${why ? ` — ${why}` : ''}`);
      }
      files[k] = { bytes: new Uint8Array(await r.arrayBuffer()), name: r.headers.get('x-source-file') ?? url };
      onProgress(`downloaded ${BASES[k]}`);
    }),
  );
  onProgress('decompressing and parsing the IDX files…');
  return build(files, 'served by the dev server from its Fashion-MNIST directory', nTrain, nTest);
}

/** Reads user-picked files, recognised by name (train-images…, t10k-labels…, with or without .gz). */
export async function loadPicked(list: FileList | File[], nTrain: number, nTest: number): Promise<Splits> {
  const files: Partial<Record<Key, { bytes: Uint8Array; name: string }>> = {};
  for (const f of Array.from(list)) {
    const key = (Object.keys(BASES) as Key[]).find((k) => f.name.startsWith(BASES[k].split('-idx')[0]!));
    if (!key) continue;
    files[key] = { bytes: new Uint8Array(await f.arrayBuffer()), name: f.name };
  }
  if (!files.trainImages || !files.trainLabels) {
    throw new Error(
      `pick at least ${BASES.trainImages}(.gz) and ${BASES.trainLabels}(.gz); got: ${
        Array.from(list)
          .map((f) => f.name)
          .join(', ') || 'no files'
      }`,
    );
  }
  return build(
    files,
    `files picked from disk (${Object.values(files)
      .map((f) => f!.name)
      .join(', ')})`,
    nTrain,
    nTest,
  );
}
