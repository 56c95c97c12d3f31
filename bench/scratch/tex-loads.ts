// Cost of a per-lane vec4 read from a storage buffer against the same read from an rgba32float
// texture (sampled, and read-only storage) and from workgroup memory, on this adapter (process
// CPU ms of one dispatch, median of 5; raw Dawn calls on the engine's device).
// Run: npx tsx bench/scratch/tex-loads.ts
import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
import { cpuMsPerDispatch } from './util.js';

const e = await createEngine();
const device = e.ctx.device;
const module = device.createShaderModule({ code: readFileSync(new URL('./tex-loads.wgsl', import.meta.url), 'utf8') });
const groupsN = 512;
const WG = 64;
const K = 2048;
const b = device.createBuffer({ size: 4096 * 16, usage: GPUBufferUsage.STORAGE });
const c = device.createBuffer({ size: groupsN * WG * 4, usage: GPUBufferUsage.STORAGE });
const tex = device.createTexture({ size: [64, 64], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING });
const names = ['storage vec4', 'sampled texture', 'storage texture', 'workgroup vec4', 'no load'];
for (const MODE of [0, 1, 2, 3, 4, 0, 1, 2]) {
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'ld', constants: { WG, MODE, K } } });
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 1, resource: { buffer: b } },
      { binding: 2, resource: tex.createView() },
      { binding: 3, resource: tex.createView() },
      { binding: 4, resource: { buffer: c } },
    ],
  });
  const t = await cpuMsPerDispatch(device, pipeline, group, groupsN);
  const iters = ((groupsN * WG) / 8) * K;
  console.log(names[MODE]!.padEnd(18), t.toFixed(1).padStart(8), 'cpu-ms', ((t * 1e-3 * 2.5e9) / iters).toFixed(1).padStart(6), 'cycles per step per 8 lanes');
}
e.destroy();
