/**
 * Calibration: the adapter's best f32 FMA throughput and memory bandwidth,
 * measured with kernels/calibrate.wgsl, so each case can be read as a share
 * of what this adapter can do at all.
 *
 * Peak = the best repeat of the best variant (FMA with 4 or 8 vec4 chains;
 * copy with 1 or 4 vec4s per invocation). The best rather than the median,
 * because a peak is an upper bound and a busy host only ever lowers it.
 */
import type { Engine } from '../src/index.js';
import type { Timer } from './timing.js';

export interface Peak {
  gflops: number;
  gbps: number;
  /** Which variant won and how it was sized, for the report. */
  detail: { fma: string; copy: string };
}

const WG = 256;

export async function calibrate(engine: Engine, timer: Timer, opts: { quick: boolean; software: boolean }): Promise<Peak> {
  const reps = opts.quick ? 3 : 5;
  // Aim each FMA dispatch at a duration the timer resolves well.
  const targetMs = opts.software ? (opts.quick ? 40 : 80) : 5;
  const groups = opts.software ? 256 : 8192;
  const invocations = groups * WG;
  const dst = engine.empty([invocations * 4]);

  let best = { gflops: 0, label: '' };
  for (const entry of ['fma_4', 'fma_8'] as const) {
    const chains = entry === 'fma_4' ? 4 : 8;
    const flopsPerIter = invocations * 4 * chains * 4 * 2;
    const launch = (iters: number) => () =>
      engine.run('calibrate', entry, {
        bind: { dst },
        params: { iters, x: 0.999999, y: 1e-6, sentinel: -12345.678 },
        workgroups: groups,
      });
    // Size: grow the loop count until one dispatch takes a measurable time.
    let iters = 16;
    await timer.time(launch(iters)); // warm-up: lavapipe compiles on first use
    let ms = await timer.time(launch(iters));
    for (let k = 0; k < 8 && ms < targetMs / 2; k++) {
      iters = Math.min(1 << 20, Math.ceil(iters * Math.min(64, Math.max(2, targetMs / Math.max(ms, 1e-3)))));
      ms = await timer.time(launch(iters));
    }
    for (let r = 0; r < reps; r++) {
      const t = await timer.time(launch(iters));
      const g = (flopsPerIter * iters) / (t * 1e6);
      if (g > best.gflops) best = { gflops: g, label: `${entry}: ${invocations} invocations × ${iters} iterations` };
    }
  }
  dst.dispose();

  // Bandwidth: a large vec4 copy. Software adapters: 64 MiB; GPUs: up to 512 MiB.
  const cap = Math.min(engine.limits.maxStorageBufferBindingSize, engine.limits.maxBufferSize);
  let bytes = opts.software ? 64 << 20 : 512 << 20;
  while (bytes > cap) bytes /= 2;
  const n = bytes / 16;
  const src = engine.empty([n * 4]);
  const out = engine.empty([n * 4]);
  let bw = { gbps: 0, label: '' };
  for (const entry of ['copy_vec4', 'copy_vec4_x4'] as const) {
    const per = entry === 'copy_vec4' ? 1 : 4;
    const launch = () => engine.run('calibrate', entry, { bind: { src, dst: out }, params: { n }, workgroups: Math.ceil(n / per / WG) });
    await timer.time(launch); // warm-up: pipeline creation, first touch of the pages
    for (let r = 0; r < reps + (opts.software ? 0 : 5); r++) {
      const t = await timer.time(launch);
      const g = (2 * bytes) / (t * 1e6);
      if (g > bw.gbps) bw = { gbps: g, label: `${entry}: ${(bytes / 2 ** 20).toFixed(0)} MiB` };
    }
  }
  src.dispose();
  out.dispose();
  await engine.sync();
  return { gflops: best.gflops, gbps: bw.gbps, detail: { fma: best.label, copy: bw.label } };
}
