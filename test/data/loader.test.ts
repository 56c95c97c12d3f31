// BatchLoader: normalisation, determinism per (seed, epoch), exact resume at a
// batch index, augmentation geometry, and the buffer-reuse contract.

import { describe, it, expect } from 'vitest';
import { BatchLoader, type Batch } from '../../src/data/loader.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/rng.js';

function synthetic(n: number, c = 2, h = 4, w = 5): ImageDataset {
  const images = new Uint8Array(n * c * h * w);
  const r = new Rng(99);
  for (let i = 0; i < images.length; i++) images[i] = r.int(256);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 7;
  return { images, labels, n, c, h, w, numClasses: 7, name: 'synthetic', mean: [0.5, 0.25].slice(0, c), std: [0.2, 0.4].slice(0, c) };
}

/** Deep copy of a batch (the loader reuses its buffers). */
function snap(b: Batch) {
  return { x: Array.from(b.x), y: Array.from(b.y), indices: Array.from(b.indices), n: b.n, epoch: b.epoch, index: b.index };
}

async function collect(loader: BatchLoader, epoch: number, start = 0) {
  const out = [];
  for await (const b of loader.batches(epoch, start)) out.push(snap(b));
  return out;
}

const AUG = { cropPadding: 2, flip: true };

describe('BatchLoader', () => {
  it('normalises with per-channel mean/std in dataset order without shuffle', async () => {
    const ds = synthetic(5);
    const loader = new BatchLoader(ds, { batchSize: 2, shuffle: false });
    const batches = await collect(loader, 0);
    expect(batches.map((b) => b.n)).toEqual([2, 2, 1]);
    expect(batches.map((b) => b.indices)).toEqual([[0, 1], [2, 3], [4]]);
    const per = 2 * 4 * 5;
    expect(batches[2]!.x.length).toBe(per);
    for (let k = 0; k < per; k++) {
      const c = Math.floor(k / 20);
      const v = ds.images[4 * per + k]!;
      expect(batches[2]!.x[k]).toBeCloseTo((v / 255 - ds.mean[c]!) / ds.std[c]!, 5);
    }
    expect(batches[1]!.y).toEqual([2, 3]);
  });

  it('each epoch is a permutation of the dataset; order depends on (seed, epoch) only', async () => {
    const ds = synthetic(23);
    const a = new BatchLoader(ds, { batchSize: 4, seed: 5, augment: AUG });
    const b = new BatchLoader(ds, { batchSize: 4, seed: 5, augment: AUG });
    const c = new BatchLoader(ds, { batchSize: 4, seed: 6, augment: AUG });
    const e3a = await collect(a, 3);
    const e3b = await collect(b, 3);
    expect(e3a).toEqual(e3b);
    const idx = e3a.flatMap((x) => x.indices);
    expect([...idx].sort((p, q) => p - q)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect((await collect(a, 4)).flatMap((x) => x.indices)).not.toEqual(idx);
    expect((await collect(c, 3)).flatMap((x) => x.indices)).not.toEqual(idx);
    // Visiting other epochs first does not change epoch 3.
    expect(await collect(a, 3)).toEqual(e3a);
    expect(Array.from(a.order(3))).toEqual(idx);
  });

  it('a fresh loader resumed at batch k of epoch e reproduces the rest exactly (augmentation included)', async () => {
    const ds = synthetic(30);
    const opts = { batchSize: 4, seed: 11, augment: AUG, dropLast: true };
    const full = await collect(new BatchLoader(ds, opts), 2);
    expect(full).toHaveLength(7);
    for (const k of [0, 3, 6]) {
      const resumed = await collect(new BatchLoader(ds, opts), 2, k);
      expect(resumed).toEqual(full.slice(k));
    }
    // Same via seek + nextBatch, running on into the next epoch.
    const l = new BatchLoader(ds, opts);
    l.seek(2, 5);
    const got = [snap(await l.nextBatch()), snap(await l.nextBatch()), snap(await l.nextBatch())];
    expect(got.slice(0, 2)).toEqual(full.slice(5));
    expect(got[2]).toEqual((await collect(new BatchLoader(ds, opts), 3))[0]);
    expect(l.position).toEqual({ epoch: 3, index: 1 });
  });

  it('derives the seed from an Rng when given one', async () => {
    const ds = synthetic(10);
    const a = new BatchLoader(ds, { batchSize: 3, rng: new Rng(1) });
    const b = new BatchLoader(ds, { batchSize: 3, rng: new Rng(1) });
    expect(a.seed).toBe(b.seed);
    expect(await collect(a, 0)).toEqual(await collect(b, 0));
  });

  it('dropLast drops the incomplete batch', async () => {
    const ds = synthetic(10);
    expect(new BatchLoader(ds, { batchSize: 3, dropLast: true }).batchesPerEpoch).toBe(3);
    expect(new BatchLoader(ds, { batchSize: 3 }).batchesPerEpoch).toBe(4);
    const b = await collect(new BatchLoader(ds, { batchSize: 3, dropLast: true }), 0);
    expect(b.every((x) => x.n === 3 && x.x.length === 3 * 40)).toBe(true);
  });

  it('augmentation keeps [B,C,H,W] and produces shifted, zero-padded and mirrored crops', async () => {
    const ds = synthetic(64, 1, 6, 6);
    const pad = 2;
    const loader = new BatchLoader(ds, { batchSize: 16, seed: 3, augment: { cropPadding: pad, flip: true } });
    const lut = (v: number) => (v / 255 - 0.5) / 0.2;
    let flips = 0;
    let shifted = 0;
    for await (const b of loader.batches(0)) {
      expect(b.x.length).toBe(b.n * 36);
      for (let i = 0; i < b.n; i++) {
        const src = ds.images.subarray(b.indices[i]! * 36, b.indices[i]! * 36 + 36);
        const out = b.x.subarray(i * 36, i * 36 + 36);
        // Find the (dy, dx, mirror) that explains the output exactly.
        let match: [number, number, boolean] | null = null;
        for (let dy = -pad; dy <= pad && !match; dy++) {
          for (let dx = -pad; dx <= pad && !match; dx++) {
            for (const m of [false, true]) {
              let ok = true;
              for (let y = 0; y < 6 && ok; y++) {
                for (let x = 0; x < 6 && ok; x++) {
                  const sy = y + dy;
                  const sx = (m ? 5 - x : x) + dx;
                  const v = sy < 0 || sy >= 6 || sx < 0 || sx >= 6 ? 0 : src[sy * 6 + sx]!;
                  ok = Math.abs(out[y * 6 + x]! - lut(v)) < 1e-5;
                }
              }
              if (ok) {
                match = [dy, dx, m];
                break;
              }
            }
          }
        }
        expect(match).not.toBeNull();
        if (match![2]) flips++;
        if (match![0] !== 0 || match![1] !== 0) shifted++;
      }
    }
    expect(flips).toBeGreaterThan(16);
    expect(flips).toBeLessThan(48);
    expect(shifted).toBeGreaterThan(40);
  });

  it('a batch stays valid until the batch after next is requested', async () => {
    const ds = synthetic(40);
    const loader = new BatchLoader(ds, { batchSize: 4, seed: 1, augment: AUG });
    const b0 = await loader.nextBatch();
    const copy0 = snap(b0);
    const b1 = await loader.nextBatch();
    await new Promise((r) => setTimeout(r, 5)); // let the prefetch of batch 2 run
    expect(snap(b0)).toEqual(copy0);
    expect(b1.x.buffer).not.toBe(b0.x.buffer);
    await loader.nextBatch(); // batch 2 requested: batch 3 is prefetched into b0's buffer
    await new Promise((r) => setTimeout(r, 5));
    expect(Array.from(b0.indices)).not.toEqual(copy0.indices);
  });

  it('prefetches the next batch in the background', async () => {
    const ds = synthetic(40);
    const loader = new BatchLoader(ds, { batchSize: 4, seed: 1 });
    await loader.nextBatch();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    // The prefetched batch is already assembled: awaiting it needs no further macrotask.
    let ready = false;
    const p = loader.nextBatch().then(() => (ready = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(ready).toBe(true);
    await p;
  });

  it('validates options', () => {
    const ds = synthetic(4);
    expect(() => new BatchLoader(ds, { batchSize: 0 })).toThrow(RangeError);
    expect(() => new BatchLoader(ds, { batchSize: 2, augment: { cropPadding: -1 } })).toThrow(RangeError);
    const l = new BatchLoader(ds, { batchSize: 2 });
    expect(() => l.seek(0, 3)).toThrow(RangeError);
  });
});
