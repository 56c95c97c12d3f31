import { createEngine } from '../../src/browser.js';
import { buildModel } from '../../src/models/index.js';
import { MixBlock } from '../../src/train/mix-block.js';
import { automixStep } from '../../src/train/steps.js';
import { SGD, emaUpdate, automixMomentum } from '../../src/optim/index.js';
import { Rng } from '../../src/util/rng.js';
import { defaultConfig } from '../../src/train/config.js';
import { add } from '../../src/ops/elementwise.js';

(window as any).__go = async (H: number, B: number, steps: number, prof: boolean) => {
  const e = await createEngine();
  const spec = { model: 'resnet18' as const, width: 0.125, inChannels: 1, imageSize: H, numClasses: 10, heads: ['head_mix', 'head_one'] };
  const online = buildModel(e, spec, 0, 'online');
  const momentum = buildModel(e, spec, 0, 'momentum');
  momentum.params.setRequiresGrad(false);
  const mixBlock = new MixBlock(e, online.backbone.stageChannels[2]!, 1);
  const st = { online, momentum, mixBlock, maskStage: 3 };
  const sgd = new SGD([{ params: online.params, lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }, { params: mixBlock.params, lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }]);
  const cfg = defaultConfig('automix');
  const xs = new Float32Array(B * H * H).map(() => Math.random());
  const ys = Int32Array.from({ length: B }, (_, i) => i % 10);
  const xT = e.tensor(xs, [B, 1, H, H]);
  const yT = e.tensor(ys, [B], { dtype: 'i32' });
  const out: string[] = [];
  for (let step = 0; step < steps; step++) {
    if (prof && step === steps - 1) e.startProfiling();
    const t0 = performance.now();
    let tRec = 0;
    await e.asyncScope(async () => {
      online.params.zeroGrad(); mixBlock.params.zeroGrad();
      const o = automixStep(st, { engine: e, x: xT, xHost: xs, y: yT, yHost: ys, rng: Rng.fromKeys(0, step, 1), cfg });
      const names = Object.keys(o.terms);
      let total = o.terms[names[0]!]!;
      for (const k of names.slice(1)) total = add(total, o.terms[k]!);
      total.backward();
      sgd.step();
      emaUpdate(momentum.params, online.params, automixMomentum(step, steps));
      tRec = performance.now() - t0;
      await total.item();
    });
    out.push(`step ${step}: ${(performance.now() - t0).toFixed(0)} ms (record ${tRec.toFixed(0)} ms)`);
    if (prof && step === steps - 1) {
      const t = await e.stopProfiling();
      const by = new Map<string, [number, number]>();
      let tot = 0;
      for (const k of t) { const v = by.get(k.kernel) ?? [0, 0]; v[0] += k.ms; v[1]++; by.set(k.kernel, v); tot += k.ms; }
      out.push(`profiled ${t.length} dispatches, GPU total ${tot.toFixed(0)} ms`);
      for (const [k, v] of [...by].sort((a, b) => b[1][0] - a[1][0]).slice(0, 15)) out.push(`  ${k}: ${v[0].toFixed(1)} ms in ${v[1]}`);
    }
  }
  e.destroy();
  return out.join('\n');
};
(window as any).__ready = true;
