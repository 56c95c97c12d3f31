/**
 * Whole training steps for `npm run bench`: forward, backward and optimiser
 * update of a CIFAR-shaped model (3×32×32, 10 classes), vanilla and AutoMix,
 * built from the same pieces as `automix train`. AutoMix steps include the
 * EMA update of the momentum network.
 */
import type { Engine } from '../src/index.js';
import type { ModelSpec } from '../src/models/index.js';
import { defaultConfig } from '../src/train/config.js';
import { TrainingRun } from '../src/train/run.js';
import { Rng } from '../src/util/rng.js';
import type { StepBench } from './cases/types.js';

/** The fixed batch of a step bench (NCHW images, labels), the same for every implementation. */
export function stepBatch(batch: number): { xHost: Float32Array; yHost: Int32Array } {
  const rng = new Rng(1);
  const xHost = Float32Array.from({ length: batch * 3 * 32 * 32 }, () => rng.normal());
  const yHost = Int32Array.from({ length: batch }, () => rng.int(10));
  return { xHost, yHost };
}

/**
 * A step case through `TrainingRun`, as `automix train` runs it (captured and replayed after
 * its warm-up steps; `replay: 'off'` for the eager path). Each step() waits for its own losses.
 */
export function makeStep(model: ModelSpec['model'], width: number, method: 'none' | 'automix', batch: number, replay: 'auto' | 'off' = 'auto') {
  return async (engine: Engine): Promise<StepBench> => {
    const cfg = { ...defaultConfig(method), model, width, seed: 0 };
    const run = new TrainingRun(engine, cfg, { c: 3, h: 32, w: 32, numClasses: 10 }, { replay });
    const { xHost, yHost } = stepBatch(batch);
    const hostBatch = { x: xHost, y: yHost, shape: [batch, 3, 32, 32] as const };
    let k = 0;
    // The loss of the first step (at initialisation), for the --vs tfjs check.
    let firstLoss: number | null = null;
    return {
      step: async () => {
        run.step(hostBatch, k++);
        const [r] = await run.results();
        if (firstLoss === null) firstLoss = Object.values(r!.terms).reduce((a, b) => a + b, 0);
      },
      imagesPerStep: batch,
      inputs: { xHost, yHost },
      settled: () => run.variants().every((v) => v.mode === 'replay' || v.mode === 'eager'),
      initialLoss: async () => {
        if (firstLoss === null) throw new Error('no step has run yet');
        return firstLoss;
      },
      dispose: () => run.dispose(),
    };
  };
}
