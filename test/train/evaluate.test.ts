// evaluateHeads: the accuracy of several heads from one backbone pass per batch
// equals evaluating each head on its own (eval-mode BN, ragged last batch).
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/index.js';
import { buildModel } from '../../src/models/index.js';
import { evaluate, evaluateHeads } from '../../src/train/evaluate.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/rng.js';

function randomDataset(n: number, h: number, classes: number): ImageDataset {
  const rng = new Rng(11);
  return {
    images: Uint8Array.from({ length: n * h * h }, () => rng.int(256)),
    labels: Uint8Array.from({ length: n }, () => rng.int(classes)),
    n,
    c: 1,
    h,
    w: h,
    numClasses: classes,
    name: 'random/test',
    mean: [0.5],
    std: [0.25],
  };
}

describe('evaluateHeads', () => {
  it('gives each head the accuracy that evaluating it alone gives', async () => {
    const e = await createEngine();
    const data = randomDataset(37, 12, 3); // 37 = 2 batches of 16 + 5
    const net = buildModel(e, { model: 'resnet18', width: 0.0625, inChannels: 1, imageSize: 12, numClasses: 3, heads: ['head_mix', 'head_one'] }, 4, 'online');
    // Heads start at N(0, 0.01²): scale them up so the two heads disagree.
    const p = await net.params.read();
    for (const [k, v] of p) if (k.includes('head_')) for (let i = 0; i < v.length; i++) v[i]! *= 300;
    net.params.load(p);
    const both = await evaluateHeads(e, net, ['head_one', 'head_mix'], data, 16);
    const one = await evaluate(e, net, 'head_one', data, 16);
    const mix = await evaluate(e, net, 'head_mix', data, 16);
    expect(both).toEqual({ head_one: one, head_mix: mix });
    for (const a of [one, mix]) expect(Math.abs(a * 37 - Math.round(a * 37))).toBeLessThan(1e-9);
    await expect(evaluateHeads(e, net, ['fc'], data, 16)).rejects.toThrow(/no head 'fc' \(heads: head_mix, head_one\)/);
    net.dispose();
    expect(e.liveTensors()).toEqual([]);
    e.destroy();
  });
});
