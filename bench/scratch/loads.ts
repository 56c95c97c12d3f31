import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
import { rand, median } from './util.js';
const e = await createEngine();
e.kernels.define('ld', readFileSync(new URL('./loads.wgsl', import.meta.url), 'utf8'));
const K = 2048, groupsN = 512, WG = 64;
const b = e.tensor(rand(65536 * 4), [65536 * 4]);
const names = ['none', 'uniform', 'contig', 'vec4 per lane', 'scattered', '8 uniform', 'uniform vec4', 'sh uniform', 'sh uniform vec4', 'sh contig', 'sh vec4 per lane', 'sh 4 uniform vec4'];
for (const MODE of [0, 1, 6, 7, 8, 9, 10, 11]) {
  const c = e.empty([groupsN * WG]);
  const run = () => e.run('ld', 'ld', { bind: { b, b4: b, c }, params: { K, N: 0 }, constants: { WG, MODE }, workgroups: groupsN });
  run(); await e.sync();
  const ts: number[] = [];
  for (let i = 0; i < 5; i++) { const c0 = process.cpuUsage(); run(); await e.sync(); const d = process.cpuUsage(c0); ts.push((d.user + d.system) / 1000); }
  const t = median(ts);
  const iters = groupsN * WG / 8 * K;
  console.log(names[MODE], t.toFixed(1), 'cpu-ms', (t * 1e-3 * 2.5e9 / iters).toFixed(1), 'cycles/chunk-iter (@2.5GHz)');
  c.dispose();
}
e.destroy();
