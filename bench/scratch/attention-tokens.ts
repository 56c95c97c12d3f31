// Token-major multi-head attention forms (src/ops/attention.ts attentionTokens) vs the ViT's old
// permute → attention → permute, interleaved in one process: median wall and process CPU ms per call.
// Run: npx tsx bench/scratch/attention-tokens.ts [N=32] [H=3] [L=64] [dh=64] [reps=7] [forms=old,unfused,fused]
import { createEngine, ops, type Tensor } from '../../src/index.js';

const [N, H, L, dh, REPS] = [32, 3, 64, 64, 7].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number, number, number];
const FORMS = (process.argv[7] ?? 'old,unfused,fused').split(',');
const e = await createEngine({});
const rnd = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s) * 0.5);
const n = N * L * H * dh;
const [q, k, v] = [1, 2, 3].map((s) => e.tensor(rnd(n, s), [N, L, H, dh], { requiresGrad: true }));
const g = e.tensor(rnd(n, 4), [N, L, H, dh]);
function step(form: string, train: boolean): Tensor[] {
  const split = (t: Tensor) => ops.permute(t, [0, 2, 1, 3]);
  const y =
    form === 'old'
      ? ops.permute(ops.attention(split(q!), split(k!), split(v!)), [0, 2, 1, 3])
      : ops.attentionTokens(q!, k!, v!, { impl: form as 'fused' });
  if (!train) return [y];
  y.backward(g);
  return [y, q!.grad!, k!.grad!, v!.grad!];
}
async function once(form: string, train: boolean): Promise<[number, number]> {
  for (const t of [q!, k!, v!]) t.grad = null;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const outs = step(form, train);
  await outs[0]!.read();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) / 1000];
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
for (const train of [false, true]) {
  for (const f of FORMS) {
    const t0 = performance.now();
    await once(f, train);
    console.log(`${train ? 'train' : 'fwd'} ${f}: first call (compiles) ${(performance.now() - t0).toFixed(0)} ms`);
  }
  const res = new Map<string, [number[], number[]]>(FORMS.map((f) => [f, [[], []]]));
  for (let r = 0; r < REPS; r++) {
    const order = r % 2 ? [...FORMS].reverse() : FORMS;
    for (const f of order) {
      const [w, c] = await once(f, train);
      res.get(f)![0].push(w);
      res.get(f)![1].push(c);
    }
  }
  for (const [f, [w, c]] of res) console.log(`${train ? 'train' : 'fwd  '} N=${N} H=${H} L=${L} dh=${dh} ${f.padEnd(8)} wall ${med(w).toFixed(2)} ms  cpu ${med(c).toFixed(2)} ms`);
}
