// Dependency-light PNG pictures: line charts for training curves (one panel per
// quantity, in a grid, with a marker at every data point), the labelled AutoMix
// mask grid of `automix visualize`, and a raw RGBA -> PNG wrapper. Text uses a
// built-in 5-column bitmap font (upper and lower case, digits, λ and the
// punctuation labels need; 7 rows, 9 with descenders), so no font files,
// canvas library or native module are needed and the pixels are the same on
// every machine (tests check them).

import { PNG } from 'pngjs';

/** One line of a chart. NaN / non-finite values leave a gap in the line. */
export interface PlotSeries {
  name: string;
  values: number[];
  /** RGB, 0..255 each. */
  color: [number, number, number];
  /** The marker drawn at each point (default: by the series' index in its panel). */
  marker?: MarkerShape;
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
  /** Panels per row (default: all panels in one row); more panels wrap to further rows. */
  columns?: number;
  /** A marker at every data point, its shape by series index (default true). */
  markers?: boolean;
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
  '|': '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  "'": '..#.. ..#.. .#... ..... ..... ..... .....',
  '!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  '*': '..... ..#.. #.#.# .###. #.#.# ..#.. .....',
  '×': '..... #...# .#.#. ..#.. .#.#. #...# .....',
  λ: '.#... ..#.. ..#.. ..#.. .#.#. #...# #...#',
  σ: '..... ..... .#### #..#. #...# #...# .###.',
  μ: '..... ..... #...# #...# #...# ##..# #.##. #.... #....',
  // Lower case: x-height 5 rows; g j p q y descend 2 rows below the baseline.
  a: '..... ..... .###. ....# .#### #...# .####',
  b: '#.... #.... #.##. ##..# #...# #...# ####.',
  c: '..... ..... .###. #.... #.... #...# .###.',
  d: '....# ....# .##.# #..## #...# #...# .####',
  e: '..... ..... .###. #...# ##### #.... .###.',
  f: '..##. .#..# .#... ###.. .#... .#... .#...',
  g: '..... ..... .#### #...# #...# #...# .#### ....# .###.',
  h: '#.... #.... #.##. ##..# #...# #...# #...#',
  i: '..#.. ..... .##.. ..#.. ..#.. ..#.. .###.',
  j: '...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..',
  k: '#.... #.... #..#. #.#.. ##... #.#.. #..#.',
  l: '.##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  m: '..... ..... ##.#. #.#.# #.#.# #...# #...#',
  n: '..... ..... #.##. ##..# #...# #...# #...#',
  o: '..... ..... .###. #...# #...# #...# .###.',
  p: '..... ..... ####. #...# #...# #...# ####. #.... #....',
  q: '..... ..... .#### #...# #...# #...# .#### ....# ....#',
  r: '..... ..... #.##. ##..# #.... #.... #....',
  s: '..... ..... .#### #.... .###. ....# ####.',
  t: '.#... .#... ###.. .#... .#... .#..# ..##.',
  u: '..... ..... #...# #...# #...# #..## .##.#',
  v: '..... ..... #...# #...# #...# .#.#. ..#..',
  w: '..... ..... #...# #...# #.#.# #.#.# .#.#.',
  x: '..... ..... #...# .#.#. ..#.. .#.#. #...#',
  y: '..... ..... #...# #...# #...# #...# .#### ....# .###.',
  z: '..... ..... ##### ...#. ..#.. .#... #####',
};

/** Characters drawn as another: the en dash and minus sign as '-', the multiplication dot as '.'. */
const GLYPH_ALIASES: Record<string, string> = { '–': '-', '−': '-', '—': '-', '·': '.', '≤': '<', '≥': '>' };

/** Decoded glyph bitmaps: row-major, 5 columns and 7 rows (9 with a descender), 1 = ink. */
const GLYPHS = new Map<string, Uint8Array>(
  Object.entries(GLYPH_ROWS).map(([ch, rows]) => {
    const cells = rows.split(' ').join('');
    const bits = new Uint8Array(cells.length);
    cells.split('').forEach((p, i) => (bits[i] = p === '#' ? 1 : 0));
    return [ch, bits];
  }),
);

const GLYPH_ADVANCE = 6; // 5 columns + 1 spacing
/** Rows from the top of one text line to the next (7 rows, 2 of descender, 1 of space). */
export const LINE_HEIGHT = 10;

/** The glyph drawn for `ch`: its own, an alias's, or its upper-case form's; undefined leaves a space. */
function glyph(ch: string): Uint8Array | undefined {
  return GLYPHS.get(ch) ?? GLYPHS.get(GLYPH_ALIASES[ch] ?? '') ?? GLYPHS.get(ch.toUpperCase());
}

/** Width in pixels of `text` drawn by the built-in font at `scale`. */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * GLYPH_ADVANCE - 1) * scale;
}

/** `text` cut (with a trailing '..') to fit `width` pixels. */
function fitText(text: string, width: number): string {
  const chars = [...text];
  const max = Math.floor((width + 1) / GLYPH_ADVANCE);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 2)).join('')}..`;
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

  /** Draws `s` with its cap line at row `y` (descenders go 2 rows below the 7-row cell), `scale` × scale pixels per dot. */
  text(x: number, y: number, s: string, c: RGB, scale = 1): void {
    let cx = x;
    for (const ch of s) {
      const g = glyph(ch);
      if (g) {
        for (let i = 0; i < g.length; i++) if (g[i]) this.fillRect(cx + (i % 5) * scale, y + Math.floor(i / 5) * scale, scale, scale, c);
      }
      cx += GLYPH_ADVANCE * scale;
    }
  }

  /** A filled marker of `shape` centred on (x, y), about 7 pixels across. */
  marker(x: number, y: number, shape: MarkerShape, c: RGB, clip?: [number, number, number, number]): void {
    const cx = Math.round(x);
    const cy = Math.round(y);
    for (let dy = -3; dy <= 3; dy++) {
      for (let dx = -3; dx <= 3; dx++) {
        const inside =
          shape === 'square'
            ? Math.abs(dx) <= 2 && Math.abs(dy) <= 2
            : shape === 'diamond'
              ? Math.abs(dx) + Math.abs(dy) <= 3
              : shape === 'triangle'
                ? dy >= -2 && dy <= 2 && Math.abs(dx) <= Math.floor((dy + 3) * 0.75)
                : dx * dx + dy * dy <= 9; // circle
        const px = cx + dx;
        const py = cy + dy;
        if (!inside || (clip && (px < clip[0] || py < clip[1] || px > clip[2] || py > clip[3]))) continue;
        this.set(px, py, c);
      }
    }
  }
}

/** Marker shapes, one per series in turn, so series stay apart where colours are hard to tell. */
export type MarkerShape = 'square' | 'circle' | 'triangle' | 'diamond';
const MARKERS: MarkerShape[] = ['square', 'circle', 'triangle', 'diamond'];

/** Roughly `target` "nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi]. */
function niceTicks(lo: number, hi: number, target: number): { ticks: number[]; step: number } {
  const span = hi - lo;
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
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

function drawPanel(
  r: Raster,
  ox: number,
  oy: number,
  series: PlotSeries[],
  opts: Required<Omit<PlotOptions, 'titles' | 'yRanges' | 'columns'>>,
  title: string | undefined,
  yRange: [number, number] | null | undefined,
): void {
  const W = opts.panelWidth;
  const H = opts.panelHeight;
  const left = ox + 52;
  const right = ox + W - 12;
  const top = oy + (title ? 22 : 10);
  const bottom = oy + H - (opts.xLabel ? 30 : 20);
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
    const pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += pad;
  }
  // Half a point of margin each side: the first and last points (a one-epoch run's only one)
  // sit inside the frame, not on the axis.
  const xMin = opts.xStart - 0.5;
  const xMax = opts.xStart + Math.max(1, maxLen) - 0.5;
  const px = (x: number) => left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => bottom - ((y - lo) / (hi - lo)) * plotH;

  // Grid and tick labels.
  const yt = niceTicks(lo, hi, Math.max(2, Math.min(6, Math.floor(plotH / 40))));
  for (const t of yt.ticks) {
    const y = Math.round(py(t));
    r.line(left, y, right, y, GRID, false);
    r.line(left - 4, y, left, y, BLACK, false);
    const label = formatTick(t, yt.step);
    r.text(left - 6 - textWidth(label), y - 3, label, TEXT);
  }
  // x ticks on whole points only: a nice step of at least 1, from the first point.
  const xStep = Math.max(
    1,
    Math.round(niceTicks(opts.xStart, Math.max(opts.xStart + 1, opts.xStart + maxLen - 1), Math.max(2, Math.min(8, Math.floor(plotW / 60)))).step),
  );
  for (let t = Math.ceil(opts.xStart / xStep) * xStep; t < xMax; t += xStep) {
    const x = Math.round(px(t));
    r.line(x, top, x, bottom, GRID, false);
    r.line(x, bottom, x, bottom + 4, BLACK, false);
    const label = formatTick(t, xStep);
    r.text(x - Math.floor(textWidth(label) / 2), bottom + 7, label, TEXT);
  }
  // Axes.
  r.line(left, top, left, bottom, BLACK, false);
  r.line(left, bottom, right, bottom, BLACK, false);
  if (title) {
    const t = fitText(title, W - 8);
    r.text(ox + Math.max(4, Math.floor((W - textWidth(t)) / 2)), oy + 6, t, BLACK);
  }
  if (opts.xLabel) r.text(left + Math.floor((plotW - textWidth(opts.xLabel)) / 2), oy + H - 11, opts.xLabel, TEXT);

  // Lines; a non-finite value breaks the line. Every finite point gets its series' marker, so a
  // single point (a one-epoch run, or one between two gaps) is as visible as a line.
  const clip: [number, number, number, number] = [left + 1, top, right, bottom - 1];
  series.forEach((s) => {
    let prev: [number, number] | null = null;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        prev = null;
        return;
      }
      const p: [number, number] = [px(opts.xStart + i), py(v)];
      if (prev) r.line(prev[0], prev[1], p[0], p[1], s.color, true, clip);
      prev = p;
    });
  });
  if (opts.markers) {
    series.forEach((s, k) =>
      s.values.forEach((v, i) => {
        if (Number.isFinite(v)) r.marker(px(opts.xStart + i), py(v), s.marker ?? MARKERS[k % MARKERS.length]!, s.color, clip);
      }),
    );
  }

  // Legend: marker + name on a white box, in whichever corner covers the fewest data points.
  const names = series.map((s) => fitText(s.name, plotW - 30));
  const legendW = Math.max(0, ...names.map((n) => textWidth(n))) + 16;
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
        const x = px(opts.xStart + i);
        const y = py(v);
        if (x >= bx - 6 && x <= bx + legendW + 6 && y >= by - 6 && y <= by + legendH + 6) n++;
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
    if (opts.markers) r.marker(lx + 4, ly + 4, s.marker ?? MARKERS[i % MARKERS.length]!, s.color);
    else r.fillRect(lx, ly, 8, 8, s.color);
    r.text(lx + 12, ly + 1, names[i]!, TEXT);
  });
}

/**
 * Draw line charts, one panel per group of series (e.g. [[trainLoss, testLoss], [trainAcc, testAcc]]),
 * `columns` panels to a row (default: all in one row), and return them as PNG bytes.
 */
export function plotCurves(series: PlotSeries[][], opts: PlotOptions = {}): Uint8Array {
  const o = {
    panelWidth: Math.max(80, Math.round(opts.panelWidth ?? 480)),
    panelHeight: Math.max(60, Math.round(opts.panelHeight ?? 320)),
    xStart: opts.xStart ?? 1,
    xLabel: opts.xLabel ?? 'EPOCH',
    markers: opts.markers ?? true,
  };
  const panels = Math.max(1, series.length);
  const cols = Math.max(1, Math.min(panels, Math.round(opts.columns ?? panels)));
  const rows = Math.ceil(panels / cols);
  const r = new Raster(o.panelWidth * cols, o.panelHeight * rows);
  r.fillRect(0, 0, r.width, r.height, WHITE);
  series.forEach((group, i) => drawPanel(r, (i % cols) * o.panelWidth, Math.floor(i / cols) * o.panelHeight, group, o, opts.titles?.[i], opts.yRanges?.[i]));
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

// ---- AutoMix mask grid ---------------------------------------------------------------------

/** One pair of the mask grid: two images, the mask, their blend, and what to say about them. */
export interface MaskGridRow {
  /** Image a, C·H·W pixels in 0..1 (CHW). */
  a: ArrayLike<number>;
  /** Its partner b = x[π], C·H·W pixels in 0..1. */
  b: ArrayLike<number>;
  /** m_a, H·W weights of a in 0..1 (1 − the Mix Block's m_b). */
  maskA: ArrayLike<number>;
  /** The mixed image m_a·a + (1 − m_a)·b, C·H·W pixels in 0..1. */
  mixed: ArrayLike<number>;
  /** Class names of a and b. */
  labelA: string;
  labelB: string;
  /** The λ the mask was asked for (the mean of m_a that L_mask pulls towards). */
  lam: number;
}

export interface MaskGridOptions {
  C: number;
  H: number;
  W: number;
  /** Pixels per image pixel (default 3). */
  scale?: number;
  /** A line above the column titles (e.g. the checkpoint the masks come from). */
  title?: string;
}

/** Where everything of the mask grid is, in pixels (for callers and tests). */
export interface MaskGridLayout {
  width: number;
  height: number;
  scale: number;
  /** Left edge of each column's tile (the tile's 1-pixel white border included): a, b, m_a, m_a stretched, mixed. */
  columns: { name: string; x: number }[];
  /** The colour bar of the stretched column: left edge and width; it spans the tile's image rows. */
  bar: { x: number; width: number };
  /** Per row: the label band (top, height) and the top of its tiles (border included). */
  rows: { labelY: number; labelHeight: number; tileY: number }[];
  /** Tile size, border included: W·scale + 2 by H·scale + 2. */
  tileW: number;
  tileH: number;
}

/** Each mask's mean, minimum and maximum over its positions. */
export interface MaskRowStats {
  mean: number;
  min: number;
  max: number;
}

const MASK_COLUMNS = ['a', 'b (partner)', 'm_a (0-1)', 'm_a stretched', 'mixed'];
const LABEL_LINES = 2;
const BAR_W = 8;
const BAR_LABEL_W = textWidth('0.000000') + 2;

/** The layout of a grid of `pairs` rows (see {@link drawMaskGrid}). */
export function maskGridLayout(pairs: number, opts: MaskGridOptions): MaskGridLayout {
  const S = Math.max(1, Math.round(opts.scale ?? 3));
  const tileW = opts.W * S + 2;
  const tileH = opts.H * S + 2;
  const barRegion = BAR_W + 3 + BAR_LABEL_W + 4;
  const xs = [0, tileW, 2 * tileW, 3 * tileW, 4 * tileW + barRegion];
  const width = Math.max(5 * tileW + barRegion, textWidth('1. a: T-shirt/top  b: Ankle boot') + 8);
  const header = (opts.title ? LINE_HEIGHT : 0) + LINE_HEIGHT + 4;
  const labelHeight = LABEL_LINES * LINE_HEIGHT + 3;
  const rows = Array.from({ length: pairs }, (_, i) => {
    const labelY = header + i * (labelHeight + tileH);
    return { labelY, labelHeight, tileY: labelY + labelHeight };
  });
  return {
    width,
    height: header + pairs * (labelHeight + tileH),
    scale: S,
    columns: MASK_COLUMNS.map((name, k) => ({ name, x: xs[k]! })),
    bar: { x: 4 * tileW + 2, width: BAR_W },
    rows,
    tileW,
    tileH,
  };
}

/** Viridis (matplotlib's perceptually uniform map) at t in 0..1, from five anchors. */
export function viridis(t: number): RGB {
  const A: RGB[] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (A.length - 1);
  const k = Math.min(A.length - 2, Math.floor(u));
  const f = u - k;
  return [0, 1, 2].map((c) => Math.round(A[k]![c]! + f * (A[k + 1]![c]! - A[k]![c]!))) as unknown as RGB;
}

function maskStats(m: ArrayLike<number>): MaskRowStats {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < m.length; j++) {
    const v = m[j]!;
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { mean: sum / m.length, min, max };
}

const byte = (v: number) => Math.max(0, Math.min(255, Math.round(v * 255)));

/** Decimals that tell a mask's min and max apart: 3, or up to 6 for a narrower range. */
export function rangeDecimals(span: number): number {
  return span > 0 && span < 0.01 ? Math.min(6, Math.ceil(-Math.log10(span)) + 1) : 3;
}

/** A range's width: 3 decimals, or 2 significant digits in exponent form below 0.001. */
const fmtWidth = (w: number) => (w > 0 && w < 0.001 ? w.toExponential(1) : w.toFixed(3));

/**
 * The labelled mask grid of `automix visualize`: per pair a label band (its classes, λ, the mask's
 * mean and min–max range) above five tiles — a, its partner b, m_a in absolute grey (black 0,
 * white 1: white where a is kept), m_a contrast-stretched to its own min..max in viridis with a
 * colour bar giving those two values, and the mixed image. Tiles have a 1-pixel white border;
 * image pixel (y, x) of a tile fills `scale`×`scale` pixels from (tileY + 1 + y·scale, x0 + 1 + x·scale).
 */
export function drawMaskGrid(rows: MaskGridRow[], opts: MaskGridOptions): { png: Uint8Array; layout: MaskGridLayout; stats: MaskRowStats[] } {
  const { C, H, W } = opts;
  const L = maskGridLayout(rows.length, opts);
  const S = L.scale;
  const r = new Raster(L.width, L.height);
  r.fillRect(0, 0, L.width, L.height, WHITE);
  let y0 = 4;
  if (opts.title) {
    r.text(2, y0, fitText(opts.title, L.width - 4), BLACK);
    y0 += LINE_HEIGHT;
  }
  for (const col of L.columns) r.text(col.x + 1, y0, fitText(col.name, L.tileW - 2), BLACK);
  const tile = (x0: number, ty: number, rgb: (y: number, x: number) => RGB) => {
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) r.fillRect(x0 + 1 + x * S, ty + 1 + y * S, S, S, rgb(y, x));
  };
  const image =
    (px: ArrayLike<number>) =>
    (y: number, x: number): RGB => {
      const at = (c: number) => byte(px[(c * H + y) * W + x]!);
      return C === 3 ? [at(0), at(1), at(2)] : [at(0), at(0), at(0)];
    };
  const stats = rows.map((row, i) => {
    const { labelY, tileY } = L.rows[i]!;
    const st = maskStats(row.maskA);
    const d = rangeDecimals(st.max - st.min);
    const f = (v: number) => v.toFixed(d);
    r.text(2, labelY + 1, fitText(`${i + 1}. a: ${row.labelA}  b: ${row.labelB}`, L.width - 4), TEXT);
    r.text(
      2,
      labelY + 1 + LINE_HEIGHT,
      fitText(`λ ${row.lam.toFixed(2)}  m_a mean ${st.mean.toFixed(3)}  range ${f(st.min)}-${f(st.max)} (width ${fmtWidth(st.max - st.min)})`, L.width - 4),
      TEXT,
    );
    tile(L.columns[0]!.x, tileY, image(row.a));
    tile(L.columns[1]!.x, tileY, image(row.b));
    tile(L.columns[2]!.x, tileY, (y, x) => {
      const g = byte(row.maskA[y * W + x]!);
      return [g, g, g];
    });
    const span = st.max - st.min;
    tile(L.columns[3]!.x, tileY, (y, x) => viridis(span > 0 ? (row.maskA[y * W + x]! - st.min) / span : 0.5));
    tile(L.columns[4]!.x, tileY, image(row.mixed));
    // Colour bar: max at the top, min at the bottom, beside the stretched tile.
    const barTop = tileY + 1;
    const barH = H * S;
    for (let k = 0; k < barH; k++) r.fillRect(L.bar.x, barTop + k, L.bar.width, 1, viridis(barH > 1 ? 1 - k / (barH - 1) : 0.5));
    const lx = L.bar.x + L.bar.width + 3;
    if (span > 0) {
      r.text(lx, barTop, f(st.max), TEXT);
      r.text(lx, barTop + barH - 7, f(st.min), TEXT);
    } else r.text(lx, barTop + Math.floor(barH / 2) - 3, 'flat', TEXT);
    return st;
  });
  return { png: encodePng(r.data, L.width, L.height), layout: L, stats };
}

// ---- Run records: one panel per quantity -----------------------------------------------------

/** What {@link runPanels} needs of a run record (`automix train --json`). */
export interface RunCurves {
  name: string;
  /** The run's --method: `automix` runs have four loss terms, the others one (`loss`). */
  method: string;
  color: [number, number, number];
  /** null: a NaN written as JSON. */
  epochs: { train_loss: number | null; test_acc: number | null; terms?: Record<string, number | null> }[];
}

/** Titles of the loss terms a run record holds, in drawing order. */
const TERM_TITLES: [string, string][] = [
  ['L_mix_q', 'L_mix_q: online net on mixed images (CE)'],
  ['L_one_q', 'L_one_q: online net on clean images (CE)'],
  ['L_mix_k', 'L_mix_k: momentum net on Mix Block mixes'],
  ['L_mask', 'L_mask: mask mean vs λ (0.1, dead zone 0.1)'],
  ['total', 'AutoMix total loss (sum of its 4 terms)'],
];

/**
 * The panels `automix plot` draws for `runs`: test accuracy (%), then one panel per loss term —
 * AutoMix's four terms each on its own axis, and the other methods' single cross-entropy `loss` on
 * another — so AutoMix's summed loss is never on one axis with a baseline's cross-entropy. A record
 * without per-term numbers contributes its train_loss as `total` (AutoMix) or `loss`.
 */
export function runPanels(runs: RunCurves[]): { groups: PlotSeries[][]; titles: string[] } {
  const num = (v: number | null | undefined) => (typeof v === 'number' ? v : Number.NaN);
  const termsOf = (r: RunCurves, e: RunCurves['epochs'][number]): Record<string, number | null> => {
    if (e.terms && Object.keys(e.terms).length) return e.terms;
    return r.method === 'automix' ? { total: e.train_loss } : { loss: e.train_loss };
  };
  // One marker shape per run, the same in every panel.
  const marker = new Map(runs.map((r, i) => [r, MARKERS[i % MARKERS.length]!]));
  const groups: PlotSeries[][] = [
    runs.map((r) => ({ name: r.name, color: r.color, marker: marker.get(r), values: r.epochs.map((e) => 100 * num(e.test_acc)) })),
  ];
  const titles = ['test accuracy (%)'];
  // Every term key, AutoMix's in their fixed order, then the others as met.
  const keys: string[] = [];
  for (const r of runs) for (const e of r.epochs) for (const k of Object.keys(termsOf(r, e))) if (!keys.includes(k)) keys.push(k);
  const order = (k: string) => {
    const i = TERM_TITLES.findIndex(([t]) => t === k);
    return i < 0 ? TERM_TITLES.length : i;
  };
  keys.sort((a, b) => order(a) - order(b));
  for (const k of keys) {
    const having = runs.filter((r) => r.epochs.some((e) => k in termsOf(r, e)));
    groups.push(having.map((r) => ({ name: r.name, color: r.color, marker: marker.get(r), values: r.epochs.map((e) => num(termsOf(r, e)[k])) })));
    const methods = [...new Set(having.map((r) => r.method))].join(', ');
    titles.push(TERM_TITLES.find(([t]) => t === k)?.[1] ?? (k === 'loss' ? `train loss of ${methods} (cross-entropy)` : `${k} (${methods})`));
  }
  return { groups, titles };
}
