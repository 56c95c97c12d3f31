import { createEngine } from '../../src/index.js';
const e = await createEngine();
const body = process.argv[2]!;
e.kernels.define('dumpk', `
struct Params { C: u32, s: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn k(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var a = 0.0;
  ${body}
  out[wid.x * 64u + lid.x] = a;
}`);
const xp = e.tensor(new Float32Array(100000).fill(1), [100000]);
const out = e.empty([640]);
e.run('dumpk', 'k', { bind: { xp, out }, params: { C: 50, s: 3 }, workgroups: 10 });
await e.sync();
e.destroy();
