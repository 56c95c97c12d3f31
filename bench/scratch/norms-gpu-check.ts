/**
 * Correctness sweep of the norms/pooling/activation/upsample kernels against
 * the f64 references, without vitest (so it can run on another machine from a
 * bundle). Prints the worst error per case and exits 1 on a failure.
 * Run: npx tsx bench/scratch/norms-gpu-check.ts
 */
import { createEngine, ops } from '../../src/index.js';
import { batchNorm2dBackwardRef, batchNorm2dRef } from '../../src/reference/batchnorm.js';
import { layerNormBackwardRef, layerNormRef } from '../../src/reference/layernorm.js';
import { geluBackwardRef, geluRef, sigmoidRef } from '../../src/reference/activation.js';
import { maxPool2dBackwardRef, maxPool2dRef, globalAvgPoolRef } from '../../src/reference/pool.js';
import { upsampleBackwardRef, upsampleRef } from '../../src/reference/upsample.js';

function randn(n: number, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
let failed = 0;
function check(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): void {
  let worst = 0;
  let bad = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    worst = Math.max(worst, err);
    if (!(err <= atol + rtol * Math.abs(want[i]!))) bad++;
  }
  if (got.length !== want.length) bad = -1;
  if (bad) failed++;
  console.log(`${bad ? 'FAIL' : 'ok  '} ${name}: max |Δ| ${worst.toExponential(2)}${bad ? ` (${bad} outside atol ${atol} rtol ${rtol})` : ''}`);
}

const e = await createEngine();
console.log(`adapter: ${e.info.vendor} / ${e.info.architecture} / ${e.info.device || e.info.description}`);

for (const shape of [[1, 1, 7, 5], [300, 3, 3, 5], [5, 2, 30, 41], [64, 64, 32, 32], [128, 512, 4, 4]]) {
  await e.asyncScope(async () => {
    const C = shape[1]!;
    const x = randn(prod(shape), 1).map((v) => 2 * v + 3);
    const dy = randn(prod(shape), 2);
    const w = randn(C, 3).map((v) => 1 + 0.5 * v);
    const b = randn(C, 4);
    const rm = new Float32Array(C);
    const rv = new Float32Array(C).fill(1);
    const tx = e.tensor(x, shape, { requiresGrad: true });
    const tw = e.tensor(w, [C], { requiresGrad: true });
    const tb = e.tensor(b, [C], { requiresGrad: true });
    const trm = e.tensor(rm, [C]);
    const trv = e.tensor(rv, [C]);
    const y = ops.batchNorm2d(tx, tw, tb, trm, trv, { training: true });
    const r = batchNorm2dRef(x, shape, w, b, rm, rv, { training: true });
    check(`bn train y ${JSON.stringify(shape)}`, await y.read(), r.y, 2e-5, 1e-4);
    check(`bn running_var ${JSON.stringify(shape)}`, await trv.read(), r.runningVar, 1e-6, 1e-5);
    y.backward(e.tensor(dy, shape));
    const g = batchNorm2dBackwardRef(x, shape, w, dy, r.mean, r.invstd, true);
    check(`bn dx ${JSON.stringify(shape)}`, await tx.grad!.read(), g.dx, 5e-5, 1e-4);
    const L = prod(shape) / C;
    check(`bn dweight ${JSON.stringify(shape)}`, await tw.grad!.read(), g.dweight, 1e-5 * Math.sqrt(L), 1e-4);
    check(`bn dbias ${JSON.stringify(shape)}`, await tb.grad!.read(), g.dbias, 1e-5 * Math.sqrt(L), 1e-4);
    const ye = ops.batchNorm2d(tx, tw, tb, trm, trv, { training: false });
    check(`bn eval y ${JSON.stringify(shape)}`, await ye.read(), batchNorm2dRef(x, shape, w, b, r.runningMean, r.runningVar, { training: false }).y, 2e-5, 1e-4);
    for (const t of [tx, tw, tb]) t.grad!.dispose();
  });
}

for (const shape of [[3, 7], [65, 257], [300, 64], [4, 1500]]) {
  await e.asyncScope(async () => {
    const D = shape.at(-1)!;
    const x = randn(prod(shape), 5).map((v) => 3 * v + 2);
    const dy = randn(prod(shape), 6);
    const w = randn(D, 7);
    const b = randn(D, 8);
    const tx = e.tensor(x, shape, { requiresGrad: true });
    const tw = e.tensor(w, [D], { requiresGrad: true });
    const tb = e.tensor(b, [D], { requiresGrad: true });
    const y = ops.layerNorm(tx, tw, tb);
    check(`ln y ${JSON.stringify(shape)}`, await y.read(), layerNormRef(x, D, w, b).y, 1e-5, 1e-4);
    y.backward(e.tensor(dy, shape));
    const g = layerNormBackwardRef(x, D, w, dy);
    check(`ln dx ${JSON.stringify(shape)}`, await tx.grad!.read(), g.dx, 5e-5, 1e-4);
    check(`ln dweight ${JSON.stringify(shape)}`, await tw.grad!.read(), g.dweight, 1e-5 * Math.sqrt(prod(shape) / D), 1e-4);
    for (const t of [tx, tw, tb]) t.grad!.dispose();
  });
}

await e.asyncScope(async () => {
  const x = Float32Array.from({ length: 20001 }, (_, i) => -10 + i * 0.001);
  const dy = randn(x.length, 9);
  const tx = e.tensor(x, [x.length], { requiresGrad: true });
  const y = ops.gelu(tx);
  check('gelu y sweep', await y.read(), geluRef(x), 1e-6, 1e-5);
  y.backward(e.tensor(dy, [x.length]));
  check('gelu dx sweep', await tx.grad!.read(), geluBackwardRef(x, dy), 1e-6, 1e-5);
  check('sigmoid y sweep', await ops.sigmoid(tx).read(), sigmoidRef(x), 1e-6, 1e-5);
  tx.grad!.dispose();
});

for (const [shape, k, s, pad] of [[[2, 3, 7, 5], 3, 2, 1], [[8, 16, 32, 32], 2, 2, 0]] as [number[], number, number, number][]) {
  await e.asyncScope(async () => {
    const x = randn(prod(shape), 10);
    const tx = e.tensor(x, shape, { requiresGrad: true });
    const y = ops.maxPool2d(tx, k, s, pad);
    const r = maxPool2dRef(x, shape, k, s, pad);
    check(`maxpool y ${JSON.stringify(shape)} k${k}s${s}p${pad}`, await y.read(), r.out, 0, 0);
    const g = randn(prod(r.shape), 11);
    y.backward(e.tensor(g, r.shape));
    check(`maxpool dx ${JSON.stringify(shape)}`, await tx.grad!.read(), maxPool2dBackwardRef(g, r.idx, shape, r.shape), 1e-6, 1e-6);
    check(`gap ${JSON.stringify(shape)}`, await ops.globalAvgPool(tx).read(), globalAvgPoolRef(x, shape), 1e-5, 1e-4);
    tx.grad!.dispose();
  });
}

for (const mode of ['nearest', 'bilinear'] as const) {
  for (const [shape, f] of [[[2, 3, 7, 5], 3], [[4, 16, 16, 16], 2]] as [number[], number][]) {
    await e.asyncScope(async () => {
      const x = randn(prod(shape), 12);
      const tx = e.tensor(x, shape, { requiresGrad: true });
      const y = ops.upsample(tx, f, mode);
      check(`upsample ${mode} y ${JSON.stringify(shape)} ×${f}`, await y.read(), upsampleRef(x, shape, f, mode), 1e-5, 1e-4);
      const g = randn(y.size, 13);
      y.backward(e.tensor(g, y.shape));
      check(`upsample ${mode} dx`, await tx.grad!.read(), upsampleBackwardRef(g, shape, f, mode), 1e-5, 1e-4);
      tx.grad!.dispose();
    });
  }
}
e.destroy();
console.log(failed ? `${failed} checks FAILED` : 'all checks passed');
process.exit(failed ? 1 : 0);
