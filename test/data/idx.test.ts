// IDX parsing and the Fashion-MNIST loader: the real dataset, and a corpus of
// malformed files whose errors must name both the problem and the file.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFashionMnist, DEFAULT_FASHION_MNIST_DIR } from '../../src/data/fashion-mnist.js';
import { idxToDataset, maybeGunzip, parseIdx, IDX_IMAGES_MAGIC } from '../../src/data/idx.js';
import { DatasetError } from '../../src/data/errors.js';
import { validateDataset, limitDataset } from '../../src/data/dataset.js';
import { gzip, makeIdx, makeImages, makeLabels } from './idx-fixtures.js';

/** Run `fn`, expect a DatasetError, and return it. */
async function datasetError(fn: () => Promise<unknown> | unknown): Promise<DatasetError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError, but nothing was thrown');
}

describe('real Fashion-MNIST', () => {
  it('loads 60000/10000 28x28 images with labels 0..9', async () => {
    const { train, test, source } = await loadFashionMnist(DEFAULT_FASHION_MNIST_DIR);
    expect(source).toBe(DEFAULT_FASHION_MNIST_DIR);
    expect([train.n, train.c, train.h, train.w]).toEqual([60000, 1, 28, 28]);
    expect([test.n, test.c, test.h, test.w]).toEqual([10000, 1, 28, 28]);
    expect(train.images.length).toBe(60000 * 784);
    expect(train.labels[0]).toBe(9); // first training image is an ankle boot
    expect(test.labels[0]).toBe(9);
    expect(validateDataset(train)).toBeNull();
    expect(validateDataset(test)).toBeNull();
    const counts = new Array<number>(10).fill(0);
    for (const l of train.labels) counts[l]!++;
    expect(counts).toEqual(new Array(10).fill(6000)); // Fashion-MNIST is exactly balanced
    expect(train.mean).toEqual([0.286]);
    expect(train.std).toEqual([0.353]);
    // The dataset mean pixel matches the published statistic.
    let sum = 0;
    for (const v of train.images) sum += v;
    expect(sum / train.images.length / 255).toBeCloseTo(0.286, 3);
    const small = limitDataset(train, 100);
    expect(small.n).toBe(100);
    expect(small.images.length).toBe(100 * 784);
    expect(validateDataset(small)).toBeNull();
  });
});

describe('IDX parser', () => {
  it('parses plain and gzipped bytes identically', () => {
    const img = makeImages(3, 4, 5);
    const lab = makeLabels(3, 10);
    const opts = { imagesFile: 'i', labelsFile: 'l', name: 't', numClasses: 10, mean: [0.5], std: [0.5] };
    const a = idxToDataset(img, lab, opts);
    const b = idxToDataset(gzip(img), gzip(lab), opts);
    expect([a.n, a.h, a.w]).toEqual([3, 4, 5]);
    expect(Array.from(a.labels)).toEqual([0, 1, 2]);
    expect(Array.from(b.images)).toEqual(Array.from(a.images));
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
  });

  it('reports wrong magic in hex with expected and found', async () => {
    const bad = makeIdx(0x00000802, [1], new Uint8Array(1));
    const e = await datasetError(() => parseIdx(bad, 'foo.idx', IDX_IMAGES_MAGIC));
    expect(e.message).toContain('foo.idx');
    expect(e.message).toContain('0x00000803');
    expect(e.message).toContain('0x00000802');
  });

  it('refuses a gzip trailer that claims an impossible size without allocating it', async () => {
    const gz = gzip(makeImages(2, 3, 3));
    gz.set([0xff, 0xff, 0xff, 0x7f], gz.length - 4);
    const e = await datasetError(() => maybeGunzip(gz, 'x.gz'));
    expect(e.message).toMatch(/corrupt gzip/);
  });
});

describe('malformed Fashion-MNIST corpus', () => {
  let root: string;
  const N = 6;

  /** Write a complete, valid set of four files into a fresh subdirectory, then apply `mutate`. */
  async function makeSet(
    name: string,
    mutate: Partial<Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', Uint8Array | null>> = {},
    gz = false,
  ): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const files: Record<string, Uint8Array | null> = {
      trainImages: makeImages(N, 4, 4),
      trainLabels: makeLabels(N, 10),
      testImages: makeImages(3, 4, 4),
      testLabels: makeLabels(3, 10),
      ...mutate,
    };
    const names: Record<string, string> = {
      trainImages: 'train-images-idx3-ubyte',
      trainLabels: 'train-labels-idx1-ubyte',
      testImages: 't10k-images-idx3-ubyte',
      testLabels: 't10k-labels-idx1-ubyte',
    };
    for (const [k, bytes] of Object.entries(files)) {
      if (bytes === null) continue;
      await writeFile(join(dir, names[k]! + (gz ? '.gz' : '')), gz ? gzip(bytes) : bytes);
    }
    return dir;
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'automix-idx-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('loads a valid plain set and a valid gzipped set', async () => {
    for (const gz of [false, true]) {
      const dir = await makeSet(`valid-${gz}`, {}, gz);
      const { train, test } = await loadFashionMnist(dir);
      expect([train.n, train.h, train.w, test.n]).toEqual([N, 4, 4, 3]);
      expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });

  it('wrong magic number', async () => {
    const img = makeImages(N, 4, 4);
    img[3] = 0x01;
    const dir = await makeSet('magic', { trainImages: img });
    const e = await datasetError(() => loadFashionMnist(dir));
    expect(e.message).toMatch(/wrong magic number: expected 0x00000803.*found 0x00000801/);
    expect(e.file).toBe(join(dir, 'train-images-idx3-ubyte'));
    expect(e.message).toContain(e.file);
  });

  it('truncated images file', async () => {
    const dir = await makeSet('truncated', { testImages: makeImages(3, 4, 4).subarray(0, 40) });
    const e = await datasetError(() => loadFashionMnist(dir));
    expect(e.message).toMatch(/truncated IDX file: expected 64 bytes .*found 40/);
    expect(e.message).toContain(join(dir, 't10k-images-idx3-ubyte'));
  });

  it('truncated header', async () => {
    const dir = await makeSet('short-header', { trainLabels: new Uint8Array([0, 0, 8, 1, 0]) });
    const e = await datasetError(() => loadFashionMnist(dir));
    expect(e.message).toMatch(/truncated IDX file: expected 8 header bytes, found 5/);
    expect(e.file).toBe(join(dir, 'train-labels-idx1-ubyte'));
  });

  it('label / image count mismatch', async () => {
    const dir = await makeSet('count', { trainLabels: makeLabels(N - 1, 10) });
    const e = await datasetError(() => loadFashionMnist(dir));
    expect(e.message).toMatch(/label\/image count mismatch: 5 labels but .* has 6 images/);
    expect(e.file).toBe(join(dir, 'train-labels-idx1-ubyte'));
  });

  it('label out of range', async () => {
    const labels = makeLabels(3, 10);
    labels[labels.length - 1] = 10;
    const dir = await makeSet('label', { testLabels: labels });
    const e = await datasetError(() => loadFashionMnist(dir));
    expect(e.message).toMatch(/label out of range: label 10 at index 2/);
    expect(e.file).toBe(join(dir, 't10k-labels-idx1-ubyte'));
  });

  it('corrupt gzip', async () => {
    const dir = await makeSet('gzip', {}, true);
    const path = join(dir, 'train-images-idx3-ubyte.gz');
    const gz = gzip(makeImages(N, 4, 4));
    gz[Math.floor(gz.length / 2)]! ^= 0x55;
    await writeFile(path, gz);
    const e = await datasetError(() => loadFashionMnist(dir));
    expect(e.message).toMatch(/corrupt gzip/);
    expect(e.file).toBe(path);
  });

  it('missing directory', async () => {
    const dir = join(root, 'does-not-exist');
    const e = await datasetError(() => loadFashionMnist(dir));
    expect(e.message).toContain(dir);
    expect(e.message).toMatch(/does not exist/);
    expect(e.message).toContain('sudo apt-get install dataset-fashion-mnist');
  });

  it('missing files are listed exactly, with how to get them', async () => {
    const dir = await makeSet('missing', { trainLabels: null, testImages: null });
    const e = await datasetError(() => loadFashionMnist(dir));
    expect(e.file).toBe(dir);
    expect(e.message).toContain('train-labels-idx1-ubyte');
    expect(e.message).toContain('t10k-images-idx3-ubyte');
    expect(e.message).not.toContain('train-images-idx3-ubyte');
    expect(e.message).not.toContain('t10k-labels-idx1-ubyte');
    expect(e.message).toContain('sudo apt-get install dataset-fashion-mnist');
    expect(e.message).toContain('https://github.com/zalandoresearch/fashion-mnist');
    expect(e.message).toContain('--data fashion-mnist:DIR');
  });

  it('uses AUTOMIX_FASHION_MNIST_DIR when no directory is given', async () => {
    const dir = await makeSet('env');
    const before = process.env['AUTOMIX_FASHION_MNIST_DIR'];
    process.env['AUTOMIX_FASHION_MNIST_DIR'] = dir;
    try {
      const { source, train } = await loadFashionMnist();
      expect(source).toBe(dir);
      expect(train.n).toBe(N);
    } finally {
      if (before === undefined) delete process.env['AUTOMIX_FASHION_MNIST_DIR'];
      else process.env['AUTOMIX_FASHION_MNIST_DIR'] = before;
    }
  });
});
