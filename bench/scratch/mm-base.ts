import { createEngine, ops } from '../../src/index.js';
import { rand as randn } from './util.js';
const e = await createEngine();
console.log(e.info);
for (const n of [256, 512, 1024]) {
  const a = e.tensor(randn(n * n, 1), [n, n]);
  const b = e.tensor(randn(n * n, 2), [n, n]);
  for (const [ta, tb] of [[false, false], [true, false], [false, true]] as const) {
    ops.matmul(a, b, { transA: ta, transB: tb }).dispose(); await e.sync();
    const reps = n >= 1024 ? 3 : 5;
    e.startProfiling();
    for (let i = 0; i < reps; i++) ops.matmul(a, b, { transA: ta, transB: tb }).dispose();
    const t = await e.stopProfiling();
    const ms = t.map((x) => x.ms).sort((x, y) => x - y);
    const med = ms[Math.floor(ms.length / 2)]!;
    console.log(n, ta, tb, med.toFixed(2), 'ms', ((2 * n ** 3) / med / 1e6).toFixed(2), 'GFLOP/s');
  }
}
e.destroy();
