// Dependency-light PNG charts for training curves (loss / accuracy panels side
// by side) and a raw RGBA -> PNG wrapper used for AutoMix mask grids. Text uses
// a built-in 5x7 bitmap font so no font files or canvas library are needed.

import { PNG } from 'pngjs';

/** One line of a chart. NaN / non-finite values leave a gap in the line. */
export interface PlotSeries {
  name: string;
  values: number[];
  /** RGB, 0..255 each. */
  color: [number, number, number];
}

/** Options for {@link plotCurves}. */
export interface PlotOptions {
  /** Width of each panel in pixels (default 480). */
  panelWidth?: number;
  /** Height of each panel in pixels (default 320). */
  panelHeight?: number;
  /** Title drawn above each panel (by panel index). */
  titles?: string[];
  /** Fixed y range per panel (by panel index); null/undefined means automatic. */
  yRanges?: ([number, number] | null | undefined)[];
  /** x coordinate of values[0] (default 1: points are epochs counted from 1). */
  xStart?: number;
  /** Label under the x axis of every panel (default "EPOCH"; "" for none). */
  xLabel?: string;
}

type RGB = readonly [number, number, number];

// Glyphs: 7 rows of 5 columns, '#' = ink. Lower-case text is drawn in upper case.
const GLYPH_ROWS: Record<string, string> = {
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '###.. #..#. #...# #...# #...# #..#. ###..',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  '-': '..... ..... ..... ##### ..... ..... .....',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##',
  '/': '..... ....# ...#. ..#.. .#... #.... .....',
  _: '..... ..... ..... ..... ..... ..... #####',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
};

/** Decoded glyph bitmaps: 35 entries (row-major 7x5), 1 = ink. */
const GLYPHS = new Map<string, Uint8Array>(
  Object.entries(GLYPH_ROWS).map(([ch, rows]) => {
    const bits = new Uint8Array(35);
    rows
      .split(' ')
      .join('')
      .split('')
      .forEach((p, i) => (bits[i] = p === '#' ? 1 : 0));
    return [ch, bits];
  }),
);

const GLYPH_ADVANCE = 6; // 5 columns + 1 spacing

/** Width in pixels of `text` drawn by the built-in font. */
function textWidth(text: string): number {
  return text.length === 0 ? 0 : text.length * GLYPH_ADVANCE - 1;
}

/** A minimal RGBA raster with the drawing primitives the charts need. */
class Raster {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 4);
  }

  set(x: number, y: number, c: RGB): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
    this.data[i + 3] = 255;
  }

  fillRect(x0: number, y0: number, w: number, h: number, c: RGB): void {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) this.set(x, y, c);
  }

  /** Bresenham line, optionally 2 px thick, clipped to the rectangle `clip` [x0, y0, x1, y1]. */
  line(xa: number, ya: number, xb: number, yb: number, c: RGB, thick: boolean, clip?: [number, number, number, number]): void {
    let x = Math.round(xa);
    let y = Math.round(ya);
    const x1 = Math.round(xb);
    const y1 = Math.round(yb);
    const dx = Math.abs(x1 - x);
    const dy = -Math.abs(y1 - y);
    const sx = x < x1 ? 1 : -1;
    const sy = y < y1 ? 1 : -1;
    let err = dx + dy;
    const plot = (px: number, py: number) => {
      if (clip && (px < clip[0] || py < clip[1] || px > clip[2] || py > clip[3])) return;
      this.set(px, py, c);
    };
    // Bounded loop: at most dx - dy + 1 steps, so non-finite inputs cannot spin forever.
    for (let steps = dx - dy + 1; steps > 0; steps--) {
      plot(x, y);
      if (thick) {
        plot(x + 1, y);
        plot(x, y + 1);
      }
      if (x === x1 && y === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }

  text(x: number, y: number, s: string, c: RGB): void {
    let cx = x;
    for (const ch of s.toUpperCase()) {
      const g = GLYPHS.get(ch);
      if (g) {
        for (let r = 0; r < 7; r++) for (let col = 0; col < 5; col++) if (g[r * 5 + col]) this.set(cx + col, y + r, c);
      }
      cx += GLYPH_ADVANCE;
    }
  }
}

/** Roughly `target` "nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi]. */
function niceTicks(lo: number, hi: number, target: number): { ticks: number[]; step: number } {
  const span = hi - lo;
  const raw = span / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const ticks: number[] = [];
  const first = Math.ceil(lo / step - 1e-9) * step;
  for (let v = first, i = 0; v <= hi + step * 1e-9 && i < 50; v += step, i++) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { ticks, step };
}

function formatTick(v: number, step: number): string {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return v.toFixed(decimals);
}

const WHITE: RGB = [255, 255, 255];
const BLACK: RGB = [0, 0, 0];
const GRID: RGB = [225, 225, 225];
const TEXT: RGB = [40, 40, 40];

function drawPanel(r: Raster, ox: number, series: PlotSeries[], opts: Required<Omit<PlotOptions, 'titles' | 'yRanges'>>, title: string | undefined, yRange: [number, number] | null | undefined): void {
  const W = opts.panelWidth;
  const H = opts.panelHeight;
  const left = ox + 52;
  const right = ox + W - 12;
  const top = title ? 22 : 10;
  const bottom = H - (opts.xLabel ? 30 : 20);
  const plotW = right - left;
  const plotH = bottom - top;
  if (plotW < 4 || plotH < 4) return;

  // Data extents (finite values only).
  let lo = Infinity;
  let hi = -Infinity;
  let maxLen = 0;
  for (const s of series) {
    maxLen = Math.max(maxLen, s.values.length);
    for (const v of s.values) {
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (yRange) [lo, hi] = yRange;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) > 1e-12 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  } else if (!yRange) {
    const pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const xMin = opts.xStart;
  const xMax = opts.xStart + Math.max(1, maxLen - 1);
  const px = (x: number) => left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => bottom - ((y - lo) / (hi - lo)) * plotH;

  // Grid and tick labels.
  const yt = niceTicks(lo, hi, 5);
  for (const t of yt.ticks) {
    const y = Math.round(py(t));
    r.line(left, y, right, y, GRID, false);
    r.line(left - 4, y, left, y, BLACK, false);
    const label = formatTick(t, yt.step);
    r.text(left - 6 - textWidth(label), y - 3, label, TEXT);
  }
  const xt = niceTicks(xMin, xMax, Math.max(2, Math.min(8, Math.floor(plotW / 60))));
  const xStep = Math.max(1, xt.step); // x positions are whole points
  for (const t of xt.ticks) {
    if (!Number.isInteger(t)) continue;
    const x = Math.round(px(t));
    r.line(x, top, x, bottom, GRID, false);
    r.line(x, bottom, x, bottom + 4, BLACK, false);
    const label = formatTick(t, xStep);
    r.text(x - Math.floor(textWidth(label) / 2), bottom + 7, label, TEXT);
  }
  // Axes.
  r.line(left, top, left, bottom, BLACK, false);
  r.line(left, bottom, right, bottom, BLACK, false);
  if (title) r.text(left + Math.floor((plotW - textWidth(title)) / 2), 6, title, BLACK);
  if (opts.xLabel) r.text(left + Math.floor((plotW - textWidth(opts.xLabel)) / 2), H - 10, opts.xLabel, TEXT);

  // Lines; a non-finite value breaks the line, an isolated point is drawn as a dot.
  const clip: [number, number, number, number] = [left + 1, top, right, bottom - 1];
  for (const s of series) {
    let prev: [number, number] | null = null;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        prev = null;
        return;
      }
      const p: [number, number] = [px(xMin + i), py(v)];
      if (prev) r.line(prev[0], prev[1], p[0], p[1], s.color, true, clip);
      else r.line(p[0] - 1, p[1], p[0] + 1, p[1], s.color, true, clip);
      prev = p;
    });
  }

  // Legend: colour square + name on a white box, in whichever corner covers the fewest data points.
  const legendW = Math.max(0, ...series.map((s) => textWidth(s.name))) + 16;
  const legendH = series.length * 11 + 3;
  if (series.length === 0 || legendW + 8 > plotW || legendH + 4 > plotH) return;
  const corners: [number, number][] = [
    [right - legendW - 4, top + 2],
    [left + 6, top + 2],
    [right - legendW - 4, bottom - legendH - 4],
    [left + 6, bottom - legendH - 4],
  ];
  const covered = (bx: number, by: number) => {
    let n = 0;
    for (const s of series) {
      s.values.forEach((v, i) => {
        if (!Number.isFinite(v)) return;
        const x = px(xMin + i);
        const y = py(v);
        if (x >= bx - 4 && x <= bx + legendW + 4 && y >= by - 4 && y <= by + legendH + 4) n++;
      });
    }
    return n;
  };
  let [lx, ly0] = corners[0]!;
  let best = Infinity;
  for (const [cx, cy] of corners) {
    const n = covered(cx, cy);
    if (n < best) [best, lx, ly0] = [n, cx, cy];
  }
  r.fillRect(lx - 2, ly0, legendW + 4, legendH, WHITE);
  series.forEach((s, i) => {
    const ly = ly0 + 3 + i * 11;
    r.fillRect(lx, ly, 8, 8, s.color);
    r.text(lx + 12, ly + 1, s.name, TEXT);
  });
}

/**
 * Draw line charts, one panel per group of series (e.g. [[trainLoss, testLoss], [trainAcc, testAcc]]),
 * side by side, and return them as PNG bytes.
 */
export function plotCurves(series: PlotSeries[][], opts: PlotOptions = {}): Uint8Array {
  const o = {
    panelWidth: Math.max(80, Math.round(opts.panelWidth ?? 480)),
    panelHeight: Math.max(60, Math.round(opts.panelHeight ?? 320)),
    xStart: opts.xStart ?? 1,
    xLabel: opts.xLabel ?? 'EPOCH',
  };
  const panels = Math.max(1, series.length);
  const r = new Raster(o.panelWidth * panels, o.panelHeight);
  r.fillRect(0, 0, r.width, r.height, WHITE);
  series.forEach((group, i) => drawPanel(r, i * o.panelWidth, group, o, opts.titles?.[i], opts.yRanges?.[i]));
  return encodePng(r.data, r.width, r.height);
}

/**
 * Encode RGBA pixels (row-major, 4 bytes per pixel, straight alpha) as PNG bytes.
 * @throws RangeError if the buffer size does not match width x height x 4.
 */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`encodePng: width and height must be positive integers, got ${width}x${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`encodePng: expected ${width * height * 4} bytes for ${width}x${height} RGBA, got ${rgba.length}`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  const out = PNG.sync.write(png);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
