// Profiles one vanilla training step of ResNet-18 ×0.25 on 28×28 inputs per kernel.
import { createEngine, formatProfile, ops, summariseProfile } from '../../src/index.js';
import { buildModel } from '../../src/models/index.js';
import { crossEntropy } from '../../src/ops/cross-entropy.js';
import { SGD } from '../../src/optim/index.js';

const e = await createEngine();
const B = Number(process.argv[2] ?? 50);
const net = buildModel(e, { model: 'resnet18', width: 0.25, inChannels: 1, imageSize: 28, numClasses: 10, heads: ['fc'] }, 0);
const sgd = new SGD([{ params: net.params, lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }]);
const x = e.tensor(new Float32Array(B * 784).map(() => Math.random()), [B, 1, 28, 28]);
const y = e.tensor(Int32Array.from({ length: B }, (_, i) => i % 10), [B], { dtype: 'i32' });
const step = () => e.scope(() => { net.params.zeroGrad(); const l = crossEntropy(net.logits(x), y); l.backward(); sgd.step(); return null; });
step(); await e.sync();
let t = performance.now(); step(); await e.sync(); console.log('wall step ms', (performance.now() - t).toFixed(1));
e.startProfiling(); step(); const tim = await e.stopProfiling();
for (const line of formatProfile(summariseProfile(tim), 20)) console.log(line);
e.destroy();
