// `automix visualize`: the mask picture of a trained AutoMix run — per pair a label band (classes,
// λ, the mask's mean and range) above a, its partner b, m_a = weight of a, m_a contrast-stretched
// with its colour bar, and the mixed image — read back here with pngjs at the layout plot.ts gives.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { expect, it } from 'vitest';
import { maskGridLayout, viridis } from '../../src/util/plot.js';

const BIN = join(__dirname, '..', '..', 'bin', 'automix.js');
const SMALL = ['--width', '0.0625', '--limit-train', '48', '--limit-test', '16', '--batch-size', '16', '--epochs', '1', '--seed', '3'];

function automix(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

it('draws labelled rows of a, partner, mask, stretched mask with colour bar, and mixed; the mixed tile is the mask blend', () => {
  const dir = mkdtempSync(join(tmpdir(), 'automix-vis-'));
  const run = join(dir, 'run');
  expect(automix(['train', '--method', 'automix', ...SMALL, '--out', run]).code).toBe(0);
  const png = join(dir, 'masks.png');
  const r = automix(['visualize', '--checkpoint', run, '--pairs', '4', '--out', png]);
  expect(r.code, r.out).toBe(0);
  const meanMa = Number(/mean m_a over the batch of 16: ([0-9.]+)/.exec(r.out)?.[1]);
  expect(meanMa).toBeGreaterThan(0);
  expect(meanMa).toBeLessThan(1);
  expect(r.out).toMatch(/masks from the momentum encoder and Mix Block of ckpt-\d+\.safetensors/);
  expect(r.out).toMatch(/m_a's min–max range per drawn pair: [0-9.e-]+ wide on average/);

  const img = PNG.sync.read(readFileSync(png));
  const L = maskGridLayout(4, { C: 1, H: 28, W: 28, title: 'x' });
  const S = L.scale;
  expect([img.width, img.height]).toEqual([L.width, L.height]);
  const rgb = (x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
  const col = (k: number) => L.columns[k]!.x;
  const at = (k: number, row: number, y: number, x: number) => rgb(col(k) + 1 + x * S, L.rows[row]!.tileY + 1 + y * S)[0]! / 255;
  const inkIn = (x0: number, y0: number, w: number, h: number) => {
    let n = 0;
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (rgb(x, y).some((v) => v !== 255)) n++;
    return n;
  };
  // Column titles above the first row.
  expect(inkIn(0, 0, L.width, L.rows[0]!.labelY)).toBeGreaterThan(150);
  let checked = 0;
  for (let row = 0; row < 4; row++) {
    // The label band holds two lines of text (classes; λ, mean and range): ink on both.
    const band = L.rows[row]!;
    expect(inkIn(0, band.labelY, L.width, 10), `row ${row} line 1`).toBeGreaterThan(100);
    expect(inkIn(0, band.labelY + 10, L.width, band.labelHeight - 10), `row ${row} line 2`).toBeGreaterThan(150);
    for (let y = 0; y < 28; y += 3) {
      for (let x = 0; x < 28; x += 3) {
        const ma = at(2, row, y, x);
        const blend = ma * at(0, row, y, x) + (1 - ma) * at(1, row, y, x);
        expect(Math.abs(at(4, row, y, x) - blend)).toBeLessThanOrEqual(3 / 255); // three 8-bit roundings
        checked++;
      }
    }
    // Row r's partner is row r + 1's image.
    if (row < 3) expect(at(1, row, 14, 14)).toBe(at(0, row + 1, 14, 14));
    // The stretched tile is in viridis and spans it: the mask's min and max take its two ends.
    const ends = [viridis(0), viridis(1)].map((c) => c.join(','));
    const seen = new Set<string>();
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) seen.add(rgb(col(3) + 1 + x * S, band.tileY + 1 + y * S).join(','));
    if (seen.size > 1) for (const e of ends) expect(seen.has(e), `row ${row}: stretched tile reaches ${e}`).toBe(true);
    // The colour bar runs from viridis(1) at the top to viridis(0) at the bottom, with its two values beside it.
    expect(rgb(L.bar.x + 2, band.tileY + 1)).toEqual([...viridis(1)]);
    expect(rgb(L.bar.x + 2, band.tileY + 28 * S)).toEqual([...viridis(0)]);
    expect(inkIn(L.bar.x + L.bar.width + 1, band.tileY, col(4) - L.bar.x - L.bar.width - 1, L.tileH)).toBeGreaterThan(30);
  }
  expect(checked).toBe(4 * 10 * 10);
});

it('refuses a run that has no Mix Block', () => {
  const dir = mkdtempSync(join(tmpdir(), 'automix-vis-'));
  expect(automix(['train', '--method', 'none', ...SMALL, '--out', dir]).code).toBe(0);
  const r = automix(['visualize', '--checkpoint', dir, '--out', join(dir, 'm.png')]);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/used --method none; masks exist only for automix/);
});
