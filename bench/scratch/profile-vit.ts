// Per-kernel GPU time of one ViT-tiny training step, vanilla vs AutoMix (batch 32).
import { createEngine } from '../../src/index.js';
import { makeStep } from '../steps.js';

const e = await createEngine();
for (const method of ['none', 'automix'] as const) {
  const sb = await makeStep('vit-tiny', 1, method, 32)(e);
  await sb.step(); await e.sync();
  e.startProfiling(); await sb.step(); const tim = await e.stopProfiling();
  const agg = new Map<string, { ms: number; n: number }>();
  for (const k of tim) { const a = agg.get(k.kernel) ?? { ms: 0, n: 0 }; a.ms += k.ms; a.n++; agg.set(k.kernel, a); }
  console.log(method, 'gpu total ms', tim.reduce((a, b) => a + b.ms, 0).toFixed(0), 'dispatches', tim.length);
  for (const [k, v] of [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) console.log('  ', k.padEnd(34), v.ms.toFixed(1).padStart(8), v.n);
  sb.dispose?.();
}
e.destroy();
