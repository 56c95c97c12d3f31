// Microbenchmark of forward variants on lavapipe (scratch).
import { createEngine } from '../../src/index.js';
const e = await createEngine();
const N = 32, C = 64, O = 64, H = 32, W = 32, K = 3;
const Hp = H + 2, Wp = W + 2;
function src(P: number, contiguous: boolean, WG: number) {
  const accs = Array.from({ length: P }, (_, j) => `var a${j} = 0.0;`).join('\n');
  const fmas = Array.from({ length: P }, (_, j) => `a${j} = fma(wv, xp[xo + ${j}u], a${j});`).join('\n');
  const stores = Array.from({ length: P }, (_, j) => `if (ox0 + ${j}u < p.Wo) { out[ob + ${j}u] = a${j}; }`).join('\n');
  const widx = contiguous ? `((c * 9u + ky * 3u + kx) * p.O + oc)` : `(oc * p.C * 9u + c * 9u + ky * 3u + kx)`;
  return `
struct Params { C: u32, Hp: u32, Wp: u32, O: u32, Ho: u32, Wo: u32, tiles_x: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xp: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG})
fn fwd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = wid.x;
  let tx = t % p.tiles_x;
  let oy = (t / p.tiles_x) % p.Ho;
  let n = t / (p.tiles_x * p.Ho);
  let ox0 = tx * ${P}u;
  let oc = wid.y * ${WG}u + lid.x;
  ${accs}
  let HW = p.Hp * p.Wp;
  for (var c = 0u; c < p.C; c++) {
    for (var ky = 0u; ky < 3u; ky++) {
      for (var kx = 0u; kx < 3u; kx++) {
        let wv = wt[${widx}];
        let xo = (n * p.C + c) * HW + (oy + ky) * p.Wp + ox0 + kx;
        ${fmas}
      }
    }
  }
  let ob = ((n * p.O + oc) * p.Ho + oy) * p.Wo + ox0;
  ${stores}
}`;
}
const xp = e.tensor(new Float32Array(N * C * Hp * Wp).fill(0.5), [N * C * Hp * Wp]);
const wt = e.tensor(new Float32Array(O * C * 9).fill(0.5), [O * C * 9]);
const out = e.empty([N, O, H, W]);
const flops = 2 * N * O * H * W * C * 9;
let id = 0;
for (const [P, contig, WG] of [[8, true, 64], [4, true, 64]] as [number, boolean, number][]) {
  const fam = `cm${id++}`;
  e.kernels.define(fam, src(P, contig, WG));
  const tiles = Math.ceil(W / P);
  const run = () => e.run(fam, 'fwd', { bind: { xp, wt, out }, params: { C, Hp, Wp, O, Ho: H, Wo: W, tiles_x: tiles }, workgroups: [N * H * tiles, O / WG, 1] });
  run(); await e.sync();
  e.startProfiling();
  for (let i = 0; i < 3; i++) run();
  const t = (await e.stopProfiling()).map((x) => x.ms).sort((a, b) => a - b);
  console.log(`P=${P} contig=${contig} WG=${WG}: ${t[1]!.toFixed(1)} ms ${(flops / t[1]! / 1e6).toFixed(1)} GFLOP/s`);
}
e.destroy();
