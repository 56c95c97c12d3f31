// Bounded fuzzing of the IDX / gzip parsing path: random byte flips,
// truncations and extensions of valid files must either parse to a consistent
// dataset or throw DatasetError: never another exception type, never a hang.

import { describe, it, expect } from 'vitest';
import { idxToDataset } from '../../src/data/idx.js';
import { DatasetError } from '../../src/data/errors.js';
import { validateDataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/rng.js';
import { gzip, makeImages, makeLabels } from './idx-fixtures.js';
import { corrupt } from './corrupt.js';

describe('IDX fuzz', () => {
  it('300 corruptions of plain and gzipped files: valid result or DatasetError only', () => {
    const r = new Rng(2024);
    const sources = {
      images: makeImages(4, 5, 6),
      labels: makeLabels(4, 10),
    };
    const opts = { imagesFile: 'fuzz-images', labelsFile: 'fuzz-labels', name: 'fuzz', numClasses: 10, mean: [0.5], std: [0.5] };
    const deadline = Date.now() + 5000;
    let errors = 0;
    let ok = 0;
    let i = 0;
    for (; i < 300 && Date.now() < deadline; i++) {
      const which = r.int(2) === 0 ? 'images' : 'labels';
      const gz = r.int(2) === 0;
      const base = gz ? gzip(sources[which]) : sources[which];
      const bad = corrupt(base, r);
      const img = which === 'images' ? bad : gz ? gzip(sources.images) : sources.images;
      const lab = which === 'labels' ? bad : gz ? gzip(sources.labels) : sources.labels;
      try {
        const ds = idxToDataset(img, lab, opts);
        expect(validateDataset(ds)).toBeNull();
        ok++;
      } catch (e) {
        if (!(e instanceof DatasetError)) throw new Error(`iteration ${i}: unexpected ${String(e)}`);
        expect(e.message.startsWith('fuzz-')).toBe(true);
        errors++;
      }
    }
    expect(i).toBe(300);
    expect(errors).toBeGreaterThan(100);
    expect(ok + errors).toBe(300);
  });
});
