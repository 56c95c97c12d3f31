/**
 * Plain-text tables and number formatting for the terminal (pure; tested in
 * test/bench/). Columns are padded to their widest cell; numbers align right.
 */

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
}

/** Display width of a string (code points; the tables use no wide glyphs). */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'right' ? fill + s : s + fill;
}

/**
 * Renders rows under a header with a rule below it. A row that is a single
 * string is printed as a section line spanning the table.
 */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[] | string)[]): string {
  const widths = columns.map((c) => width(c.header));
  for (const r of rows) {
    if (typeof r === 'string') continue;
    r.forEach((cell, i) => {
      if (i < widths.length) widths[i] = Math.max(widths[i]!, width(cell));
    });
  }
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => pad(cells[i] ?? '', widths[i]!, c.align ?? 'left'))
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(typeof r === 'string' ? r : line(r));
  return out.join('\n');
}

/** Renders the same rows as a GitHub-flavoured Markdown table. */
export function renderMarkdown(columns: readonly Column[], rows: readonly (readonly string[] | string)[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [`| ${columns.map((c) => esc(c.header)).join(' | ')} |`, `|${columns.map((c) => (c.align === 'right' ? '---:' : ':---')).join('|')}|`];
  for (const r of rows) {
    if (typeof r === 'string') out.push(`| **${esc(r.trim())}** |${' |'.repeat(columns.length - 1)}`);
    else out.push(`| ${columns.map((_, i) => esc(r[i] ?? '')).join(' | ')} |`);
  }
  return out.join('\n');
}

/** Milliseconds with 3 significant digits (at least 2 decimals below 1 ms). */
export function fmtMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** A rate (GFLOP/s, GB/s) with 3 significant digits. */
export function fmtRate(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '—';
  if (x >= 1000) return x.toFixed(0);
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 0.01 || x === 0) return x.toFixed(2);
  return x.toPrecision(2);
}

/** A share 0..1 as a percentage. */
export function fmtPct(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '—';
  const p = x * 100;
  return `${p >= 10 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toFixed(2)}%`;
}

/** A speed-up ratio: 3.2×. */
export function fmtRatio(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '—';
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** An absolute difference in short exponential form. */
export function fmtDiff(x: number | null | undefined): string {
  if (x == null) return '—';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return x.toExponential(1);
}

/** "min–max" of a spread. */
export function fmtSpread(min: number, max: number): string {
  return `${fmtMs(min)}–${fmtMs(max)}`;
}
