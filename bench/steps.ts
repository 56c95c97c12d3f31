/**
 * Whole training steps for `npm run bench`: forward, backward and optimiser
 * update of a CIFAR-shaped model (3×32×32, 10 classes), vanilla and AutoMix,
 * built from the same pieces as `automix train`. AutoMix steps include the
 * EMA update of the momentum network.
 */
import type { Engine, Tensor } from '../src/index.js';
import { buildModel, type ModelSpec } from '../src/models/index.js';
import { add } from '../src/ops/elementwise.js';
import { SGD, emaUpdate } from '../src/optim/index.js';
import { defaultConfig } from '../src/train/config.js';
import { MixBlock } from '../src/train/mix-block.js';
import { automixStep, vanillaStep } from '../src/train/steps.js';
import { Rng } from '../src/util/rng.js';
import type { StepBench } from './cases.js';

/** The fixed batch of a step bench (NCHW images, labels), the same for every implementation. */
export function stepBatch(batch: number): { xHost: Float32Array; yHost: Int32Array } {
  const rng = new Rng(1);
  const xHost = Float32Array.from({ length: batch * 3 * 32 * 32 }, () => rng.normal());
  const yHost = Int32Array.from({ length: batch }, () => rng.int(10));
  return { xHost, yHost };
}

export function makeStep(model: ModelSpec['model'], width: number, method: 'none' | 'automix', batch: number) {
  return async (engine: Engine): Promise<StepBench> => {
    const heads = method === 'automix' ? ['head_mix', 'head_one'] : ['fc'];
    const spec: ModelSpec = { model, width, inChannels: 3, imageSize: 32, numClasses: 10, heads };
    const online = buildModel(engine, spec, 0, 'online');
    const { xHost, yHost } = stepBatch(batch);
    const x = engine.tensor(xHost, [batch, 3, 32, 32]);
    const y = engine.tensor(yHost, [batch], { dtype: 'i32' });
    const cfg = defaultConfig(method);
    let momentum: ReturnType<typeof buildModel> | null = null;
    let mixBlock: MixBlock | null = null;
    const groups = [{ params: online.params, lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }];
    if (method === 'automix') {
      momentum = buildModel(engine, spec, 0, 'momentum');
      momentum.params.setRequiresGrad(false);
      mixBlock = new MixBlock(engine, online.backbone.stageChannels[2]!, 1);
      groups.push({ params: mixBlock.params, lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
    }
    const sgd = new SGD(groups);
    let k = 0;
    // The loss of the first step (at initialisation), for the --vs tfjs check.
    let firstLoss: Tensor | null = null;
    const step = () =>
      engine.scope(() => {
        online.params.zeroGrad();
        mixBlock?.params.zeroGrad();
        const input = { engine, x, xHost, y, yHost, rng: Rng.fromKeys(3, k++), cfg };
        const out =
          momentum && mixBlock
            ? automixStep({ online, momentum, mixBlock, maskStage: 3 }, input)
            : vanillaStep(online, input);
        const t = Object.values(out.terms);
        const loss = t.reduce((a, b) => add(a, b));
        loss.backward();
        if (k === 1) firstLoss = engine.keep(loss);
        sgd.step();
        if (momentum) emaUpdate(momentum.params, online.params, 0.999);
        return null;
      });
    return {
      step,
      imagesPerStep: batch,
      inputs: { xHost, yHost },
      initialLoss: async () => {
        if (!firstLoss) throw new Error('no step has run yet');
        return firstLoss.item();
      },
      dispose: () => {
        firstLoss?.dispose();
        online.dispose();
        momentum?.dispose();
        mixBlock?.dispose();
        sgd.dispose();
        x.dispose();
        y.dispose();
      },
    };
  };
}
