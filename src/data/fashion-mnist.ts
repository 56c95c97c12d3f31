// Node-only loader for Fashion-MNIST from a directory of IDX files (gzipped or
// plain). Parsing lives in idx.ts; this file only finds and reads the files and
// explains clearly what to do when they are missing.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from './errors.js';
import { idxToDataset } from './idx.js';
import { statsFor, type ImageDataset } from './dataset.js';

/** Where the Debian/Ubuntu package `dataset-fashion-mnist` installs the files. */
export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Base names of the four files (each may also carry a .gz suffix). */
export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const HOW_TO_GET =
  'To get Fashion-MNIST: on Debian/Ubuntu run `sudo apt-get install dataset-fashion-mnist` ' +
  `(installs into ${DEFAULT_FASHION_MNIST_DIR}), or download the four files from ` +
  'https://github.com/zalandoresearch/fashion-mnist (folder data/fashion) and pass the directory ' +
  'with `--data fashion-mnist:DIR` (or set AUTOMIX_FASHION_MNIST_DIR).';

/** The directory used when none is given: $AUTOMIX_FASHION_MNIST_DIR, else the Debian location. */
export function defaultFashionMnistDir(): string {
  const env = process.env['AUTOMIX_FASHION_MNIST_DIR'];
  return env !== undefined && env !== '' ? env : DEFAULT_FASHION_MNIST_DIR;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Resolve `base` in `dir`, preferring the plain file (no decompression) over `base.gz`. */
async function findVariant(dir: string, base: string): Promise<string | null> {
  for (const candidate of [base, `${base}.gz`]) {
    const p = join(dir, candidate);
    if (await isFile(p)) return p;
  }
  return null;
}

async function readBytes(path: string): Promise<Uint8Array> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new DatasetError(path, `cannot read file: ${e instanceof Error ? e.message : String(e)}`);
  }
  // A plain Uint8Array view, so later subarray() calls behave like typed arrays everywhere.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Load the Fashion-MNIST train (60000) and test (10000) splits as 1x28x28 images.
 * @param dir directory with the four IDX files (plain or .gz); default {@link defaultFashionMnistDir}.
 * @returns both splits and `source`, the directory they were read from.
 * @throws DatasetError listing exactly which files are missing (and how to get them),
 *   or describing the first malformed file.
 */
export async function loadFashionMnist(dir?: string): Promise<{ train: ImageDataset; test: ImageDataset; source: string }> {
  const root = dir ?? defaultFashionMnistDir();
  let dirExists = false;
  try {
    dirExists = (await stat(root)).isDirectory();
  } catch {
    dirExists = false;
  }
  if (!dirExists) {
    throw new DatasetError(root, `Fashion-MNIST directory does not exist (or is not a directory). ${HOW_TO_GET}`);
  }

  const bases = Object.values(FASHION_MNIST_FILES);
  const found = await Promise.all(bases.map((b) => findVariant(root, b)));
  const missing = bases.filter((_, i) => found[i] === null);
  if (missing.length > 0) {
    throw new DatasetError(root, `missing Fashion-MNIST files in ${root}: ${missing.map((m) => `${m}(.gz)`).join(', ')}. ${HOW_TO_GET}`);
  }
  const [trainImagesPath, trainLabelsPath, testImagesPath, testLabelsPath] = found as [string, string, string, string];
  const stats = statsFor('fashion-mnist');
  const [trainImages, trainLabels, testImages, testLabels] = (await Promise.all(
    [trainImagesPath, trainLabelsPath, testImagesPath, testLabelsPath].map(readBytes),
  )) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

  const train = idxToDataset(trainImages, trainLabels, {
    imagesFile: trainImagesPath,
    labelsFile: trainLabelsPath,
    name: 'fashion-mnist/train',
    numClasses: 10,
    ...stats,
  });
  const test = idxToDataset(testImages, testLabels, {
    imagesFile: testImagesPath,
    labelsFile: testLabelsPath,
    name: 'fashion-mnist/test',
    numClasses: 10,
    ...stats,
  });
  return { train, test, source: root };
}

/** Human-readable class names, indexed by label. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;
