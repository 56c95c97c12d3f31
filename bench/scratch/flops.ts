import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
const e = await createEngine();
e.kernels.define('fl', readFileSync(new URL('./flops.wgsl', import.meta.url), 'utf8'));
const K = 4096, groupsN = 256;
for (const [WG, MODE] of [[64, 0], [64, 1], [8, 0], [256, 0]]) {
  const c = e.empty([groupsN * WG * 4]);
  const run = () => e.run('fl', 'flops', { bind: { c }, params: { K }, constants: { WG: WG!, MODE: MODE! }, workgroups: groupsN });
  run(); await e.sync();
  const ts: number[] = [];
  for (let i = 0; i < 4; i++) { const c0 = process.cpuUsage(); run(); await e.sync(); const d = process.cpuUsage(c0); ts.push((d.user + d.system) / 1000); }
  ts.sort((a, b) => a - b);
  const fmas = groupsN * WG! * K * 32;
  console.log(WG, MODE, ts[1]!.toFixed(1), 'cpu-ms', (2 * fmas / (ts[1]! / 2) / 1e6).toFixed(1), 'GFLOP/s 2-core-equiv');
  c.dispose();
}
e.destroy();
