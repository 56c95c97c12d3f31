import { execSync } from 'node:child_process';
import { createEngine } from '../../src/index.js';
import { median } from './util.js';
const nas = process.argv.slice(2).map(Number);
const e = await createEngine();
e.kernels.define('f3', execSync(`python3 ${new URL('./gen3.py', import.meta.url).pathname} ${nas.join(' ')}`).toString());
const K = 2048, G = 256, WG = 64;
for (const NA of nas) {
  const c = e.empty([G * WG * 4]);
  const run = () => e.run('f3', `f${NA}`, { bind: { c }, params: { K }, constants: { WG }, workgroups: G });
  run(); await e.sync();
  const ts: number[] = [];
  for (let i = 0; i < 3; i++) { const c0 = process.cpuUsage(); run(); await e.sync(); const d = process.cpuUsage(c0); ts.push((d.user + d.system) / 1000); }
  const t = median(ts); const fl = 2 * G * WG * K * 4 * NA * Math.max(1, 16 / NA);
  console.log('acc vec4s', NA, t.toFixed(1), 'cpu-ms', (fl / (t / 2) / 1e6).toFixed(1), 'GFLOP/s 2core-eq');
  c.dispose();
}
e.destroy();
