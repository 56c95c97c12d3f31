// Per-kernel GPU time of one ResNet-18 ×0.25 AutoMix step (batch 100). The trainer's
// --profile-step N prints the same table for a real run.
import { createEngine, formatProfile, summariseProfile } from '../../src/index.js';
import { makeStep } from '../steps.js';
const e = await createEngine();
const sb = await makeStep('resnet18', 0.25, 'automix', 100)(e);
for (let i = 0; i < 2; i++) { await sb.step(); await e.sync(); }
e.startProfiling(); await sb.step(); const tim = await e.stopProfiling();
for (const line of formatProfile(summariseProfile(tim), 14)) console.log(line);
e.destroy();
