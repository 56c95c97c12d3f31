// PNG chart rendering: valid PNG of the expected size, series colours drawn,
// panels side by side, and the raw RGBA encoder.

import { describe, it, expect } from 'vitest';
import { PNG } from 'pngjs';
import { encodePng, plotCurves } from '../../src/util/plot.js';

function decode(bytes: Uint8Array) {
  return PNG.sync.read(Buffer.from(bytes));
}

function countColor(png: PNG, rgb: [number, number, number], x0 = 0, x1 = png.width): number {
  let n = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * png.width + x) * 4;
      if (png.data[i] === rgb[0] && png.data[i + 1] === rgb[1] && png.data[i + 2] === rgb[2]) n++;
    }
  }
  return n;
}

describe('plot', () => {
  it('draws one panel per group with each series in its colour', () => {
    const red: [number, number, number] = [220, 30, 30];
    const blue: [number, number, number] = [30, 60, 220];
    const green: [number, number, number] = [20, 160, 60];
    const loss = Array.from({ length: 20 }, (_, i) => 2 * Math.exp(-i / 5));
    const png = decode(
      plotCurves(
        [
          [
            { name: 'train loss', values: loss, color: red },
            { name: 'test loss', values: loss.map((v) => v + 0.2), color: blue },
          ],
          [{ name: 'test acc %', values: [50, 60, NaN, 80, 85], color: green }],
        ],
        { panelWidth: 400, panelHeight: 300, titles: ['Loss', 'Accuracy'] },
      ),
    );
    expect([png.width, png.height]).toEqual([800, 300]);
    // Lines (and legend squares) are in the left panel for loss, right panel for accuracy.
    expect(countColor(png, red, 0, 400)).toBeGreaterThan(200);
    expect(countColor(png, blue, 0, 400)).toBeGreaterThan(200);
    expect(countColor(png, green, 400, 800)).toBeGreaterThan(100);
    expect(countColor(png, green, 0, 400)).toBe(0);
    expect(countColor(png, red, 400, 800)).toBe(0);
    // Axes and text are drawn in black / dark grey.
    expect(countColor(png, [0, 0, 0])).toBeGreaterThan(500);
  });

  it('handles empty and constant series without throwing', () => {
    const png = decode(plotCurves([[{ name: 'flat', values: [1, 1, 1], color: [1, 2, 3] }], [{ name: 'none', values: [], color: [4, 5, 6] }]]));
    expect(png.width).toBe(960);
    expect(countColor(png, [1, 2, 3])).toBeGreaterThan(50);
  });

  it('encodePng round-trips RGBA pixels and validates the size', () => {
    const rgba = new Uint8Array(3 * 2 * 4).map((_, i) => (i * 37) & 0xff);
    const png = decode(encodePng(rgba, 3, 2));
    expect([png.width, png.height]).toEqual([3, 2]);
    expect(Array.from(png.data)).toEqual(Array.from(rgba));
    expect(() => encodePng(rgba, 4, 2)).toThrow(RangeError);
  });
});
