// Dispatches of one training step by kernel label — ResNet-18 ×0.25 on 1×28×28, batch 100 — for
// AutoMix and vanilla, with the fused kernels (ops/batchnorm.ts, addRelu) and without (the
// unfused kernel sequence they equal bit for bit, `setKernelForms(e, { fused: false })`). The step is the
// second eager one (replay off; a replayed step issues the same dispatches). With `--time`, also
// the wall and CPU time of replayed steps in each mode, the two runs stepped alternately.
// Run: npx tsx bench/scratch/dispatch-count.ts [batch=100] [top=20] [--time] [--no-subgroups] [--gpu-rules] [--igemm] [--vit] [--attn=unfused|fused|tiled]
import { createEngine, defaultConfig, Rng, tunerOf, type Engine } from '../../src/index.js';
import { setKernelForms } from '../../src/ops/kernel-forms.js';
import { TrainingRun } from '../../src/train/run.js';
import type { HostBatch } from '../../src/train/steps.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const B = Number(args[0] ?? 100);
const TOP = Number(args[1] ?? 20);
const TIME = process.argv.includes('--time');
const VIT = process.argv.includes('--vit');
// --vit: ViT-tiny on 3×32×32 (CIFAR's shape) instead of ResNet-18 ×0.25 on 1×28×28
const DATA = VIT ? { c: 3, h: 32, w: 32, numClasses: 10 } : { c: 1, h: 28, w: 28, numClasses: 10 };
const MODEL = VIT ? ({ model: 'vit-tiny' } as const) : ({ width: 0.25 } as const);

function batch(i: number): HostBatch {
  const rng = new Rng(1000 + i);
  const x = Float32Array.from({ length: B * DATA.c * DATA.h * DATA.w }, () => rng.normal());
  const y = Int32Array.from({ length: B }, () => rng.int(DATA.numClasses));
  return { x, y, shape: [B, DATA.c, DATA.h, DATA.w] };
}

// --no-subgroups: no 8-lane subgroups (no sg8 matmul, no sg conv), on lavapipe's rules.
// --gpu-rules: a GPU's static rules (EngineOptions.kernelRules: implicit-GEMM convs, tiled matmul and
// attention, 256-thread normalisations), without subgroups: the dispatches a GPU step issues, counted here.
const GPU_RULES = process.argv.includes('--gpu-rules');
const e: Engine = await createEngine({
  ...(process.argv.includes('--no-subgroups') || GPU_RULES ? { disableFeatures: ['subgroups'] } : {}),
  ...(GPU_RULES ? { kernelRules: 'gpu' as const } : {}),
});
// --igemm: every convolution on the implicit-GEMM kernel (one dispatch per pass; a GPU's likely pick)
if (process.argv.includes('--igemm')) tunerOf(e).force('conv2d', 'igemm');
// --attn=FORM: the ViT's multi-head attention in that form (src/ops/attention-plan.ts; a GPU's static pick
// is 'tiled', which is no CPU candidate: 'fused' issues the same dispatches)
const ATTN = process.argv.find((a) => a.startsWith('--attn='))?.slice('--attn='.length);
if (ATTN) tunerOf(e).force('attention', ATTN);
const counts = new Map<string, number>();
let counting = false;
const orig = e.ctx.dispatchChecked.bind(e.ctx);
e.ctx.dispatchChecked = (d) => {
  if (counting) counts.set(d.label, (counts.get(d.label) ?? 0) + 1);
  orig(d);
};

async function count(method: 'automix' | 'none'): Promise<Map<string, number>> {
  const run = new TrainingRun(e, { ...defaultConfig(method), ...MODEL }, DATA, { replay: 'off' });
  run.step(batch(0), 0); // lazy state
  await run.results();
  counts.clear();
  counting = true;
  run.step(batch(1), 1);
  counting = false;
  await run.results();
  run.dispose();
  return new Map(counts);
}

/**
 * Median wall and process CPU time (lavapipe's threads run in this process) of replayed steps:
 * an unfused and a fused run in one process, stepped alternately, the order swapped every step.
 */
async function time(method: 'automix' | 'none', steps = 6) {
  const runs = [false, true].map((on) => {
    setKernelForms(e, { fused: on });
    return { on, run: new TrainingRun(e, { ...defaultConfig(method), ...MODEL }, DATA), wall: [] as number[], cpu: [] as number[] };
  });
  for (let i = 0; i < 4 + steps; i++) {
    for (const r of i % 2 ? [...runs].reverse() : runs) {
      setKernelForms(e, { fused: r.on });
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      r.run.step(batch(i), i);
      await r.run.results();
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(c0);
      // steps 0–3: warm-up and the two captures
      if (i >= 4) {
        r.wall.push(wall);
        r.cpu.push((cpu.user + cpu.system) / 1000);
      }
    }
  }
  setKernelForms(e, null);
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!.toFixed(0);
  for (const r of runs) r.run.dispose();
  return runs.map((r) => `${r.on ? 'fused' : 'unfused'} ${med(r.wall)} ms wall, ${med(r.cpu)} ms CPU`).join('; ');
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
for (const method of ['automix', 'none'] as const) {
  const name = method === 'none' ? 'vanilla' : method;
  const res: Record<string, Map<string, number>> = {};
  for (const on of [false, true]) {
    setKernelForms(e, { fused: on });
    res[on ? 'fused' : 'unfused'] = await count(method);
  }
  setKernelForms(e, null);
  const [u, f] = [res['unfused']!, res['fused']!];
  console.log(`\n${name}, batch ${B}: ${total(u)} dispatches per step unfused, ${total(f)} fused`);
  const labels = [...new Set([...u.keys(), ...f.keys()])].sort((a, b) => Math.max(u.get(b) ?? 0, f.get(b) ?? 0) - Math.max(u.get(a) ?? 0, f.get(a) ?? 0));
  console.log(`  ${'kernel'.padEnd(34)} ${'unfused'.padStart(8)} ${'fused'.padStart(7)}`);
  for (const k of labels.slice(0, TOP)) console.log(`  ${k.padEnd(34)} ${String(u.get(k) ?? 0).padStart(8)} ${String(f.get(k) ?? 0).padStart(7)}`);
  if (TIME) {
    console.log(`  replayed step (median of 6, runs alternating): ${await time(method)}`);
  }
}
e.destroy();
