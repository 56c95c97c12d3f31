/** Test-set accuracy, shared by the trainer, `automix eval` and the browser demo (no Node built-ins). */
import { BatchLoader } from '../data/loader.js';
import type { ImageDataset } from '../data/dataset.js';
import type { Engine } from '../engine.js';
import type { Network } from '../models/index.js';

/** Top-1 accuracy of `net`'s head on `data` (eval-mode BN, restored to train mode after). */
export async function evaluate(engine: Engine, net: Network, head: string, data: ImageDataset, batchSize: number): Promise<number> {
  const loader = new BatchLoader(data, { batchSize, shuffle: false });
  net.setTraining(false);
  let correct = 0;
  try {
    for await (const b of loader.batches(0)) {
      const logits = await engine.asyncScope(async () =>
        engine.noGrad(() => net.logits(engine.tensor(b.x.subarray(0, b.n * data.c * data.h * data.w), [b.n, data.c, data.h, data.w]), head)).read(),
      );
      const C = logits.length / b.n;
      for (let i = 0; i < b.n; i++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (logits[i * C + c]! > logits[i * C + best]!) best = c;
        if (best === b.y[i]) correct++;
      }
    }
  } finally {
    net.setTraining(true);
  }
  return correct / data.n;
}
