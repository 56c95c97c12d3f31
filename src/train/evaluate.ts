/** Test-set accuracy, shared by the trainer, `automix eval` and the browser demo (no Node built-ins). */
import { BatchLoader } from '../data/loader.js';
import type { ImageDataset } from '../data/dataset.js';
import type { Engine } from '../engine.js';
import type { Network } from '../models/index.js';
import { waitPlan } from './wait-estimate.js';

/**
 * Top-1 accuracy of each of `heads` of `net` on `data`, from one backbone
 * forward per batch (eval-mode BN, restored to train mode after).
 */
export async function evaluateHeads(
  engine: Engine,
  net: Network,
  heads: readonly string[],
  data: ImageDataset,
  batchSize: number,
): Promise<Record<string, number>> {
  for (const h of heads) net.head(h); // an unknown head fails before any work
  const loader = new BatchLoader(data, { batchSize, shuffle: false });
  const correct = new Map(heads.map((h) => [h, 0]));
  // GPU ms of the recent batches: the host waits for each by sleeping and
  // probing (GpuContext.settle) rather than with a spinning map.
  const recent: number[] = [];
  net.setTraining(false);
  try {
    for await (const b of loader.batches(0)) {
      const logits = await engine.asyncScope(async () => {
        const outs = engine.noGrad(() => {
          const x = engine.tensor(b.x.subarray(0, b.n * data.c * data.h * data.w), [b.n, data.c, data.h, data.w]);
          const feats = net.backbone.forward(x);
          return heads.map((h) => net.head(h).forward(feats));
        });
        const t0 = performance.now();
        await engine.ctx.settle(waitPlan(recent, t0, t0));
        recent.push(performance.now() - t0);
        if (recent.length > 5) recent.shift();
        return Promise.all(outs.map((t) => t.read()));
      });
      heads.forEach((h, k) => {
        const l = logits[k]!;
        const C = l.length / b.n;
        let hits = 0;
        for (let i = 0; i < b.n; i++) {
          let best = 0;
          for (let c = 1; c < C; c++) if (l[i * C + c]! > l[i * C + best]!) best = c;
          if (best === b.y[i]) hits++;
        }
        correct.set(h, correct.get(h)! + hits);
      });
    }
  } finally {
    net.setTraining(true);
  }
  return Object.fromEntries(heads.map((h) => [h, correct.get(h)! / data.n]));
}

/** Top-1 accuracy of `net`'s head on `data`. */
export async function evaluate(engine: Engine, net: Network, head: string, data: ImageDataset, batchSize: number): Promise<number> {
  return (await evaluateHeads(engine, net, [head], data, batchSize))[head]!;
}
