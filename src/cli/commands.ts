/** `automix eval` and `automix visualize`. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../index.js';
import { CheckpointError } from '../io/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { buildModel, type ModelSpec } from '../models/index.js';
import { ConfigError, type TrainConfig } from '../train/config.js';
import { decodeTensorFile, loadRunState } from '../train/checkpoint.js';
import { checkModelInput, datasetFile, loadData } from '../train/data.js';
import { intFlag } from './flags.js';
import { parseNetworkFlag, resolveModelFile } from './model-file.js';
import { checkNotRunFile, checkPngOutput } from '../train/preflight.js';
import { MixBlock } from '../nn/mix-block.js';
import { evaluate } from '../train/trainer.js';
import { drawMaskGrid } from '../util/plot.js';
import { className } from '../data/class-names.js';
import { BatchLoader } from '../data/loader.js';
import type { ImageDataset } from '../data/dataset.js';

function parseSpec(file: string, meta: Record<string, string>): ModelSpec {
  if (meta.automix_model) return JSON.parse(meta.automix_model) as ModelSpec;
  throw new CheckpointError(file, 'no model description in its metadata (expected a model.safetensors written by automix train)');
}

export async function evalCommand(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string' },
      data: { type: 'string' },
      'limit-test': { type: 'string' },
      'batch-size': { type: 'string' },
      'dump-logits': { type: 'string' },
      network: { type: 'string' },
      verbose: { type: 'boolean' },
    },
    strict: true,
  });
  if (!v.checkpoint) throw new ConfigError('--checkpoint FILE is required (a model.safetensors from a training run)');
  const limitTest = intFlag('limit-test', v['limit-test'], 0, { min: 0 });
  const batchSize = intFlag('batch-size', v['batch-size'], 200, { min: 1, max: 4096 });
  // A run directory gives its reported network (model.safetensors: AutoMix's momentum network)
  // or, with --network online, AutoMix's model-online.safetensors; a file is used as given.
  const { file, tensors, metadata, network, label } = resolveModelFile(v.checkpoint, parseNetworkFlag(v.network));
  if (v['dump-logits']) checkNotRunFile(v['dump-logits'], 'dump-logits', [file]);
  console.log(`evaluating the ${label}: ${file}`);
  const spec = parseSpec(file, metadata);
  const data = await loadData(v.data ?? 'fashion-mnist', 0, limitTest);
  checkDataFitsSpec(spec, data.test, data.source, file);
  const engine = await createEngine();
  try {
    const net = buildModel(engine, spec, 0, 'eval');
    net.params.load(tensors, file);
    net.buffers.load(tensors, file);
    for (const head of spec.heads) {
      const acc = await evaluate(engine, net, head, data.test, batchSize);
      console.log(`${file}: ${network ? `${network} network, ` : ''}head ${head}: test accuracy ${(100 * acc).toFixed(2)}% on ${data.test.n} images`);
    }
    if (v['dump-logits']) {
      // The first 16 normalised test images and their eval-mode logits, for
      // comparison with PyTorch (test/pytorch/compare_logits.py).
      const n = Math.min(16, data.test.n);
      const { c, h, w } = data.test;
      const loader = new BatchLoader(data.test, { batchSize: n, shuffle: false });
      const b = loader.assemble(0, 0);
      const x = b.x.slice(0, n * c * h * w);
      net.setTraining(false);
      const logits = await engine.asyncScope(async () => engine.noGrad(() => net.logits(engine.tensor(x, [n, c, h, w]), spec.heads[0])).read());
      const { encodeSafetensors } = await import('../io/safetensors.js');
      await writeFileAtomic(
        v['dump-logits'],
        encodeSafetensors(
          { images: { dtype: 'F32', shape: [n, c, h, w], data: x }, logits: { dtype: 'F32', shape: [n, spec.numClasses], data: logits } },
          { head: spec.heads[0]!, model: JSON.stringify(spec), network: network ?? 'unnamed' },
        ),
      );
      console.log(`wrote ${v['dump-logits']}: ${n} images and their logits (head ${spec.heads[0]})`);
    }
    net.dispose();
  } finally {
    engine.destroy();
  }
}

/**
 * Refuses test images the model in `file` was not trained on: another channel count, size or
 * number of classes would run (or fail deep in an op) and report a meaningless accuracy.
 */
function checkDataFitsSpec(spec: ModelSpec, test: ImageDataset, source: string, file: string): void {
  const data = datasetFile(test, source);
  if (test.c !== spec.inChannels || test.h !== spec.imageSize || test.w !== spec.imageSize) {
    throw new ConfigError(
      `--data: the model in ${file} takes ${spec.inChannels}×${spec.imageSize}×${spec.imageSize} images, but ${data} holds ${test.c}×${test.h}×${test.w} images`,
    );
  }
  if (test.numClasses !== spec.numClasses) {
    throw new ConfigError(`--data: the model in ${file} has ${spec.numClasses} classes, but ${data} has ${test.numClasses}`);
  }
}

/** Draws labelled rows of [a | b | m_a | m_a stretched + colour bar | mixed] for pairs from the test set. */
export async function visualizeCommand(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      pairs: { type: 'string' },
      seed: { type: 'string' },
      verbose: { type: 'boolean' },
    },
    strict: true,
  });
  if (!v.checkpoint) throw new ConfigError('--checkpoint RUN_DIR (or its state.json) is required: the output directory of an AutoMix training run');
  const pairsWanted = intFlag('pairs', v.pairs, 8, { min: 1, max: 256 });
  const seed = intFlag('seed', v.seed, 1, { min: 0 });
  checkPngOutput(v.out ?? 'masks.png');
  const dir = v.checkpoint.endsWith('state.json') ? v.checkpoint.slice(0, -'state.json'.length) : v.checkpoint;
  const st = loadRunState(dir);
  if (!st) throw new CheckpointError(join(dir, 'state.json'), 'not found (is this an automix train --out directory?)');
  const cfg = st.config as unknown as TrainConfig;
  if (cfg.method !== 'automix') throw new ConfigError(`--checkpoint: the run in ${dir} used --method ${cfg.method}; masks exist only for automix`);
  const { tensors } = decodeTensorFile(join(dir, st.checkpoint));
  const data = await loadData(v.data ?? cfg.data, 0, 0);
  checkModelInput(cfg.model, 'automix', data.test, data.source);
  // The run's model file (written at each epoch's end) says what images the network takes.
  const modelFile = join(dir, 'model.safetensors');
  if (existsSync(modelFile)) checkDataFitsSpec(parseSpec(modelFile, decodeTensorFile(modelFile).metadata), data.test, data.source, modelFile);
  const pairs = Math.min(pairsWanted, data.test.n);
  const engine = await createEngine();
  try {
    const spec: ModelSpec = {
      model: cfg.model,
      width: cfg.width,
      inChannels: data.test.c,
      imageSize: data.test.h,
      numClasses: data.test.numClasses,
      heads: ['head_mix', 'head_one'],
    };
    const momentum = buildModel(engine, spec, 0, 'momentum');
    const mk = new Map([...tensors].filter(([k]) => k.startsWith('momentum_encoder.')).map(([k, t]) => [k.slice('momentum_encoder.'.length), t]));
    momentum.params.load(mk, st.checkpoint);
    momentum.buffers.load(mk, st.checkpoint);
    const mb = new MixBlock(engine, momentum.backbone.stageChannels[2]!, 0, { lamConcat: data.test.h > 64, upsampleMode: 'nearest' });
    mb.params.load(tensors, st.checkpoint);
    const { c: C, h: H, w: W } = data.test;
    // The Mix Block sees what it saw in training: a batch of the run's size, normalised as the
    // loader does, through the momentum encoder in train-mode BN (docs/method.md §1 step 3). The first
    // `pairs` rows are drawn; partner of image i is image i + 1.
    const B = Math.max(pairs, Math.min(cfg.batchSize, data.test.n));
    const loader = new BatchLoader(data.test, { batchSize: B, seed });
    let x: Float32Array = new Float32Array(0);
    let labels: Int32Array = new Int32Array(0);
    for await (const b of loader.batches(0)) {
      x = b.x;
      labels = b.y;
      break;
    }
    const perm = Int32Array.from({ length: B }, (_, i) => (i + 1) % B);
    const lam = 0.5;
    const mask = await engine.asyncScope(async () => {
      const xt = engine.tensor(x, [B, C, H, W]);
      const pt = engine.tensor(perm, [B], { dtype: 'i32' });
      momentum.setTraining(true);
      return engine.noGrad(() => mb.mask(momentum.backbone.forward(xt, { stopAfter: 3 }), pt, lam, H)).read();
    });
    // Back to 0..1 pixels for the picture; the blend is affine with weights m_a + m_b = 1, so
    // blending the pixels equals un-normalising the blend of normalised images.
    const px = x.map((v2, j) => v2 * data.test.std[Math.floor(j / (H * W)) % C]! + data.test.mean[Math.floor(j / (H * W)) % C]!);
    const plane = H * W;
    const mixed = new Float32Array(pairs * C * plane);
    for (let i = 0; i < pairs; i++)
      for (let c = 0; c < C; c++)
        for (let j = 0; j < plane; j++) {
          const ma = 1 - mask[i * plane + j]!;
          mixed[(i * C + c) * plane + j] = ma * px[(i * C + c) * plane + j]! + (1 - ma) * px[(perm[i]! * C + c) * plane + j]!;
        }
    // The labelled grid (src/util/plot.ts): per pair its classes, λ and the mask's mean and range,
    // above a, b, m_a, m_a contrast-stretched (with its colour bar) and the mixed image.
    const img = (n: number, src: Float32Array) => src.subarray(n * C * plane, (n + 1) * C * plane);
    const name = (k: number) => className(data.test.name, data.test.numClasses, k);
    const grid = drawMaskGrid(
      Array.from({ length: pairs }, (_, i) => ({
        a: img(i, px),
        b: img(perm[i]!, px),
        maskA: mask.subarray(i * plane, (i + 1) * plane).map((m) => 1 - m),
        mixed: img(i, mixed),
        labelA: name(labels[i]!),
        labelB: name(labels[perm[i]!]!),
        lam,
      })),
      { C, H, W, title: `masks at λ ${lam} from ${st.checkpoint.replace(/\.safetensors$/, '')} (momentum encoder + Mix Block)` },
    );
    const out = v.out ?? 'masks.png';
    await writeFileAtomic(out, grid.png);
    let sum = 0;
    for (let j = 0; j < B * plane; j++) sum += 1 - mask[j]!;
    const widths = grid.stats.map((r) => r.max - r.min);
    console.log(
      `wrote ${out}: ${pairs} pairs (a, its partner b, m_a = weight of a, m_a contrast-stretched, mixed; labelled) at λ = ${lam}, masks from the momentum encoder and Mix Block of ${st.checkpoint}; mean m_a over the batch of ${B}: ${(sum / (B * plane)).toFixed(3)}; m_a's min–max range per drawn pair: ${(widths.reduce((a, b) => a + b, 0) / pairs).toPrecision(2)} wide on average, ${Math.max(...widths).toPrecision(2)} at most`,
    );
    momentum.dispose();
    mb.dispose();
  } finally {
    engine.destroy();
  }
}

const COLORS: [number, number, number][] = [
  [31, 119, 180],
  [214, 39, 40],
  [44, 160, 44],
  [255, 127, 14],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
];

/**
 * The legend's name for each plotted run: `--label` where given (one per `--json`), else the
 * method (with a hand-set AutoMix EMA start) and seed; names that would still collide — two
 * runs of one command, say on two devices — get as much of their file's path as tells them apart.
 */
export function plotLabels(runs: { file: string; config: TrainConfig }[], labels: string[] = []): string[] {
  if (labels.length && labels.length !== runs.length) {
    throw new ConfigError(`--label: ${labels.length} labels for ${runs.length} --json files (give one per run, in order, or none)`);
  }
  if (labels.length) return labels;
  const names = runs.map(({ config: c }) => {
    const ema = c.method === 'automix' && typeof c.emaMomentum === 'number' ? ` EMA ${c.emaMomentum}` : '';
    return `${c.method.toUpperCase()}${ema} S${c.seed}`;
  });
  // Last path parts, without `.json`: `a/run` and `b/run` for runs/a/run.json and runs/b/run.json.
  const parts = runs.map(({ file }) =>
    file
      .replace(/\.json$/, '')
      .split(/[\\/]/)
      .filter(Boolean),
  );
  const tail = (i: number, k: number) => parts[i]!.slice(-k).join('/');
  return names.map((n, i) => {
    const same = names.flatMap((m, j) => (m === n ? [j] : []));
    if (same.length === 1) return n;
    let k = 1;
    while (k < parts[i]!.length && same.some((j) => j !== i && tail(j, k) === tail(i, k))) k++;
    return `${n} ${tail(i, k)}`;
  });
}

const EXPECTED_RECORD = 'the object automix train --json writes ({"config": {...}, "epochs": [...]}) or a run\'s state.json';

/**
 * The run record in `text` (read from `file`), checked far enough to plot: an object with a
 * config object and an array of epochs, each with a numeric train_loss and test_acc.
 * @throws ConfigError naming the file and what was expected.
 */
export function parseRunRecord(file: string, text: string): { config: TrainConfig; epochs: { train_loss: number; test_acc: number }[] } {
  const bad = (what: string): never => {
    throw new ConfigError(`--json: ${file} ${what}; expected ${EXPECTED_RECORD}`);
  };
  if (text.trim() === '') bad('is empty');
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch (e) {
    return bad(`is not valid JSON (${(e as Error).message})`);
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return bad(`holds ${r === null ? 'null' : Array.isArray(r) ? 'an array' : `a ${typeof r}`}`);
  const o = r as Record<string, unknown>;
  if (typeof o.config !== 'object' || o.config === null || Array.isArray(o.config)) bad('has no "config" object');
  if (!Array.isArray(o.epochs)) bad('has no "epochs" array');
  (o.epochs as unknown[]).forEach((e, i) => {
    const ep = e as Record<string, unknown> | null;
    const num = (k: string) => typeof ep?.[k] === 'number' || ep?.[k] === null; // null: NaN written as JSON
    if (typeof e !== 'object' || e === null || !num('train_loss') || !num('test_acc')) bad(`epoch ${i + 1} has no numeric train_loss and test_acc`);
  });
  return o as unknown as { config: TrainConfig; epochs: { train_loss: number; test_acc: number }[] };
}

/** `automix plot --json run.json [--json other.json ...] [--label NAME ...] --out curve.png`: loss and accuracy per epoch. */
export async function plotCommand(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: { json: { type: 'string', multiple: true }, label: { type: 'string', multiple: true }, out: { type: 'string' }, verbose: { type: 'boolean' } },
    strict: true,
  });
  const files = v.json ?? [];
  if (!files.length) throw new ConfigError('--json FILE (one or more `automix train --json` outputs) is required');
  checkPngOutput(v.out ?? 'curve.png');
  const { readFileSync } = await import('node:fs');
  const records = files.map((f) => {
    if (!existsSync(f)) throw new ConfigError(`--json: ${f} not found`);
    return parseRunRecord(f, readFileSync(f, 'utf8'));
  });
  const names = plotLabels(
    records.map((r, i) => ({ file: files[i]!, config: r.config })),
    v.label ?? [],
  );
  const runs = records.map((r, i) => ({ name: names[i]!, r }));
  // Test accuracy, then each loss term on its own panel (AutoMix's four; the others' cross-entropy).
  const { plotCurves, runPanels } = await import('../util/plot.js');
  const { groups, titles } = runPanels(
    runs.map((x, i) => ({ name: x.name, method: x.r.config.method, color: COLORS[i % COLORS.length]!, epochs: x.r.epochs })),
  );
  const png = plotCurves(groups, { titles, columns: Math.min(3, groups.length) });
  const out = v.out ?? 'curve.png';
  await writeFileAtomic(out, png);
  console.log(`wrote ${out} (${runs.length} runs)`);
}
