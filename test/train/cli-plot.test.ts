// `automix plot`: the legend names runs so that two runs of one command stay apart,
// `--label` names them by hand, and a wrong count of labels is refused before drawing; test
// accuracy and each loss term get their own panel, AutoMix's terms never share an axis with a
// baseline's cross-entropy, and a one-epoch run shows as markers.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { plotCommand, plotLabels } from '../../src/cli/commands.js';
import type { TrainConfig } from '../../src/train/config.js';

const cfg = (method: string, seed: number, emaMomentum: number | 'auto' = 'auto') => ({ method, seed, emaMomentum }) as unknown as TrainConfig;

describe('automix plot', () => {
  it('names runs by method and seed, and adds the file name only where two would collide', () => {
    const names = plotLabels([
      { file: 'runs/none-lavapipe.json', config: cfg('none', 0) },
      { file: 'runs/none-h100.json', config: cfg('none', 0) },
      { file: 'runs/am.json', config: cfg('automix', 1, 0.99) },
    ]);
    expect(names).toEqual(['NONE S0 none-lavapipe', 'NONE S0 none-h100', 'AUTOMIX EMA 0.99 S1']);
    // Each run in its own folder as run.json: the folder tells them apart.
    const nested = plotLabels([
      { file: 'runs/cpu/run.json', config: cfg('none', 0) },
      { file: 'runs/gpu/run.json', config: cfg('none', 0) },
    ]);
    expect(nested).toEqual(['NONE S0 cpu/run', 'NONE S0 gpu/run']);
  });

  it('uses --label as given, one per run, and refuses a wrong count', () => {
    const runs = [
      { file: 'a.json', config: cfg('none', 0) },
      { file: 'b.json', config: cfg('mixup', 0) },
    ];
    expect(plotLabels(runs, ['CPU', 'GPU'])).toEqual(['CPU', 'GPU']);
    expect(() => plotLabels(runs, ['CPU'])).toThrow(/1 labels for 2 --json files/);
  });

  it('draws two run records into one PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'automix-plot-'));
    const record = (acc: number[]) => ({
      config: cfg('none', 0),
      epochs: acc.map((a, i) => ({ epoch: i + 1, train_loss: 1 / (i + 1), test_acc: a })),
    });
    writeFileSync(join(dir, 'a.json'), JSON.stringify(record([0.8, 0.9, 0.93])));
    writeFileSync(join(dir, 'b.json'), JSON.stringify(record([0.7, 0.88, 0.92])));
    const out = join(dir, 'curve.png');
    await plotCommand(['--json', join(dir, 'a.json'), '--json', join(dir, 'b.json'), '--label', 'CPU', '--label', 'GPU', '--out', out]);
    const png = PNG.sync.read(readFileSync(out));
    // The first two series colours (the legend squares and lines) are both drawn.
    const count = ([r, g, b]: number[]) => {
      let n = 0;
      for (let i = 0; i < png.data.length; i += 4) if (png.data[i] === r && png.data[i + 1] === g && png.data[i + 2] === b) n++;
      return n;
    };
    expect(count([31, 119, 180])).toBeGreaterThan(100);
    expect(count([214, 39, 40])).toBeGreaterThan(100);
    await expect(plotCommand(['--json', join(dir, 'a.json'), '--label', 'A', '--label', 'B', '--out', out])).rejects.toThrow(/--label/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws accuracy and each loss term in its own panel; one-epoch runs show as markers; AutoMix and a baseline never share a loss axis', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'automix-plot-'));
    const am = {
      config: cfg('automix', 0),
      epochs: [{ epoch: 1, train_loss: 6.9, test_acc: 0.5, terms: { L_mix_q: 2.3, L_one_q: 2.25, L_mix_k: 2.31, L_mask: 0.004 } }],
    };
    const none = { config: cfg('none', 0), epochs: [{ epoch: 1, train_loss: 2.2, test_acc: 0.4, terms: { loss: 2.2 } }] };
    writeFileSync(join(dir, 'am.json'), JSON.stringify(am));
    writeFileSync(join(dir, 'none.json'), JSON.stringify(none));
    const out = join(dir, 'curve.png');
    await plotCommand(['--json', join(dir, 'am.json'), '--json', join(dir, 'none.json'), '--out', out]);
    const png = PNG.sync.read(readFileSync(out));
    // Six panels (accuracy, L_mix_q, L_one_q, L_mix_k, L_mask, the baseline's loss), three to a row.
    const [PW, PH] = [480, 320];
    expect([png.width, png.height]).toEqual([3 * PW, 2 * PH]);
    const inPanel = (k: number, [r, g, b]: number[]) => {
      let n = 0;
      const [x0, y0] = [(k % 3) * PW, Math.floor(k / 3) * PH];
      for (let y = y0; y < y0 + PH; y++)
        for (let x = x0; x < x0 + PW; x++) {
          const i = (y * png.width + x) * 4;
          if (png.data[i] === r && png.data[i + 1] === g && png.data[i + 2] === b) n++;
        }
      return n;
    };
    const blue = [31, 119, 180]; // the first run: AutoMix
    const red = [214, 39, 40]; // the second: none
    // One point each: a marker in the plot and one in the legend, about 20 pixels each.
    for (const k of [0, 1, 2, 3, 4]) expect(inPanel(k, blue), `AutoMix in panel ${k}`).toBeGreaterThanOrEqual(30);
    for (const k of [0, 5]) expect(inPanel(k, red), `none in panel ${k}`).toBeGreaterThanOrEqual(30);
    for (const k of [1, 2, 3, 4]) expect(inPanel(k, red), `none kept out of AutoMix's panel ${k}`).toBe(0);
    expect(inPanel(5, blue), "AutoMix kept out of the baseline's loss panel").toBe(0);
    // Each panel has a title: ink in its top band.
    for (let k = 0; k < 6; k++) {
      let ink = 0;
      const [x0, y0] = [(k % 3) * PW, Math.floor(k / 3) * PH];
      for (let y = y0 + 4; y < y0 + 16; y++) for (let x = x0; x < x0 + PW; x++) if (png.data[(y * png.width + x) * 4] !== 255) ink++;
      expect(ink, `title of panel ${k}`).toBeGreaterThan(50);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
