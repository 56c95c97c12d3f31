// Cost of one mat4x4f (or a struct of four vec4s) load per lane against four vec4 loads, and of
// a load at an index uniform across lanes from storage and from a uniform buffer, on this adapter
// (process CPU ms of one dispatch, median of 5; raw Dawn calls on the engine's device).
// Run: npx tsx bench/scratch/wide-loads.ts
import { readFileSync } from 'node:fs';
import { createEngine } from '../../src/index.js';
import { cpuMsPerDispatch } from './util.js';

const e = await createEngine();
const device = e.ctx.device;
const module = device.createShaderModule({ code: readFileSync(new URL('./wide-loads.wgsl', import.meta.url), 'utf8') });
const groupsN = 512;
const WG = 64;
const K = 2048;
const buf = (size: number, usage: number) => device.createBuffer({ size, usage });
const b = buf(4096 * 64, GPUBufferUsage.STORAGE);
const ub = buf(65536, GPUBufferUsage.UNIFORM);
const c = buf(groupsN * WG * 4, GPUBufferUsage.STORAGE);
const names = ['1 vec4', '4 vec4', '1 mat4x4f', '1 struct of 4 vec4', 'storage, uniform index', 'uniform buffer', 'no load'];
for (const MODE of [0, 1, 2, 3, 4, 5, 6]) {
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'ld', constants: { WG, MODE, K } } });
  const used = [1, 2, 3, 4, 5]; // every branch's binding is statically used
  const res = { 1: b, 2: b, 3: b, 4: c, 5: ub } as Record<number, GPUBuffer>;
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: used.map((i) => ({ binding: i, resource: { buffer: res[i]! } })) });
  const t = await cpuMsPerDispatch(device, pipeline, group, groupsN);
  const iters = ((groupsN * WG) / 8) * K;
  console.log(names[MODE]!.padEnd(24), t.toFixed(1).padStart(8), 'cpu-ms', ((t * 1e-3 * 2.5e9) / iters).toFixed(1).padStart(6), 'cycles per step per 8 lanes');
}
e.destroy();
