// A/B of conv core variants in one process, interleaved (the machine is shared and noisy).
import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
import { conv2dForwardRaw } from '../../src/ops/conv2d.js';
const e = await createEngine();
const base = readFileSync('kernels/conv2d.wgsl', 'utf8');
const xsScalar = base
  .replace('@group(0) @binding(2) var<storage, read> xs4: array<vec4f>;', '@group(0) @binding(2) var<storage, read> xs4: array<f32>;')
  .replace('let xa = xs4[xi];', 'let xo = xi * 4u; let xa = vec4f(xs4[xo], xs4[xo + 1u], xs4[xo + 2u], xs4[xo + 3u]);')
  .replace('let xb = xs4[xi + 1u];', 'let xb = vec4f(xs4[xo + 4u], xs4[xo + 5u], xs4[xo + 6u], xs4[xo + 7u]);')
  .replace(/let e(\d) = dy4\[([^\]]+)\];/g, 'let e$1 = dy4[$2];')
  .replace(/let f(\d) = xs4\[([^\]]+)\];/g, 'let f$1 = vec4f(xs4[($2) * 4u], xs4[($2) * 4u + 1u], xs4[($2) * 4u + 2u], xs4[($2) * 4u + 3u]);');
const variants: Record<string, string> = { cur: base,

};
const [N, C, O, H, W] = [32, 64, 64, 32, 32];
const x = e.tensor(new Float32Array(N * C * H * W).fill(0.5), [N, C, H, W]);
const w = e.tensor(new Float32Array(O * C * 9).fill(0.5), [O, C, 3, 3]);
const y = conv2dForwardRaw(x, w, null, { padding: 1 }); await e.sync();
const flops = 2 * N * O * H * W * C * 9;
const res: Record<string, number[]> = {};
for (let rep = 0; rep < 3; rep++) for (const [name, src] of Object.entries(variants)) {
  e.kernels.define('conv2d', src);
  e.startProfiling();
  conv2dForwardRaw(x, w, null, { padding: 1 }).dispose();
  const t = await e.stopProfiling();
  (res[name] ??= []).push(t.find((k) => k.kernel === 'conv2d:conv2d_fwd')!.ms);
}
for (const [k, v] of Object.entries(res)) console.log(k, v.map((m) => `${m.toFixed(0)}ms ${(flops / m / 1e6).toFixed(2)}GF`).join('  '));
y.dispose(); e.destroy();
