// A user's read after a multi-dispatch workload (ResNet-18 ×0.25 forward, batch 100, 28×28, eval
// mode) on this adapter: wall ms of forward + read, median of 7 — run from two checkouts to compare
// how `read()` waits. Run: npx tsx bench/scratch/read-wait.ts
import { createEngine } from '../../src/index.js';
import { buildModel } from '../../src/models/index.js';
import { median, rand } from './util.js';

const e = await createEngine();
const net = buildModel(e, { model: 'resnet18', width: 0.25, inChannels: 1, numClasses: 10, imageSize: 28, heads: ['fc'] }, 1);
net.setTraining(false);
const x = e.tensor(rand(100 * 784), [100, 1, 28, 28]);
const ms: number[] = [];
for (let r = 0; r < 8; r++) {
  await e.sync();
  const t0 = performance.now();
  const y = e.noGrad(() => net.logits(x));
  await y.read();
  if (r > 0) ms.push(performance.now() - t0);
  y.dispose();
}
console.log(`forward + read: ${median(ms).toFixed(0)} ms (median of 7)`);
e.destroy();
