// Per-kernel GPU time of one ViT-tiny training step, vanilla vs AutoMix (batch 32).
import { createEngine, formatProfile, summariseProfile } from '../../src/index.js';
import { makeStep } from '../steps.js';

const e = await createEngine();
for (const method of ['none', 'automix'] as const) {
  const sb = await makeStep('vit-tiny', 1, method, 32)(e);
  await sb.step(); await e.sync();
  e.startProfiling(); await sb.step(); const tim = await e.stopProfiling();
  console.log(method);
  for (const line of formatProfile(summariseProfile(tim), 12)) console.log(`  ${line}`);
  sb.dispose?.();
}
e.destroy();
