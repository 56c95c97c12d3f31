// The kernels an engine picks never change what it trains beyond a stated tolerance: the same
// AutoMix runs (ResNet-18 ×0.25 on 1×28×28, ViT-tiny on 3×32×32) on a CPU adapter's static kernel
// rules (sg convs, sg8 matmul, unfused attention, 8-thread normalisations) and on a GPU's
// (implicit-GEMM convs, tiled matmul and attention, 256-thread normalisations; no subgroups), on
// this one adapter (EngineOptions.kernelRules). The two sum in different orders, so they agree to
// rounding, not bit for bit: every loss term of the first 3 steps within 1e-4 relative, and every
// parameter, optimiser and BN tensor after them within 1e-4 of its largest magnitude, + 1e-9 for
// tensors that are rounding noise (the gradient of an attention key's bias is zero in exact
// arithmetic: its momentum is ≈ 1e-13 either way).
import { describe, expect, it } from 'vitest';
import { defaultConfig, Rng, tunerOf, type Engine, type Method, type Tensor } from '../../src/index.js';
import { TrainingRun, type StepResult } from '../../src/train/run.js';
import type { HostBatch } from '../../src/train/steps.js';
import { ownEngine, SMALLEST_DEVICE } from '../helpers/engine.js';

const STEPS = 3;

interface Case {
  model: 'resnet18' | 'vit-tiny';
  width: number;
  data: { c: number; h: number; w: number; numClasses: number };
  batch: number;
}
const CASES: Case[] = [
  { model: 'resnet18', width: 0.25, data: { c: 1, h: 28, w: 28, numClasses: 10 }, batch: 16 },
  { model: 'vit-tiny', width: 0.25, data: { c: 3, h: 32, w: 32, numClasses: 10 }, batch: 8 },
];

function batch(c: Case, i: number): HostBatch {
  const rng = new Rng(2000 + i);
  const shape = [c.batch, c.data.c, c.data.h, c.data.w] as const;
  const x = Float32Array.from({ length: shape.reduce((a: number, b) => a * b, 1) }, () => rng.normal());
  const y = Int32Array.from({ length: c.batch }, () => rng.int(c.data.numClasses));
  return { x, y, shape };
}

function state(run: TrainingRun): Record<string, Tensor> {
  const out: Record<string, Tensor> = { online: run.online.params.flat, 'online.bn': run.online.buffers.arena.flat };
  if (run.automix) {
    out['momentum'] = run.automix.momentum.params.flat;
    out['mix_block'] = run.automix.mixBlock.params.flat;
  }
  for (const [k, t] of Object.entries(run.optimizer.stateTensors())) out[`optim.${k}`] = t;
  return out;
}

async function train(e: Engine, c: Case, method: Method) {
  const mark = tunerOf(e).choiceCount;
  const run = new TrainingRun(e, { ...defaultConfig(method), model: c.model, width: c.width }, c.data);
  const results: StepResult[] = [];
  for (let i = 0; i < STEPS; i++) {
    run.step(batch(c, i), i);
    results.push(...(await run.results(1)));
  }
  results.push(...(await run.results()));
  const tensors: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(state(run))) tensors[k] = await t.read();
  const kernels = tunerOf(e)
    .choicesSince(mark)
    .map((u) => `${u.family}: ${u.name}`);
  run.dispose();
  return { results, tensors, kernels };
}

type Trained = Awaited<ReturnType<typeof train>>;

/** Two runs of the same steps agree within the file's tolerances; returns the worst relative differences. */
function expectSameTraining(a: Trained, b: Trained): { term: number; tensor: number } {
  expect(b.results.length).toBe(STEPS);
  let worstTerm = 0;
  for (let i = 0; i < STEPS; i++) {
    const [ra, rb] = [a.results[i]!, b.results[i]!];
    expect(ra.applied && rb.applied).toBe(true);
    for (const k of Object.keys(ra.terms)) {
      const rel = Math.abs(ra.terms[k]! - rb.terms[k]!) / Math.max(1e-3, Math.abs(ra.terms[k]!));
      worstTerm = Math.max(worstTerm, rel);
      expect(rel, `step ${i} ${k}: ${ra.terms[k]} vs ${rb.terms[k]}`).toBeLessThanOrEqual(1e-4);
    }
  }
  let worstTensor = 0;
  for (const k of Object.keys(a.tensors)) {
    const [x, y] = [a.tensors[k]!, b.tensors[k]!];
    let diff = 0;
    let scale = 0;
    for (let j = 0; j < x.length; j++) {
      diff = Math.max(diff, Math.abs(x[j]! - y[j]!));
      scale = Math.max(scale, Math.abs(x[j]!));
    }
    if (scale > 1e-6) worstTensor = Math.max(worstTensor, diff / scale);
    expect(diff, `${k}: max |Δ| ${diff} of max |x| ${scale}`).toBeLessThanOrEqual(1e-4 * scale + 1e-9);
  }
  return { term: worstTerm, tensor: worstTensor };
}

describe('CPU and GPU kernel rules train the same AutoMix step', async () => {
  const cpu = await ownEngine({ kernelRules: 'cpu' });
  const gpu = await ownEngine({ kernelRules: 'gpu', disableFeatures: ['subgroups'] });
  for (const c of CASES) {
    it(`${c.model} ×${c.width}, batch ${c.batch}: ${STEPS} steps agree within 1e-4`, async () => {
      const a = await train(cpu, c, 'automix');
      const b = await train(gpu, c, 'automix');
      // The two engines ran different kernels: the GPU's convs are implicit GEMMs, its ViT attention tiled.
      const convs = (k: string[]) => k.filter((s) => s.startsWith('conv2d:'));
      if (c.model === 'resnet18') {
        expect(convs(b.kernels).length).toBeGreaterThan(0);
        expect(convs(b.kernels).every((s) => s.startsWith('conv2d: igemm'))).toBe(true);
        expect(convs(a.kernels).some((s) => s.startsWith('conv2d: igemm'))).toBe(false);
        expect(b.kernels.some((s) => s.startsWith('mix_block_attention: tiled'))).toBe(true);
      } else {
        expect(b.kernels.filter((s) => s.startsWith('attention:')).every((s) => s.startsWith('attention: tiled'))).toBe(true);
        expect(a.kernels.some((s) => s.startsWith('attention: tiled'))).toBe(false);
        expect(b.kernels.some((s) => s.startsWith('matmul: tiled'))).toBe(true);
      }
      const worst = expectSameTraining(a, b);
      console.log(`${c.model}: worst loss term ${worst.term.toExponential(1)} relative, worst tensor ${worst.tensor.toExponential(1)} of its scale`);
    });
  }
});

// WebGPU's default limits are what every device grants (browsers often grant no more: 8 storage
// buffers per stage, 16 KiB of workgroup memory, 256 invocations). Every kernel a GPU's rules pick
// fits them — the tiled Mix Block backward packs dK and dv into one buffer to stay at 8 storage
// buffers — and the kernels chosen there compute what they compute on the adapter's full limits.
describe("a GPU's kernel rules under WebGPU's default limits", async () => {
  const full = await ownEngine({ kernelRules: 'gpu', disableFeatures: ['subgroups'] });
  const small = await ownEngine({ kernelRules: 'gpu', disableFeatures: ['subgroups'], limits: 'default' });
  it('asks for the defaults', () => {
    expect(small.limits.maxStorageBuffersPerShaderStage).toBe(8);
    expect(small.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    expect(small.limits.maxComputeInvocationsPerWorkgroup).toBe(256);
  });
  for (const c of CASES) {
    it(`${c.model} ×${c.width}, batch ${c.batch}: ${STEPS} AutoMix steps equal those on the adapter's limits`, async () => {
      const a = await train(full, c, 'automix');
      const b = await train(small, c, 'automix');
      expect(b.kernels).toEqual(a.kernels);
      if (c.model === 'resnet18') expect(b.kernels.some((s) => s.startsWith('mix_block_attention: tiled'))).toBe(true);
      expect(b.results.map((r) => [r.applied, r.terms])).toEqual(a.results.map((r) => [r.applied, r.terms]));
      for (const k of Object.keys(a.tensors)) expect(b.tensors[k], k).toEqual(a.tensors[k]);
    });
  }
});

// The smallest device WebGPU allows: compatibility mode (browsers on OpenGL ES or Direct3D 11)
// with the default limits, 128 invocations per workgroup. Every kernel sizes its workgroups to fit
// (or is refused and replaced), on either kernel rules; reductions over 128 lanes sum in another
// order, so the steps agree with the adapter's to rounding.
describe('the smallest device: compatibility mode, default limits', async () => {
  const core = await ownEngine({ kernelRules: 'cpu' });
  const rules = [
    ['cpu', await ownEngine({ ...SMALLEST_DEVICE, kernelRules: 'cpu' })],
    ['gpu', await ownEngine({ ...SMALLEST_DEVICE, kernelRules: 'gpu', disableFeatures: ['subgroups'] })],
  ] as const;
  it('is a compatibility-mode device of 128 invocations', () => {
    for (const [, e] of rules) {
      expect(e.info.compatibilityMode).toBe(true);
      expect(e.maxWorkgroupSize).toBe(128);
    }
  });
  for (const c of CASES) {
    it(`${c.model} ×${c.width}, batch ${c.batch}: ${STEPS} AutoMix steps on each kernel rule agree with the adapter's within 1e-4`, async () => {
      const a = await train(core, c, 'automix');
      for (const [name, e] of rules) {
        const b = await train(e, c, 'automix');
        const worst = expectSameTraining(a, b);
        console.log(`${c.model}, ${name} rules, compatibility mode: worst loss term ${worst.term.toExponential(1)}, tensor ${worst.tensor.toExponential(1)}`);
      }
    });
  }
});
