// Smoke tests of the benchmark's pure helpers (statistics, table formatting,
// arguments, layout conversions). No GPU, no timing assertions.
import { describe, expect, it } from 'vitest';
import { ArgError, parseArgs, selected } from '../../bench/args.js';
import { hwioToOihw, nchwToNhwc, nhwcToNchw, oihwToHwio, rand } from '../../bench/data.js';
import { fmtDiff, fmtMs, fmtPct, fmtRatio, renderMarkdown, renderTable } from '../../bench/format.js';
import { maxAbsDiff, median, quantile, repeatsFor, summarize } from '../../bench/stats.js';

describe('stats', () => {
  it('median and quantiles interpolate like NumPy', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([10, 20], 0.75)).toBe(17.5);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('summarize gives min, max, IQR and mean', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ n: 5, median: 3, min: 1, max: 5, q1: 2, q3: 4, iqr: 2, mean: 3 });
  });

  it('repeatsFor clamps budget / per-call time', () => {
    expect(repeatsFor(100, 1000, 3, 15)).toBe(10);
    expect(repeatsFor(1000, 1000, 3, 15)).toBe(3);
    expect(repeatsFor(1, 1000, 3, 15)).toBe(15);
    expect(repeatsFor(0, 1000, 3, 15)).toBe(15);
  });

  it('maxAbsDiff reports the largest difference and reference magnitude', () => {
    expect(maxAbsDiff([1, 2, 3], [1, 2.5, -4])).toEqual({ diff: 7, scale: 4 });
    expect(maxAbsDiff([1], [1, 2]).diff).toBe(Infinity);
    expect(Number.isNaN(maxAbsDiff([NaN], [1]).diff)).toBe(true);
  });
});

describe('format', () => {
  it('pads columns and aligns numbers right', () => {
    const t = renderTable([{ header: 'kernel' }, { header: 'ms', align: 'right' }], [['matmul', '1.5'], 'section', ['softmax', '12.25']]);
    const lines = t.split('\n');
    expect(lines[0]).toBe('kernel      ms');
    expect(lines[1]).toBe('-------  -----');
    expect(lines[2]).toBe('matmul     1.5');
    expect(lines[3]).toBe('section');
    expect(lines[4]).toBe('softmax  12.25');
  });

  it('renders Markdown with escaped pipes', () => {
    const md = renderMarkdown([{ header: 'a' }, { header: 'b', align: 'right' }], [['x|y', '1']]);
    expect(md.split('\n')).toEqual(['| a | b |', '|:---|---:|', '| x\\|y | 1 |']);
  });

  it('formats numbers', () => {
    expect(fmtMs(123.4)).toBe('123');
    expect(fmtMs(12.34)).toBe('12.3');
    expect(fmtMs(1.234)).toBe('1.23');
    expect(fmtMs(0.1234)).toBe('0.123');
    expect(fmtMs(undefined)).toBe('—');
    expect(fmtPct(0.456)).toBe('46%');
    expect(fmtPct(0.0456)).toBe('4.6%');
    expect(fmtRatio(2.345)).toBe('2.35×');
    expect(fmtDiff(0)).toBe('0');
    expect(fmtDiff(1.5e-6)).toBe('1.5e-6');
  });
});

describe('args', () => {
  it('parses the documented options', () => {
    const o = parseArgs(['--vs', 'tfjs', '--json', 'out.json', '--filter', 'matmul,Conv', '--filter=softmax', '--repeats', '7', '--quick']);
    expect(o).toMatchObject({ vs: 'tfjs', json: 'out.json', filter: ['matmul', 'conv', 'softmax'], repeats: 7, quick: true, full: false });
  });

  it('rejects unknown options and bad values', () => {
    expect(() => parseArgs(['--nope'])).toThrow(ArgError);
    expect(() => parseArgs(['--vs', 'torch'])).toThrow(ArgError);
    expect(() => parseArgs(['--repeats', '0'])).toThrow(ArgError);
    expect(() => parseArgs(['--json'])).toThrow(ArgError);
  });

  it('filters on "kernel case", case-insensitively', () => {
    expect(selected([], 'matmul', '256³')).toBe(true);
    expect(selected(['matmul 1024'], 'matmul', '1024³')).toBe(true);
    expect(selected(['conv'], 'matmul', '1024³')).toBe(false);
  });
});

describe('layouts', () => {
  it('NCHW ↔ NHWC and OIHW ↔ HWIO round-trip', () => {
    const x = rand(2 * 3 * 4 * 5, 7);
    const y = nchwToNhwc(x, 2, 3, 4, 5);
    // x[n=1, c=2, h=3, w=4] lands at y[n=1, h=3, w=4, c=2]
    expect(y[((1 * 4 + 3) * 5 + 4) * 3 + 2]).toBe(x[((1 * 3 + 2) * 4 + 3) * 5 + 4]);
    expect(Array.from(nhwcToNchw(y, 2, 4, 5, 3))).toEqual(Array.from(x));
    const w = rand(6 * 3 * 2 * 2, 8);
    expect(Array.from(hwioToOihw(oihwToHwio(w, 6, 3, 2, 2), 2, 2, 3, 6))).toEqual(Array.from(w));
  });
});
