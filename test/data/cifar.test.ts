// CIFAR-10/100 binary loaders on small generated files, including malformed ones.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCifar10, loadCifar100, parseCifarRecords, CIFAR10 } from '../../src/data/cifar.js';
import { DatasetError } from '../../src/data/errors.js';
import { validateDataset } from '../../src/data/dataset.js';

/** `n` records; record i has label(s) from `label(i)` and pixels (i + j) mod 256. */
function records(n: number, labelBytes: number, label: (i: number) => number[]): Uint8Array {
  const rec = labelBytes + 3072;
  const out = new Uint8Array(n * rec);
  for (let i = 0; i < n; i++) {
    out.set(label(i), i * rec);
    for (let j = 0; j < 3072; j++) out[i * rec + labelBytes + j] = (i + j) & 0xff;
  }
  return out;
}

async function datasetError(fn: () => Promise<unknown>): Promise<DatasetError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

describe('CIFAR loaders', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'automix-cifar-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function cifar10Dir(name: string, sub: boolean, override: Record<string, Uint8Array | null> = {}) {
    const dir = join(root, name);
    const folder = sub ? join(dir, 'cifar-10-batches-bin') : dir;
    await mkdir(folder, { recursive: true });
    const files: Record<string, Uint8Array | null> = {};
    for (let b = 1; b <= 5; b++) files[`data_batch_${b}.bin`] = records(2, 1, (i) => [(b * 2 + i) % 10]);
    files['test_batch.bin'] = records(3, 1, (i) => [i]);
    Object.assign(files, override);
    for (const [f, bytes] of Object.entries(files)) if (bytes) await writeFile(join(folder, f), bytes);
    return dir;
  }

  it('loads CIFAR-10 from dir/cifar-10-batches-bin, concatenating batches in order', async () => {
    const dir = await cifar10Dir('c10', true);
    const { train, test, source } = await loadCifar10(dir);
    expect(source).toBe(join(dir, 'cifar-10-batches-bin'));
    expect([train.n, train.c, train.h, train.w, train.numClasses]).toEqual([10, 3, 32, 32, 10]);
    expect(test.n).toBe(3);
    expect(Array.from(train.labels)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(train.images[3072]).toBe(1); // record 1 of batch 1, first pixel (R channel)
    expect(train.images[3072 + 1024]).toBe((1 + 1024) & 0xff); // first G pixel: CHW layout preserved
    expect(train.mean).toEqual([0.4914, 0.4822, 0.4465]);
    expect(validateDataset(train)).toBeNull();
  });

  it('loads CIFAR-10 directly from dir too', async () => {
    const dir = await cifar10Dir('c10flat', false);
    const { train, source } = await loadCifar10(dir);
    expect(source).toBe(dir);
    expect(train.n).toBe(10);
  });

  it('loads CIFAR-100 fine labels (second label byte)', async () => {
    const dir = join(root, 'c100');
    const folder = join(dir, 'cifar-100-binary');
    await mkdir(folder, { recursive: true });
    await writeFile(
      join(folder, 'train.bin'),
      records(4, 2, (i) => [19 - i, 90 + i]),
    );
    await writeFile(
      join(folder, 'test.bin'),
      records(2, 2, (i) => [0, i]),
    );
    const { train, test } = await loadCifar100(dir);
    expect(train.numClasses).toBe(100);
    expect(Array.from(train.labels)).toEqual([90, 91, 92, 93]);
    expect(Array.from(test.labels)).toEqual([0, 1]);
    expect(train.std).toEqual([0.2673, 0.2564, 0.2762]);
    expect(train.images[0]).toBe(0);
    expect(train.images[3072]).toBe(1);
  });

  it('names missing files and where to download the binary version', async () => {
    const dir = await cifar10Dir('c10missing', true, { 'data_batch_3.bin': null, 'test_batch.bin': null });
    const e = await datasetError(() => loadCifar10(dir));
    expect(e.message).toContain('data_batch_3.bin');
    expect(e.message).toContain('test_batch.bin');
    expect(e.message).not.toContain('data_batch_1.bin');
    expect(e.message).toContain('binary version');
    expect(e.message).toContain('https://www.cs.toronto.edu/~kriz/cifar.html');
    expect(e.file).toBe(join(dir, 'cifar-10-batches-bin'));
  });

  it('reports a missing CIFAR-100 directory', async () => {
    const dir = join(root, 'nothing-here');
    const e = await datasetError(() => loadCifar100(dir));
    expect(e.message).toContain('train.bin');
    expect(e.message).toContain('test.bin');
    expect(e.message).toContain(dir);
  });

  it('rejects a file whose size is not a multiple of the record size', async () => {
    const bad = records(2, 1, () => [0]).subarray(0, 3073 + 100);
    const dir = await cifar10Dir('c10trunc', false, { 'data_batch_2.bin': bad });
    const e = await datasetError(() => loadCifar10(dir));
    expect(e.message).toMatch(/file size 3173 is not a positive multiple of the 3073-byte record size/);
    expect(e.file).toBe(join(dir, 'data_batch_2.bin'));
  });

  it('rejects out-of-range labels, naming the record', () => {
    const bytes = records(3, 1, (i) => [i === 2 ? 10 : 0]);
    expect(() => parseCifarRecords(bytes, 'x.bin', CIFAR10)).toThrow(/x\.bin: label out of range: label 10 in record 2/);
  });
});
