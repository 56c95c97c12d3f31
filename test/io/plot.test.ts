// PNG chart rendering: valid PNG of the expected size, series colours drawn,
// panels side by side or in a grid, a marker at every data point (a one-epoch
// run is visible), text drawn as ink where it belongs, the labelled mask grid,
// the panels of `automix plot`, and the raw RGBA encoder.

import { describe, it, expect } from 'vitest';
import { PNG } from 'pngjs';
import { drawMaskGrid, encodePng, maskGridLayout, plotCurves, runPanels, textWidth, viridis, type MaskGridRow } from '../../src/util/plot.js';

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

  it('wraps panels into rows of `columns` and marks a single point (a one-epoch run) with its marker', () => {
    const c: [number, number, number] = [200, 40, 160];
    const one = [{ name: 'one epoch', values: [0.5], color: c }];
    const png = decode(plotCurves([one, one, one, one, one], { columns: 3, panelWidth: 300, panelHeight: 200, titles: ['a', 'b', 'c', 'd', 'e'] }));
    expect([png.width, png.height]).toEqual([900, 400]);
    // Panel 4 (second row, middle): the point sits at the centre of its plot area (half a point of
    // x margin each side; a constant series is centred vertically), drawn as a 5×5 square.
    const ox = 300;
    const oy = 200;
    const [left, right, top, bottom] = [ox + 52, ox + 300 - 12, oy + 22, oy + 200 - 30];
    const cx = Math.round((left + right) / 2);
    const cy = Math.round((top + bottom) / 2);
    const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    for (const [dx, dy] of [
      [-2, -2],
      [2, -2],
      [-2, 2],
      [2, 2],
      [0, 0],
    ])
      expect(at(cx + dx!, cy + dy!)).toEqual(c);
    // Five panels, one marker each (plus five legend markers); the sixth cell is empty.
    expect(countColor(png, c)).toBeGreaterThanOrEqual(5 * 2 * 20);
    expect(countColor(png, c, 600, 900)).toBeGreaterThan(0); // panel 3 (first row, right)
    let inkInEmptyCell = 0;
    for (let y = 200; y < 400; y++) for (let x = 600; x < 900; x++) if (at(x, y).some((v) => v !== 255)) inkInEmptyCell++;
    expect(inkInEmptyCell).toBe(0);
  });

  it('draws every point of a series with its marker, and a gap for NaN', () => {
    const c: [number, number, number] = [10, 120, 200];
    const values = [1, 2, Number.NaN, 4, 5];
    const png = decode(plotCurves([[{ name: 's', values, color: c, marker: 'square' }]], { panelWidth: 400, panelHeight: 300, titles: ['t'] }));
    const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    const [left, right, top, bottom] = [52, 400 - 12, 22, 300 - 30];
    const lo = 1 - 0.08 * 4;
    const hi = 5 + 0.08 * 4;
    values.forEach((v, i) => {
      const x = Math.round(left + ((i + 0.5) / values.length) * (right - left));
      if (!Number.isFinite(v)) {
        // No marker and no line in the gap's column near where the point would be.
        for (let y = top; y < bottom; y++) expect(at(x, y)).not.toEqual(c);
        return;
      }
      const y = Math.round(bottom - ((v - lo) / (hi - lo)) * (bottom - top));
      for (const [dx, dy] of [
        [-2, -2],
        [2, 2],
        [-2, 2],
        [2, -2],
      ])
        expect(at(x + dx!, y + dy!), `point ${i}`).toEqual(c);
    });
  });

  it('draws titles as ink in the title band, lower case and λ included', () => {
    const ink = (title: string) => {
      const png = decode(plotCurves([[{ name: 's', values: [1, 2], color: [1, 2, 3] }]], { panelWidth: 400, panelHeight: 200, titles: [title] }));
      const px: number[] = [];
      for (let y = 0; y < 18; y++) for (let x = 0; x < 400; x++) if (png.data[(y * 400 + x) * 4] !== 255) px.push(y * 400 + x);
      return px;
    };
    expect(ink('test accuracy (%)').length).toBeGreaterThan(60);
    // Lower case has its own glyphs (not upper case), and λ is drawn.
    expect(ink('abc')).not.toEqual(ink('ABC'));
    expect(ink('λ').length).toBeGreaterThan(8);
    expect(textWidth('λ 0.50')).toBe(6 * 6 - 1);
  });

  it('runPanels: accuracy, AutoMix terms each alone, and a baseline cross-entropy never with AutoMix', () => {
    const am = {
      name: 'AM',
      method: 'automix',
      color: [1, 1, 1] as [number, number, number],
      epochs: [{ train_loss: 6.9, test_acc: 0.5, terms: { L_mix_q: 2.3, L_one_q: 2.2, L_mix_k: 2.3, L_mask: 0.01 } }],
    };
    const base = {
      name: 'NONE',
      method: 'none',
      color: [2, 2, 2] as [number, number, number],
      epochs: [{ train_loss: 2.3, test_acc: 0.4, terms: { loss: 2.3 } }],
    };
    const old = { name: 'OLD', method: 'automix', color: [3, 3, 3] as [number, number, number], epochs: [{ train_loss: 6.0, test_acc: null }] };
    const { groups, titles } = runPanels([base, am, old]);
    expect(titles).toHaveLength(7);
    expect(titles[0]).toMatch(/test accuracy/);
    expect(titles.slice(1, 5).map((t) => t.split(':')[0])).toEqual(['L_mix_q', 'L_one_q', 'L_mix_k', 'L_mask']);
    expect(titles[5]).toMatch(/AutoMix total loss/);
    expect(titles[6]).toMatch(/train loss of none \(cross-entropy\)/);
    expect(groups[0]!.map((g) => g.name)).toEqual(['NONE', 'AM', 'OLD']);
    expect(groups[0]![2]!.values[0]).toBeNaN();
    for (const g of groups.slice(1, 5)) expect(g.map((x) => x.name)).toEqual(['AM']);
    expect(groups[5]!.map((x) => x.name)).toEqual(['OLD']); // a record without terms: its sum alone
    expect(groups[6]!.map((x) => x.name)).toEqual(['NONE']);
    expect(groups[1]![0]!.values).toEqual([2.3]);
    // One marker shape per run, the same in every panel.
    expect(groups[1]![0]!.marker).toBe(groups[0]![1]!.marker);
    expect(new Set(groups[0]!.map((g) => g.marker)).size).toBe(3);
  });

  it('encodePng round-trips RGBA pixels and validates the size', () => {
    const rgba = new Uint8Array(3 * 2 * 4).map((_, i) => (i * 37) & 0xff);
    const png = decode(encodePng(rgba, 3, 2));
    expect([png.width, png.height]).toEqual([3, 2]);
    expect(Array.from(png.data)).toEqual(Array.from(rgba));
    expect(() => encodePng(rgba, 4, 2)).toThrow(RangeError);
  });
});

describe('mask grid', () => {
  const H = 5;
  const W = 3;
  const row = (mask: number[], labelA: string, labelB = 'Trouser'): MaskGridRow => ({
    a: Array.from({ length: H * W }, (_, j) => j / (H * W)),
    b: Array.from({ length: H * W }, (_, j) => 1 - j / (H * W)),
    maskA: mask,
    mixed: mask.map((m, j) => m * (j / (H * W)) + (1 - m) * (1 - j / (H * W))),
    labelA,
    labelB,
    lam: 0.5,
  });
  const ramp = Array.from({ length: H * W }, (_, j) => 0.4 + (0.2 * j) / (H * W - 1)); // 0.4 .. 0.6
  const flat = new Array<number>(H * W).fill(0.55);

  it('draws label bands, absolute and stretched masks, the colour bar and the mixed tile where the layout says', () => {
    const { png: bytes, layout: L, stats } = drawMaskGrid([row(ramp, 'T-shirt/top'), row(flat, 'Bag')], { C: 1, H, W, scale: 4, title: 'masks at λ 0.5' });
    const png = decode(bytes);
    expect([png.width, png.height]).toEqual([L.width, L.height]);
    expect(L).toEqual(maskGridLayout(2, { C: 1, H, W, scale: 4, title: 'x' }));
    const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    const tilePx = (k: number, r: number, y: number, x: number) => at(L.columns[k]!.x + 1 + x * 4, L.rows[r]!.tileY + 1 + y * 4);
    const ink = (x0: number, y0: number, w: number, h: number) => {
      let n = 0;
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (at(x, y).some((v) => v !== 255)) n++;
      return n;
    };
    expect(stats[0]!.min).toBeCloseTo(0.4, 6);
    expect(stats[0]!.max).toBeCloseTo(0.6, 6);
    expect(stats[1]!.mean).toBeCloseTo(0.55, 12);
    expect([stats[1]!.min, stats[1]!.max]).toEqual([0.55, 0.55]);
    for (let r = 0; r < 2; r++) {
      const band = L.rows[r]!;
      // Two lines of text per pair: classes, then λ, mean and range.
      expect(ink(0, band.labelY, L.width, 10)).toBeGreaterThan(80);
      expect(ink(0, band.labelY + 10, L.width, band.labelHeight - 10)).toBeGreaterThan(150);
      // Colour bar: viridis(1) at the top, viridis(0) at the bottom.
      expect(at(L.bar.x + 1, band.tileY + 1)).toEqual([...viridis(1)]);
      expect(at(L.bar.x + 1, band.tileY + H * 4)).toEqual([...viridis(0)]);
    }
    // Absolute mask: grey = m_a; stretched: min → viridis(0), max → viridis(1).
    expect(tilePx(2, 0, 0, 0)).toEqual([102, 102, 102]);
    expect(tilePx(3, 0, 0, 0)).toEqual([...viridis(0)]);
    expect(tilePx(3, 0, H - 1, W - 1)).toEqual([...viridis(1)]);
    // A flat mask is drawn flat (the middle of the map), its bar labelled 'flat'.
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) expect(tilePx(3, 1, y, x)).toEqual([...viridis(0.5)]);
    // Images and the blend.
    expect(tilePx(0, 0, 0, 1)[0]).toBe(Math.round((1 / 15) * 255));
    expect(tilePx(4, 0, 0, 0)[0]).toBe(Math.round((1 - 0.4) * 255));
    // The title and column names are drawn above the first row.
    expect(ink(0, 0, L.width, L.rows[0]!.labelY)).toBeGreaterThan(150);
  });

  it("the label band shows the row's classes: other names, other pixels", () => {
    const band = (label: string) => {
      const { png, layout } = drawMaskGrid([row(ramp, label)], { C: 1, H, W });
      const img = decode(png);
      const y0 = layout.rows[0]!.labelY;
      return Array.from(img.data.subarray(y0 * img.width * 4, (y0 + 10) * img.width * 4));
    };
    expect(band('Sandal')).not.toEqual(band('Sneaker'));
    expect(band('Sandal')).toEqual(band('Sandal'));
  });
});
