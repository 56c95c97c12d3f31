/**
 * A small live line plot on a 2-D canvas: loss curves against the left axis,
 * test accuracy (0–100 %) against the right axis, both over training steps.
 */

export interface Series {
  label: string;
  color: string;
  /** [step, value] points. */
  points: [number, number][];
  axis: 'loss' | 'acc';
  width?: number;
  dash?: number[];
  /** Draw dots at the points (sparse series such as accuracy). */
  dots?: boolean;
}

export class LivePlot {
  constructor(private readonly canvas: HTMLCanvasElement) {}

  draw(series: Series[]): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cssW = c.clientWidth || c.width;
    const cssH = c.clientHeight || c.height;
    if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(cssH * dpr)) {
      c.width = Math.round(cssW * dpr);
      c.height = Math.round(cssH * dpr);
    }
    const g = c.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssW, cssH);
    const pad = { l: 48, r: 48, t: 28, b: 30 };
    const w = cssW - pad.l - pad.r;
    const h = cssH - pad.t - pad.b;

    const all = series.flatMap((s) => s.points);
    const maxStep = Math.max(10, ...all.map((p) => p[0]));
    const lossVals = series.filter((s) => s.axis === 'loss').flatMap((s) => s.points.map((p) => p[1]));
    const lossMax = niceCeil(Math.max(0.5, ...lossVals.filter(Number.isFinite)));
    const x = (step: number) => pad.l + (step / maxStep) * w;
    const yLoss = (v: number) => pad.t + h - (Math.min(v, lossMax) / lossMax) * h;
    const yAcc = (v: number) => pad.t + h - (v / 100) * h;

    // Grid and axes.
    g.font = '11px system-ui, sans-serif';
    g.strokeStyle = '#e3e6eb';
    g.fillStyle = '#667085';
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (let i = 0; i <= 5; i++) {
      const yy = pad.t + (h * i) / 5;
      g.beginPath();
      g.moveTo(pad.l, yy);
      g.lineTo(pad.l + w, yy);
      g.stroke();
      g.fillText(((lossMax * (5 - i)) / 5).toFixed(lossMax < 5 ? 1 : 0), pad.l - 6, yy);
    }
    g.textAlign = 'left';
    for (let i = 0; i <= 5; i++) g.fillText(`${100 - i * 20}%`, pad.l + w + 6, pad.t + (h * i) / 5);
    g.textAlign = 'center';
    g.textBaseline = 'top';
    const tick = niceStep(maxStep / 6);
    for (let s = 0; s <= maxStep; s += tick) g.fillText(String(s), x(s), pad.t + h + 6);
    g.fillText('step', pad.l + w / 2, pad.t + h + 18);
    g.save();
    g.translate(12, pad.t + h / 2);
    g.rotate(-Math.PI / 2);
    g.fillText('loss', 0, -6);
    g.restore();
    g.save();
    g.translate(cssW - 12, pad.t + h / 2);
    g.rotate(Math.PI / 2);
    g.fillText('test accuracy', 0, -6);
    g.restore();

    // Curves.
    for (const s of series) {
      const y = s.axis === 'loss' ? yLoss : yAcc;
      g.strokeStyle = s.color;
      g.fillStyle = s.color;
      g.lineWidth = s.width ?? 1.5;
      g.setLineDash(s.dash ?? []);
      g.beginPath();
      s.points.forEach(([st, v], i) => {
        if (!Number.isFinite(v)) return;
        if (i === 0) g.moveTo(x(st), y(v));
        else g.lineTo(x(st), y(v));
      });
      g.stroke();
      g.setLineDash([]);
      if (s.dots) {
        for (const [st, v] of s.points) {
          g.beginPath();
          g.arc(x(st), y(v), 3, 0, Math.PI * 2);
          g.fill();
        }
      }
    }

    // Legend.
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    let lx = pad.l;
    for (const s of series) {
      g.strokeStyle = s.color;
      g.lineWidth = 2.5;
      g.setLineDash(s.dash ?? []);
      g.beginPath();
      g.moveTo(lx, 12);
      g.lineTo(lx + 18, 12);
      g.stroke();
      g.setLineDash([]);
      g.fillStyle = '#1d2330';
      g.fillText(s.label, lx + 22, 12);
      lx += 30 + g.measureText(s.label).width;
    }
  }
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(v, 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
