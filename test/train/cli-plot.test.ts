// `automix plot`: the legend names runs so that two runs of one command stay apart,
// `--label` names them by hand, and a wrong count of labels is refused before drawing.
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
});
