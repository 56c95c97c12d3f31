// A few hundred plain training steps (SGD, momentum, weight decay, train-mode
// BN) really reduce the loss and classify held-out data.
import { expect, it } from 'vitest';

import { crossEntropy } from '../../src/ops/cross-entropy.js';
import { SGD } from '../../src/optim/index.js';
import { Rng } from '../../src/util/rng.js';
import { testEngine } from '../helpers/engine.js';
import { CLASSES, tinyNetwork } from './tiny-net.js';

const N = 32;
const H = 8;

function batch(rng: Rng): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(N * H * H);
  const y = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    const c = rng.int(CLASSES);
    y[n] = c;
    for (let i = 0; i < H * H; i++) x[n * H * H + i] = rng.normal() * 0.5;
    const oy = c === 0 ? rng.int(2) : 4 + rng.int(2);
    const ox = c === 1 ? rng.int(2) : 4 + rng.int(2);
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) x[n * H * H + (oy + dy) * H + ox + dx] += 2;
  }
  return { x, y };
}

it('300 SGD steps reduce the loss and reach high held-out accuracy', async () => {
  const e = await testEngine();
  const net = tinyNetwork(e, ['fc'], 3, 'net');
  const sgd = new SGD([{ params: net.params, lr: 0.05, momentum: 0.9, weightDecay: 1e-4 }]);
  const rng = new Rng(1);
  const losses: number[] = [];
  for (let step = 0; step < 300; step++) {
    const { x, y } = batch(rng);
    const loss = await e.asyncScope(async () => {
      net.params.zeroGrad();
      const l = crossEntropy(net.logits(e.tensor(x, [N, 1, H, H])), e.tensor(y, [N], { dtype: 'i32' }));
      l.backward();
      sgd.step();
      return l.item();
    });
    losses.push(loss);
  }
  const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = losses.slice(-20).reduce((a, b) => a + b) / 20;
  expect(first).toBeGreaterThan(0.9); // ≈ ln 3 at the start
  expect(last).toBeLessThan(0.3 * first);
  // Held-out accuracy in eval mode (running BN statistics).
  net.setTraining(false);
  const test = batch(new Rng(777));
  const logits = await e.asyncScope(async () => e.noGrad(() => net.logits(e.tensor(test.x, [N, 1, H, H]))).read());
  let correct = 0;
  for (let n = 0; n < N; n++) {
    const row = Array.from(logits.subarray(n * CLASSES, (n + 1) * CLASSES));
    if (row.indexOf(Math.max(...row)) === test.y[n]) correct++;
  }
  expect(correct / N).toBeGreaterThan(0.9);
  net.dispose();
  sgd.dispose();
});
