// `automix visualize`: the mask picture of a trained AutoMix run — one row per pair (x, its
// partner, the mask m_a = weight of x, the mixed image), read back here with pngjs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { expect, it } from 'vitest';

const BIN = join(__dirname, '..', '..', 'bin', 'automix.js');
const SMALL = ['--width', '0.0625', '--limit-train', '48', '--limit-test', '16', '--batch-size', '16', '--epochs', '1', '--seed', '3'];

function automix(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

it('draws x, partner, mask and mixed image for each pair; the mixed tile is the mask blend of the other two', () => {
  const dir = mkdtempSync(join(tmpdir(), 'automix-vis-'));
  const run = join(dir, 'run');
  expect(automix(['train', '--method', 'automix', ...SMALL, '--out', run]).code).toBe(0);
  const png = join(dir, 'masks.png');
  const r = automix(['visualize', '--checkpoint', run, '--pairs', '4', '--out', png]);
  expect(r.code, r.out).toBe(0);
  const meanMa = Number(/mean m_a over the batch of 16: ([0-9.]+)/.exec(r.out)?.[1]);
  expect(meanMa).toBeGreaterThan(0);
  expect(meanMa).toBeLessThan(1);

  const img = PNG.sync.read(readFileSync(png));
  const S = 3;
  const tile = 28 * S + 2;
  expect([img.width, img.height]).toEqual([4 * tile, 4 * tile]);
  const at = (tx: number, row: number, y: number, x: number) => img.data[((row * tile + 1 + y * S) * img.width + tx * tile + 1 + x * S) * 4]! / 255;
  let checked = 0;
  for (let row = 0; row < 4; row++) {
    for (let y = 0; y < 28; y += 3) {
      for (let x = 0; x < 28; x += 3) {
        const ma = at(2, row, y, x);
        expect(ma).toBeGreaterThanOrEqual(0);
        const blend = ma * at(0, row, y, x) + (1 - ma) * at(1, row, y, x);
        expect(Math.abs(at(3, row, y, x) - blend)).toBeLessThanOrEqual(3 / 255); // three 8-bit roundings
        checked++;
      }
    }
    // Row r's partner is row r + 1's image.
    if (row < 3) expect(at(1, row, 14, 14)).toBe(at(0, row + 1, 14, 14));
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
