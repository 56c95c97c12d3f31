// Every model trains end to end: after one SGD step (so the zero-initialised
// last BN of each residual block no longer blocks its branch), a second
// backward gives every parameter a non-zero gradient — no op cuts the graph.
// Also checks PyTorch-style parameter names and output shapes, and that the
// ResNets' fused BN/ReLU/residual kernels give the unfused ops' results bit
// for bit in fewer dispatches.
import { describe, expect, it } from 'vitest';
import { counterDelta, type Engine } from '../../src/index.js';
import { buildModel, type ModelSpec } from '../../src/models/index.js';
import { crossEntropy } from '../../src/ops/cross-entropy.js';
import { setKernelForms } from '../../src/ops/kernel-forms.js';
import { SGD } from '../../src/optim/index.js';
import { uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

const cases: [ModelSpec['model'], number, string[]][] = [
  ['resnet18', 0.0625, ['conv1.weight', 'bn1.running_mean', 'layer1.0.conv1.weight', 'layer2.0.downsample.0.weight', 'layer4.1.bn2.bias', 'fc.weight']],
  ['resnext50', 0.0625, ['layer1.0.conv2.weight', 'layer3.5.bn3.weight', 'layer4.0.downsample.1.running_var']],
  ['vit-tiny', 0.125, ['patch_embed.proj.weight', 'pos_embed', 'blocks.0.attn.q.weight', 'blocks.11.mlp.fc2.bias', 'norm.weight']],
];

describe('models', () => {
  for (const [model, width, names] of cases) {
    it(`${model} ×${width}: names, shapes, gradients reach every parameter`, async () => {
      const e = await testEngine();
      const N = 4;
      const spec: ModelSpec = { model, width, inChannels: 3, imageSize: 16, numClasses: 5, heads: ['fc'] };
      const net = buildModel(e, spec, 0);
      const all = [...net.params.names, ...net.buffers.names];
      for (const n of names) expect(all, n).toContain(n);
      const sgd = new SGD([{ params: net.params, lr: 0.1, momentum: 0.9 }]);
      const x = e.tensor(uniformData(N * 3 * 16 * 16, 4), [N, 3, 16, 16]);
      const y = e.tensor([0, 1, 2, 3], [N], { dtype: 'i32' });
      for (let step = 0; step < 2; step++) {
        e.scope(() => {
          net.params.zeroGrad();
          const logits = net.logits(x);
          expect(logits.shape).toEqual([N, 5]);
          crossEntropy(logits, y).backward();
          if (step === 0) sgd.step();
          return null;
        });
      }
      const flat = await net.params.gradFlat.read();
      const dead = net.params.names.filter((_n, i) => {
        const off = net.params.offsets[i]!;
        const g = flat.subarray(off, off + net.params.params[i]!.size);
        return !g.some((v) => v !== 0) || g.some((v) => !Number.isFinite(v));
      });
      expect(dead, `parameters without gradient: ${dead.join(', ')}`).toEqual([]);
      const stage3 = net.backbone.forward(x, { stopAfter: 3 });
      expect(stage3.shape[1]).toBe(net.backbone.stageChannels[2]);
      stage3.dispose();
      x.dispose();
      y.dispose();
      sgd.dispose();
      net.dispose();
    });
  }

  /** Three SGD steps (train mode), then an eval-mode forward: every output, gradient, parameter and buffer as bits, and the dispatches of the steps. */
  async function trace(e: Engine, spec: ModelSpec, fused: boolean) {
    const prev = setKernelForms(e, { fused });
    try {
      const net = buildModel(e, spec, 5);
      const sgd = new SGD([{ params: net.params, lr: 0.1, momentum: 0.9 }]);
      const N = 24;
      const S = spec.imageSize;
      const x = e.tensor(uniformData(N * S * S, 9), [N, 1, S, S]);
      const y = e.tensor(
        Array.from({ length: N }, (_, i) => i % 5),
        [N],
        { dtype: 'i32' },
      );
      const out: Record<string, number[]> = {};
      const bits = async (k: string, t: { read(): Promise<Float32Array> }) => (out[k] = Array.from(new Uint32Array((await t.read()).buffer)));
      let dispatches = 0;
      for (let step = 0; step < 3; step++) {
        await e.asyncScope(async () => {
          const c0 = e.counters();
          net.params.zeroGrad();
          const logits = net.logits(x);
          crossEntropy(logits, y).backward();
          dispatches += counterDelta(c0, e.counters()).dispatches;
          await bits(`logits${step}`, logits);
          await bits(`grads${step}`, net.params.gradFlat);
          sgd.step();
          return null;
        });
      }
      net.setTraining(false);
      await e.asyncScope(async () => bits('eval', net.logits(x)));
      await bits('params', net.params.flat);
      await bits('buffers', net.buffers.arena.flat);
      x.dispose();
      y.dispose();
      sgd.dispose();
      net.dispose();
      return { out, dispatches };
    } finally {
      setKernelForms(e, prev);
    }
  }

  // Batch 24 at 28×28: BN channels of several whole-image chunks (stem, stage 1), of two
  // element chunks (stage 2, 14×14) and of one chunk (stages 3 and 4); at 16×16 fewer.
  // ViT-tiny: the layer norms and the q/k/v projections add their input gradients into the
  // residual stream's and the normalised tokens' pending sums (src/autograd/pending.ts).
  for (const [model, width, size, ratio] of [
    ['resnet18', 0.125, 28, 0.75],
    ['resnext50', 0.0625, 16, 0.75],
    ['vit-tiny', 0.125, 16, 0.9],
  ] as const) {
    it(`${model} ×${width}, ${size}×${size}: the fused kernels give the unfused ops' logits, gradients, parameters and BN buffers bit for bit`, async () => {
      const e = await testEngine();
      const spec: ModelSpec = { model, width, inChannels: 1, imageSize: size, numClasses: 5, heads: ['fc'] };
      const fused = await trace(e, spec, true);
      const unfused = await trace(e, spec, false);
      for (const k of Object.keys(unfused.out)) {
        const i = fused.out[k]!.findIndex((v, j) => v !== unfused.out[k]![j]);
        expect(i, `${k} differs first at element ${i}`).toBe(-1);
      }
      expect(fused.dispatches).toBeLessThan(ratio * unfused.dispatches);
    });
  }
});
