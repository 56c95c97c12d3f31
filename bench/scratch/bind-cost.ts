// Raw Dawn: host cost of encoding (and submitting) 900 dispatches of a trivial kernel, as a
// function of the number of storage buffers in each dispatch's bind group, with a distinct bind
// group per dispatch (what a replayed step does) or one cached bind group (the floor).
// The GPU is idle while encoding; the submitted work is one workgroup of one invocation each.
// Run: npx tsx bench/scratch/bind-cost.ts [reps=15]
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const REPS = Number(process.argv[2] ?? 15);
const N = 900;
const gpu = create([]); // kept referenced: a collected instance takes the device with it
const adapter = await gpu.requestAdapter();
const device = await adapter!.requestDevice();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kernel(k: number, variant = 0, uniform = false) {
  const decl = Array.from({ length: k }, (_, i) => `@group(0) @binding(${i}) var<storage, read_write> b${i}: array<f32>;`).join('\n');
  const body = Array.from({ length: k }, (_, i) => `b${i}[0] += ${variant + 1}.0${uniform && i === 0 ? ' * u.x' : ''};`).join(' ');
  const u = uniform ? `\n@group(0) @binding(${k}) var<uniform> u: vec4f;` : '';
  return device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: `${decl}${u}\n@compute @workgroup_size(1) fn main() { ${body} }` }), entryPoint: 'main' },
  });
}
const bufs = Array.from({ length: 64 }, () => device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE }));

const ubuf = device.createBuffer({ size: 256 * N, usage: GPUBufferUsage.UNIFORM });
async function groupsFor(ps: GPUComputePipeline[], k: number, uniform: boolean) {
  const out: GPUBindGroup[] = [];
  for (let d = 0; d < N; d++) {
    if (d % 100 === 0) await sleep(1); // Dawn's Node binding aborts when the main thread never yields
    const entries: GPUBindGroupEntry[] = Array.from({ length: k }, (_, i) => ({ binding: i, resource: { buffer: bufs[(d * 7 + i * 3) % 64]! } }));
    if (uniform) entries.push({ binding: k, resource: { buffer: ubuf, offset: 256 * d, size: 16 } });
    out.push(device.createBindGroup({ layout: ps[d % ps.length]!.getBindGroupLayout(0), entries }));
  }
  return out;
}
type Case = { name: string; ps: GPUComputePipeline[]; groups: GPUBindGroup[] };
const ks = [1, 2, 4, 8];
const cases: Case[] = [];
for (const k of ks) {
  const ps = [kernel(k)];
  const groups = await groupsFor(ps, k, false);
  cases.push({ name: `k=${k} distinct`, ps, groups });
  cases.push({ name: `k=${k} cached`, ps, groups: Array.from({ length: N }, () => groups[0]!) });
}
// What a replayed step adds: a uniform in every group, a different pipeline at every dispatch.
for (const k of [2, 4]) {
  const ps: GPUComputePipeline[] = [];
  for (let v = 0; v < 16; v++) {
    ps.push(kernel(k, v, true));
    await sleep(1); // Dawn's Node binding aborts when the main thread never yields
  }
  cases.push({ name: `k=${k}+u distinct`, ps: [ps[0]!], groups: await groupsFor([ps[0]!], k, true) });
  cases.push({ name: `k=${k}+u 16 pipes`, ps, groups: await groupsFor(ps, k, true) });
}
const res = new Map<string, { enc: number[]; sub: number[] }>();
for (let r = 0; r < REPS; r++) {
  for (const c of r % 2 ? [...cases].reverse() : cases) {
    await device.queue.onSubmittedWorkDone();
    await sleep(5);
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (let d = 0; d < N; d++) {
      if (d < c.ps.length || c.ps.length > 1) pass.setPipeline(c.ps[d % c.ps.length]!);
      pass.setBindGroup(0, c.groups[d]!);
      pass.dispatchWorkgroups(1);
    }
    pass.end();
    const cb = enc.finish();
    const t1 = performance.now();
    device.queue.submit([cb]);
    const t2 = performance.now();
    if (r >= 2) {
      const m = res.get(c.name) ?? { enc: [], sub: [] };
      m.enc.push(t1 - t0);
      m.sub.push(t2 - t1);
      res.set(c.name, m);
    }
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
console.log(`${N} dispatches, median of ${REPS - 2}, µs per dispatch (encode / submit)`);
for (const [name, m] of res) console.log(`${name.padEnd(14)} ${((1000 * med(m.enc)) / N).toFixed(2)} / ${((1000 * med(m.sub)) / N).toFixed(2)}`);
device.destroy();
void gpu;
process.exit(0);
