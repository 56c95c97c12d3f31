// CIFAR-10 / CIFAR-100 "binary version" loaders. Each record is the label
// byte(s) followed by 3072 pixel bytes already in CHW order (1024 R, 1024 G,
// 1024 B, row-major 32x32), so records map straight onto NCHW. The parser
// (parseCifarRecords) is pure; the load* functions are Node-only file access.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from './errors.js';
import { statsFor, type ImageDataset } from './dataset.js';

const PIXELS = 3 * 32 * 32;
const CIFAR_URL = 'https://www.cs.toronto.edu/~kriz/cifar.html';

/** Layout of one CIFAR variant's binary records. */
export interface CifarVariant {
  /** Label bytes before the pixels: 1 for CIFAR-10, 2 (coarse, fine) for CIFAR-100. */
  labelBytes: number;
  /** Which label byte is the class: 0 for CIFAR-10, 1 (fine) for CIFAR-100. */
  labelIndex: number;
  numClasses: number;
}

/** CIFAR-10 records: 1 label byte + 3072 pixels, 10 classes. */
export const CIFAR10: CifarVariant = { labelBytes: 1, labelIndex: 0, numClasses: 10 };
/** CIFAR-100 records: coarse + fine label bytes + 3072 pixels; the fine label (100 classes) is used. */
export const CIFAR100: CifarVariant = { labelBytes: 2, labelIndex: 1, numClasses: 100 };

/**
 * Parse one CIFAR binary file into images (N*3*32*32, NCHW) and labels.
 * @throws DatasetError naming `file` if its size is not a multiple of the record size
 *   or a label is out of range.
 */
export function parseCifarRecords(bytes: Uint8Array, file: string, variant: CifarVariant): { images: Uint8Array; labels: Uint8Array; n: number } {
  const rec = variant.labelBytes + PIXELS;
  if (bytes.length === 0 || bytes.length % rec !== 0) {
    throw new DatasetError(
      file,
      `file size ${bytes.length} is not a positive multiple of the ${rec}-byte record size ` +
        `(${variant.labelBytes} label byte(s) + ${PIXELS} pixels); truncated, or the wrong CIFAR variant?`,
    );
  }
  const n = bytes.length / rec;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const off = i * rec;
    const label = bytes[off + variant.labelIndex]!;
    if (label >= variant.numClasses) {
      throw new DatasetError(
        file,
        `label out of range: label ${label} in record ${i} but there are only ${variant.numClasses} classes (0..${variant.numClasses - 1})`,
      );
    }
    labels[i] = label;
    images.set(bytes.subarray(off + variant.labelBytes, off + rec), i * PIXELS);
  }
  return { images, labels, n };
}

/** Concatenate parsed parts into one dataset. */
function assemble(
  parts: { images: Uint8Array; labels: Uint8Array; n: number }[],
  variant: CifarVariant,
  name: string,
  family: 'cifar10' | 'cifar100',
): ImageDataset {
  const n = parts.reduce((s, p) => s + p.n, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * PIXELS);
    labels.set(p.labels, at);
    at += p.n;
  }
  return { images, labels, n, c: 3, h: 32, w: 32, numClasses: variant.numClasses, name, ...statsFor(family) };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Locate `files` either directly in `dir` or in `dir/subdir` (the folder the official
 * tarball unpacks to). Returns the folder that has all of them.
 */
async function locate(dir: string, subdir: string, files: string[], what: string): Promise<string> {
  const candidates = [dir, join(dir, subdir)];
  let best: { folder: string; missing: string[] } | null = null;
  for (const folder of candidates) {
    const present = await Promise.all(files.map((f) => isFile(join(folder, f))));
    const missing = files.filter((_, i) => !present[i]);
    if (missing.length === 0) return folder;
    if (best === null || missing.length < best.missing.length) best = { folder, missing };
  }
  const b = best!;
  throw new DatasetError(
    b.folder,
    `missing ${what} files in ${b.folder}: ${b.missing.join(', ')} (also looked in ${candidates
      .filter((c) => c !== b.folder)
      .join(', ')}). Download the "binary version" from ${CIFAR_URL}, unpack it, and pass the directory.`,
  );
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new DatasetError(path, `cannot read file: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function loadParts(folder: string, files: string[], variant: CifarVariant) {
  const parts = [];
  for (const f of files) {
    const path = join(folder, f);
    parts.push(parseCifarRecords(await readBytes(path), path, variant));
  }
  return parts;
}

/**
 * Load CIFAR-10 (50000 train / 10000 test, 3x32x32) from the binary version:
 * data_batch_1..5.bin and test_batch.bin in `dir` or `dir/cifar-10-batches-bin`.
 * @throws DatasetError naming missing files, or a malformed file.
 */
export async function loadCifar10(dir: string): Promise<{ train: ImageDataset; test: ImageDataset; source: string }> {
  const trainFiles = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
  const testFiles = ['test_batch.bin'];
  const folder = await locate(dir, 'cifar-10-batches-bin', [...trainFiles, ...testFiles], 'CIFAR-10');
  const train = assemble(await loadParts(folder, trainFiles, CIFAR10), CIFAR10, 'cifar10/train', 'cifar10');
  const test = assemble(await loadParts(folder, testFiles, CIFAR10), CIFAR10, 'cifar10/test', 'cifar10');
  return { train, test, source: folder };
}

/**
 * Load CIFAR-100 (fine labels, 100 classes) from the binary version:
 * train.bin and test.bin in `dir` or `dir/cifar-100-binary`.
 * @throws DatasetError naming missing files, or a malformed file.
 */
export async function loadCifar100(dir: string): Promise<{ train: ImageDataset; test: ImageDataset; source: string }> {
  const folder = await locate(dir, 'cifar-100-binary', ['train.bin', 'test.bin'], 'CIFAR-100');
  const train = assemble(await loadParts(folder, ['train.bin'], CIFAR100), CIFAR100, 'cifar100/train', 'cifar100');
  const test = assemble(await loadParts(folder, ['test.bin'], CIFAR100), CIFAR100, 'cifar100/test', 'cifar100');
  return { train, test, source: folder };
}
