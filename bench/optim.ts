// Throughput of the optim kernels over a ResNet-18-sized arena (≈11.2 M params).
//   npx tsx bench/optim.ts [--n 11200000]
import { createEngine } from '../src/index.js';
import { ParamSet } from '../src/nn/params.js';
import { AdamW, emaUpdate, SGD } from '../src/optim/index.js';

const arg = process.argv.indexOf('--n');
const N = arg > 0 ? Number(process.argv[arg + 1]) : 11_200_000;
const e = await createEngine();
const spec = (name: string) => [{ name, shape: [N], init: new Float32Array(N).fill(0.5) }];
const a = new ParamSet(e, spec('w'), 'a');
const b = new ParamSet(e, spec('w'), 'b');
a.gradFlat.write(new Float32Array(a.flat.size).fill(0.01));
const sgd0 = new SGD([{ params: a, lr: 0.1 }]);
const sgd = new SGD([{ params: a, lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }]);
const adam = new AdamW([{ params: a, lr: 1e-3 }]);
// bytes moved per element: reads + writes of f32
const cases: [string, () => void, number][] = [
  ['sgd', () => sgd0.step(), 12],
  ['sgd_momentum', () => sgd.step(), 20],
  ['adamw', () => adam.step(), 28],
  ['ema', () => emaUpdate(b, a, 0.999), 12],
];
for (const [name, fn, bpe] of cases) {
  fn();
  await e.sync();
  const ms: number[] = [];
  for (let r = 0; r < 5; r++) {
    e.startProfiling();
    fn();
    const t = await e.stopProfiling();
    ms.push(t.reduce((s, x) => s + x.ms, 0));
  }
  ms.sort((x, y) => x - y);
  const med = ms[2]!;
  console.log(`${name.padEnd(14)} n=${a.flat.size}  ${med.toFixed(2)} ms  ${((bpe * a.flat.size) / med / 1e6).toFixed(1)} GB/s`);
}
e.destroy();
