/**
 * The demo page: trains a narrow ResNet-18 with AutoMix on a Fashion-MNIST
 * subset in the browser through the library's `TrainingRun` — the same step,
 * captured and replayed, as the Node trainer (src/train/trainer.ts), minus
 * checkpoints and files.
 *
 * URL parameters preset the form (train, test, batch, width, lr, evalEvery),
 * `autostart=1` starts at once and `stopAt=N` pauses after step N (used by
 * scripts/screenshot-demo.mjs).
 */
import { createEngine, type Engine, formatKernelSummary, kernelSummary, tunerOf } from '../src/browser.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { BatchLoader } from '../src/data/loader.js';
import { maskedBlend } from '../src/ops/blend.js';
import { automixMomentum, scaledEmaStart } from '../src/optim/index.js';
import { defaultConfig } from '../src/train/config.js';
import { TrainingRun } from '../src/train/run.js';
import type { HostBatch } from '../src/train/steps.js';
import { evaluate } from '../src/train/evaluate.js';
import { CLASSES, loadPicked, loadServed, type Splits } from './data.js';
import { LivePlot, type Series } from './plot.js';

// ---- page elements -------------------------------------------------------------

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  adapter: $('adapter'),
  gpuError: $('gpu-error'),
  start: $<HTMLButtonElement>('start'),
  reset: $<HTMLButtonElement>('reset'),
  status: $('status'),
  runError: $('run-error'),
  files: $<HTMLInputElement>('files'),
  nTrain: $<HTMLInputElement>('n-train'),
  nTest: $<HTMLInputElement>('n-test'),
  batch: $<HTMLInputElement>('batch'),
  width: $<HTMLInputElement>('width'),
  lr: $<HTMLInputElement>('lr'),
  evalEvery: $<HTMLInputElement>('eval-every'),
  step: $('s-step'),
  epoch: $('s-epoch'),
  ips: $('s-ips'),
  loss: $('s-loss'),
  terms: $('s-terms'),
  acc: $('s-acc'),
  lam: $('s-lam'),
  ema: $('s-ema'),
  kernels: $('s-kernels'),
  maskGrid: $('mask-grid'),
  maskNote: $('mask-note'),
};
const plot = new LivePlot($<HTMLCanvasElement>('plot'));

const params = new URLSearchParams(location.search);
for (const [key, input] of [
  ['train', ui.nTrain],
  ['test', ui.nTest],
  ['batch', ui.batch],
  ['width', ui.width],
  ['lr', ui.lr],
  ['evalEvery', ui.evalEvery],
] as const) {
  const v = params.get(key);
  if (v !== null) input.value = v;
}
const stopAt = Number(params.get('stopAt') ?? 0);

function showError(el: HTMLElement, e: unknown): void {
  el.hidden = false;
  el.textContent = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

// ---- state -----------------------------------------------------------------------

interface Settings {
  nTrain: number;
  nTest: number;
  batch: number;
  width: number;
  lr: number;
  evalEvery: number;
}

interface Run {
  settings: Settings;
  data: Splits;
  /** Online and momentum networks, Mix Block, SGD: one call per iteration. */
  train: TrainingRun;
  loader: BatchLoader;
  /** The batch of the last step (the masks are drawn from it). */
  last: HostBatch | null;
  step: number;
  /** K of the EMA schedule (ten passes over the subset); its start is scaled to K as the CLI's `--ema-momentum auto`. */
  totalSteps: number;
  imagesPerS: number;
  /** The tuner's choice count when the run began: the step's kernels are the choices since. */
  choiceMark: number;
}

const history = {
  total: [] as [number, number][],
  one: [] as [number, number][],
  mixQ: [] as [number, number][],
  mixK: [] as [number, number][],
  acc: [] as [number, number][],
};

let engine: Engine | null = null;
let run: Run | null = null;
let running = false;
let gpuChecked = false;
let loopDone: Promise<void> = Promise.resolve();
const SEED = 0;

/** What the screenshot script and curious users can read. */
const demo = {
  get state() {
    return running ? 'running' : run ? 'paused' : engine ? 'idle' : gpuChecked ? 'no-webgpu' : 'starting';
  },
  get step() {
    return run?.step ?? 0;
  },
  get adapter() {
    return engine?.info ?? null;
  },
  history,
  error: null as string | null,
};
(window as unknown as { __demo: typeof demo }).__demo = demo;

function readSettings(): Settings {
  const num = (el: HTMLInputElement, lo: number, hi: number) => Math.min(hi, Math.max(lo, Number(el.value) || lo));
  return {
    nTrain: Math.round(num(ui.nTrain, 64, 60000)),
    nTest: Math.round(num(ui.nTest, 32, 10000)),
    batch: Math.round(num(ui.batch, 2, 256)),
    width: num(ui.width, 0.0625, 1),
    lr: num(ui.lr, 1e-4, 1),
    evalEvery: Math.round(num(ui.evalEvery, 1, 1000)),
  };
}

// ---- set-up ------------------------------------------------------------------------

async function initGpu(): Promise<void> {
  try {
    engine = await createEngine();
  } catch (e) {
    // gpu-browser.ts explains why (no navigator.gpu, not a secure context, no adapter).
    ui.adapter.textContent = 'none';
    showError(ui.gpuError, e);
    ui.status.textContent = 'This browser cannot run the demo: it needs WebGPU.';
    demo.error = e instanceof Error ? e.message : String(e);
    return;
  }
  const i = engine.info;
  const name = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' · ') || 'unnamed adapter';
  ui.adapter.textContent = `${name}${i.isFallbackAdapter ? ' (software / fallback adapter: expect a few images per second)' : ''} — features: ${[...engine.features].sort().join(', ') || 'none'}`;
  ui.start.disabled = false;
  ui.status.textContent = 'ready: press Start';
  engine.ctx.device.lost.then((info) => {
    if (info.reason !== 'destroyed') showError(ui.runError, new Error(`the GPU device was lost: ${info.message}`));
  });
}

async function loadData(s: Settings): Promise<Splits> {
  const source = (document.querySelector('input[name="source"]:checked') as HTMLInputElement).value;
  if (source === 'files') {
    if (!ui.files.files?.length) throw new Error('choose the Fashion-MNIST IDX files first (or use the served data)');
    return loadPicked(ui.files.files, s.nTrain, s.nTest);
  }
  return loadServed(s.nTrain, s.nTest, (m) => (ui.status.textContent = m));
}

async function createRun(e: Engine): Promise<Run> {
  const settings = readSettings();
  ui.status.textContent = 'loading Fashion-MNIST…';
  const data = await loadData(settings);
  const { train } = data;
  const B = Math.min(settings.batch, train.n);
  // The momentum network starts as an exact copy of the online one (same spec and seed).
  const cfg = { ...defaultConfig('automix'), width: settings.width, lr: settings.lr, seed: SEED };
  const tr = new TrainingRun(e, cfg, { c: train.c, h: train.h, w: train.w, numClasses: train.numClasses }, { log: (m) => console.info(m) });
  const loader = new BatchLoader(train, { batchSize: B, seed: SEED, augment: { cropPadding: 2, flip: true }, dropLast: true });
  return {
    settings: { ...settings, batch: B },
    data,
    train: tr,
    loader,
    last: null,
    step: 0,
    totalSteps: 10 * loader.batchesPerEpoch,
    imagesPerS: 0,
    choiceMark: tunerOf(e).choiceCount,
  };
}

function disposeRun(r: Run): void {
  r.train.dispose();
}

// ---- training ------------------------------------------------------------------------

/** One AutoMix iteration (TrainingRun.step), waited for. Returns the loss terms and stats. */
async function trainStep(r: Run): Promise<Record<string, number>> {
  const batch = await r.loader.nextBatch();
  const { c, h, w } = r.data.train;
  r.last = { x: batch.x, y: batch.y, shape: [batch.n, c, h, w] };
  const ema = automixMomentum(r.step, r.totalSteps, scaledEmaStart(r.totalSteps));
  r.train.step(r.last, r.step, ema);
  const [res] = await r.train.results();
  const host: Record<string, number> = { ...res!.terms, ema };
  for (const [k, v] of Object.entries(res!.stats)) host[`stat:${k}`] = v;
  if (!res!.applied) {
    const bad = Object.entries(res!.terms).filter(([, v]) => !Number.isFinite(v));
    throw new Error(`non-finite loss at step ${r.step} (the update was not applied): ${bad.map(([n, v]) => `${n} = ${v}`).join(', ')}`);
  }
  host['total'] = Object.values(res!.terms).reduce((a, b) => a + b, 0);
  return host;
}

/** Top-1 accuracy (%) of the online network's clean head on the test subset. */
async function evaluateOnline(e: Engine, r: Run): Promise<number> {
  return 100 * (await evaluate(e, r.train.online, 'head_one', r.data.test, 128));
}

// ---- masks ----------------------------------------------------------------------------

const PAIRS = 4;

/**
 * The Mix Block's current mask for pairs of the batch last uploaded: the
 * momentum network's stage-3 features → Mix Block → m_b (the weight of the
 * partner image), and the blended batch. No gradient; λ only matters to the
 * Mix Block with the λ channel (images over 64 px), so 0.5 is used.
 */
async function showMasks(e: Engine, r: Run): Promise<void> {
  const { train } = r.data;
  const st = r.train.automix!;
  if (!r.last) return;
  const [B, C, H, W] = r.last.shape as [number, number, number, number];
  const perm = Int32Array.from({ length: B }, (_, i) => (i + 1) % B);
  const [x, m, mixed] = await e.asyncScope(async () => {
    const xT = e.tensor(r.last!.x, r.last!.shape);
    const [mask, blend] = e.noGrad(() => {
      const z = st.momentum.backbone.forward(xT, { stopAfter: st.maskStage });
      const p = e.tensor(perm, [B], { dtype: 'i32' });
      const mk = st.mixBlock.mask(z, p, 0.5, H);
      return [mk, maskedBlend(xT, mk, p)];
    });
    return Promise.all([xT.read(), mask.read(), blend.read()]);
  });
  const labels = r.last.y;
  const per = C * H * W;
  ui.maskGrid.replaceChildren();
  let meanA = 0;
  for (let i = 0; i < Math.min(PAIRS, B); i++) {
    const j = perm[i]!;
    const mi = m.subarray(i * H * W, (i + 1) * H * W);
    let s = 0;
    let lo = 1;
    let hi = 0;
    for (const v of mi) {
      s += v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const mb = s / (H * W);
    meanA += 1 - mb;
    const pair = document.createElement('div');
    pair.className = 'pair';
    pair.append(
      figure(gray(x.subarray(i * per, i * per + H * W), W, H, train), `a: ${CLASSES[labels[i]!]}`),
      figure(gray(x.subarray(j * per, j * per + H * W), W, H, train), `b: ${CLASSES[labels[j]!]}`),
      figure(heat(mi, W, H), `mask: ${(100 * mb).toFixed(0)}% b`, `m ranges ${lo.toFixed(3)}–${hi.toFixed(3)}`),
      figure(gray(mixed.subarray(i * per, i * per + H * W), W, H, train), 'mixed'),
    );
    ui.maskGrid.append(pair);
  }
  ui.maskNote.textContent = `(step ${r.step}, mean weight of a: ${(meanA / Math.min(PAIRS, B)).toFixed(2)})`;
}

function figure(canvas: HTMLCanvasElement, caption: string, title = caption): HTMLElement {
  const f = document.createElement('figure');
  const c = document.createElement('figcaption');
  c.textContent = caption;
  f.title = title;
  f.append(canvas, c);
  return f;
}

function paint(w: number, h: number, rgb: (k: number) => [number, number, number]): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const g = c.getContext('2d')!;
  const img = g.createImageData(w, h);
  for (let k = 0; k < w * h; k++) {
    const [r, gg, b] = rgb(k);
    img.data.set([r, gg, b, 255], k * 4);
  }
  g.putImageData(img, 0, 0);
  return c;
}

/** A normalised image back to grey levels (v·std + mean). */
function gray(v: Float32Array, w: number, h: number, ds: ImageDataset): HTMLCanvasElement {
  return paint(w, h, (k) => {
    const p = Math.round(255 * Math.min(1, Math.max(0, v[k]! * ds.std[0]! + ds.mean[0]!)));
    return [p, p, p];
  });
}

/** Mask values in [0, 1] through a dark-blue → orange → yellow ramp. */
function heat(v: Float32Array, w: number, h: number): HTMLCanvasElement {
  const stops: [number, number, number][] = [
    [13, 8, 135],
    [126, 3, 168],
    [204, 71, 120],
    [248, 149, 64],
    [240, 249, 33],
  ];
  return paint(w, h, (k) => {
    const t = Math.min(1, Math.max(0, v[k]!)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(t));
    const f = t - i;
    const a = stops[i]!;
    const b = stops[i + 1]!;
    return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
  });
}

// ---- the loop ---------------------------------------------------------------------------

function redraw(): void {
  const series: Series[] = [
    { label: 'total', color: '#1d2330', points: history.total, axis: 'loss', width: 2 },
    { label: 'L_one_q', color: '#3563e9', points: history.one, axis: 'loss' },
    { label: 'L_mix_q', color: '#2f9e44', points: history.mixQ, axis: 'loss' },
    { label: 'L_mix_k', color: '#ae3ec9', points: history.mixK, axis: 'loss', dash: [4, 3] },
    { label: 'test acc', color: '#e8590c', points: history.acc, axis: 'acc', width: 2, dots: true },
  ];
  plot.draw(series);
}

function showStep(r: Run, h: Record<string, number>): void {
  ui.step.textContent = String(r.step);
  ui.epoch.textContent = ((r.step * r.settings.batch) / r.data.train.n).toFixed(2);
  ui.ips.textContent = r.imagesPerS ? r.imagesPerS.toFixed(1) : '–';
  ui.loss.textContent = h['total']!.toFixed(4);
  ui.terms.textContent = ['L_one_q', 'L_mix_q', 'L_mix_k', 'L_mask'].map((k) => h[k]!.toFixed(3)).join(' · ');
  ui.lam.textContent = `${h['stat:lam_mb']!.toFixed(2)} · ${(1 - h['stat:mask_mean']!).toFixed(2)}`;
  ui.ema.textContent = h['ema']!.toFixed(6);
}

async function loop(e: Engine, r: Run): Promise<void> {
  const { evalEvery, batch } = r.settings;
  while (running) {
    const t0 = performance.now();
    const h = await trainStep(r);
    const dt = (performance.now() - t0) / 1000;
    r.step++;
    // Smoothed throughput; the first steps also compile pipelines and count less.
    r.imagesPerS = r.imagesPerS ? 0.8 * r.imagesPerS + 0.2 * (batch / dt) : batch / dt;
    history.total.push([r.step, h['total']!]);
    history.one.push([r.step, h['L_one_q']!]);
    history.mixQ.push([r.step, h['L_mix_q']!]);
    history.mixK.push([r.step, h['L_mix_k']!]);
    showStep(r, h);
    ui.status.textContent = `training on ${r.data.train.n} images (${r.data.source}); ${dt.toFixed(2)} s for the last step`;
    if (r.step === 1 || r.step % 5 === 0 || r.step === stopAt) await showMasks(e, r);
    // After the warm-up and the two captures the step's kernels are settled (and replayed from then on).
    if (r.step === 3) ui.kernels.textContent = formatKernelSummary(kernelSummary(tunerOf(e).choicesSince(r.choiceMark)));
    if (r.step % evalEvery === 0 || r.step === stopAt) {
      ui.status.textContent = `testing on ${r.data.test.n} images…`;
      const acc = await evaluateOnline(e, r);
      history.acc.push([r.step, acc]);
      ui.acc.textContent = `${acc.toFixed(1)} % (step ${r.step})`;
    }
    redraw();
    if (stopAt && r.step >= stopAt) {
      running = false;
      ui.status.textContent = `paused after step ${r.step} (stopAt=${stopAt})`;
    }
    // Let the page paint between steps.
    await new Promise((res) => setTimeout(res, 0));
  }
}

async function start(): Promise<void> {
  if (!engine || running) return;
  ui.runError.hidden = true;
  ui.start.disabled = true;
  try {
    if (!run) run = await createRun(engine);
  } catch (e) {
    showError(ui.runError, e);
    demo.error = String(e);
    ui.status.textContent = 'could not start';
    ui.start.disabled = false;
    return;
  }
  running = true;
  ui.start.textContent = 'Pause';
  ui.start.disabled = false;
  ui.reset.disabled = false;
  setInputs(false);
  const r = run;
  loopDone = loop(engine, r)
    .catch((e) => {
      running = false;
      showError(ui.runError, e);
      demo.error = String(e);
      ui.status.textContent = `stopped at step ${r.step}`;
    })
    .finally(() => {
      ui.start.textContent = 'Start';
    });
}

async function pause(): Promise<void> {
  running = false;
  ui.start.disabled = true;
  ui.status.textContent = 'pausing after this step…';
  await loopDone;
  ui.start.disabled = false;
  ui.status.textContent = `paused at step ${run?.step ?? 0}`;
}

async function reset(): Promise<void> {
  running = false;
  ui.reset.disabled = true;
  await loopDone;
  if (run) disposeRun(run);
  run = null;
  for (const s of Object.values(history)) s.length = 0;
  for (const el of [ui.step, ui.epoch, ui.ips, ui.loss, ui.terms, ui.acc, ui.lam, ui.ema, ui.kernels]) el.textContent = '–';
  ui.maskGrid.replaceChildren();
  ui.maskNote.textContent = '';
  setInputs(true);
  redraw();
  ui.start.disabled = !engine;
  ui.status.textContent = 'reset: press Start for a fresh model';
}

function setInputs(on: boolean): void {
  for (const el of [ui.nTrain, ui.nTest, ui.batch, ui.width, ui.lr, ui.evalEvery, ui.files]) el.disabled = !on;
  for (const el of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) el.disabled = !on;
}

ui.start.addEventListener('click', () => void (running ? pause() : start()));
ui.reset.addEventListener('click', () => void reset());
ui.files.addEventListener('change', () => {
  (document.querySelector('input[name="source"][value="files"]') as HTMLInputElement).checked = true;
});
window.addEventListener('resize', redraw);

redraw();
await initGpu();
gpuChecked = true;
if (params.get('autostart') === '1') void start();
