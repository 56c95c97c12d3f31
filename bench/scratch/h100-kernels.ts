// Per-kernel GPU time of one ResNet-18 ×0.25 AutoMix step (batch 100).
import { createEngine } from '../../src/index.js';
import { makeStep } from '../steps.js';
const e = await createEngine();
const sb = await makeStep('resnet18', 0.25, 'automix', 100)(e);
for (let i = 0; i < 2; i++) { await sb.step(); await e.sync(); }
e.startProfiling(); await sb.step(); const tim = await e.stopProfiling();
const agg = new Map<string, { ms: number; n: number }>();
for (const k of tim) { const a = agg.get(k.kernel) ?? { ms: 0, n: 0 }; a.ms += k.ms; a.n++; agg.set(k.kernel, a); }
for (const [k, v] of [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) console.log(k.padEnd(34), v.ms.toFixed(2).padStart(8), v.n);
e.destroy();
