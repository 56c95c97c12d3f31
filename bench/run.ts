/**
 * `npm run bench [-- options]`: calibrates the adapter (peak FMA throughput
 * and memory bandwidth), runs every case of bench/cases/, optionally
 * against TF.js on the same adapter (--vs tfjs), and prints a table
 * (--json / --md write it to files), with the kernel configuration the
 * autotuner chose for each case and the time it spent tuning. See
 * docs/performance.md for the method.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createEngine, type Engine, type Tensor, tuneStats, tunerOf } from '../src/index.js';
import type { ChoiceUse } from '../src/tune/tuner.js';
import { ArgError, type BenchOptions, parseArgs, selected, USAGE } from './args.js';
import { calibrate, type Peak } from './calibrate.js';
import { type BenchCase, CASES, type CaseContext, type Prepared, stepCases, type TfSide } from './cases/index.js';
import { type Column, fmtDiff, fmtMs, fmtPct, fmtRate, fmtRatio, fmtSpread, renderMarkdown, renderTable } from './format.js';
import { maxAbsDiff, repeatsFor, summarize } from './stats.js';
import { initTf, type TfHarness } from './tfjs.js';
import type { TfStepBench } from './tfjs-steps.js';
import { makeTimer, type Timer, type TimingMethod } from './timing.js';
import { HOST_CASES, runHostBench } from './host.js';
import { describeChoices } from './variant.js';

type Status = 'ok' | 'skipped' | 'error' | 'mismatch';

interface Spread {
  min: number;
  max: number;
  q1: number;
  q3: number;
}

interface VsResult {
  median_ms: number;
  spread_ms: Spread;
  /** TF.js time / our time (> 1: ours is faster). */
  speedup: number;
  /** Kernel cases: the output check. */
  max_abs_diff?: number;
  max_abs_ref?: number;
  timing: TimingMethod;
  /** Whole steps: TF.js repeats, images/s and the initial-loss check (both near ln 10). */
  repeats?: number;
  images_per_s?: number;
  initial_loss?: { ours: number; tfjs: number; ln10: number; ok: boolean };
}

interface Result {
  kernel: string;
  case: string;
  status: Status;
  note?: string;
  median_ms?: number;
  spread_ms?: Spread;
  repeats?: number;
  dispatches?: number;
  gflops?: number;
  gbps?: number;
  peak_share?: number;
  bound?: 'compute' | 'memory';
  timing?: TimingMethod;
  vs?: { 'tfjs-webgpu': VsResult | { error: string } };
  /** Whole steps only. */
  images_per_s?: number;
  /** The kernel configurations the autotuner chose for the timed call (cases of tuned ops; see variant.ts). */
  variant?: string;
  /** Time the autotuner spent measuring during this case (AUTOMIX_TUNE=full), untimed, ms. */
  tune_ms?: number;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

const asList = (v: Tensor | Tensor[]): Tensor[] => (Array.isArray(v) ? v : [v]);

interface Budget {
  warmups: number;
  /** Time for the timed repeats of the next case (shrinks when the run is behind). */
  caseMs: () => number;
  min: number;
  max: number;
}

/** Appends to a result's note. */
function addNote(r: Result, text: string): void {
  r.note = r.note ? `${r.note}; ${text}` : text;
}

/** The autotuner's measuring time during a case, as the note reads it. */
const tuneNote = (ms: number) => `kernel tuning ${(ms / 1000).toFixed(1)} s (untimed)`;

async function runCase(
  c: BenchCase,
  ctx: CaseContext,
  prep: Prepared,
  timer: Timer,
  tfh: TfHarness | null,
  peak: Peak,
  o: BenchOptions,
  budget: Budget,
): Promise<Result> {
  const base = { kernel: c.kernel, case: c.name, bound: c.bound };
  const r = prep.ours;
  const after = r.after ?? ((outs: Tensor[]) => outs.forEach((t) => t.dispose()));
  const tuner = tunerOf(ctx.engine);
  const tuneMs0 = tuner.stats.ms;
  // The choices of the latest timed call only (not of an untimed `before`).
  let uses: ChoiceUse[] = [];
  const oursOnce = async (read: boolean) => {
    r.before?.();
    const mark = tuner.choiceCount;
    const t = await timer.timeDetailed(() => asList(r.run()));
    uses = tuner.choicesSince(mark);
    const vals = read ? await Promise.all(t.value.map((x) => x.read())) : [];
    after(t.value);
    return { ms: t.ms, dispatches: t.dispatches, vals };
  };
  let tf: TfSide | null = null;
  let tfError: string | null = null;
  if (tfh && prep.tf) {
    try {
      tf = prep.tf(tfh.tf);
    } catch (e) {
      tfError = (e as Error).message;
    }
  }
  try {
    // First call: compiles pipelines, and gives the outputs for the check.
    // With AUTOMIX_TUNE=full it also schedules the tuning of new shapes: the
    // timed calls wait for their winners.
    const first = await oursOnce(tf !== null);
    await tuner.idle();
    let diff = { diff: NaN, scale: NaN };
    let mismatch = false;
    let tfFirstMs = 0;
    if (tf) {
      try {
        const firstTf = await tfh!.timeAndValues(tf.run);
        const theirs = firstTf.values;
        tfFirstMs = firstTf.ms;
        if (theirs.length !== first.vals.length) {
          diff = { diff: Infinity, scale: 0 };
          tfError = `TF.js gave ${theirs.length} outputs, ours ${first.vals.length}`;
        } else {
          diff = { diff: 0, scale: 0 };
          theirs.forEach((v, i) => {
            const d = maxAbsDiff(first.vals[i]!, tf!.toOurs ? tf!.toOurs(v, i) : v);
            diff = { diff: Number.isNaN(d.diff) || Number.isNaN(diff.diff) ? NaN : Math.max(diff.diff, d.diff), scale: Math.max(diff.scale, d.scale) };
          });
        }
        const tol = prep.tol ?? 1e-3;
        mismatch = !(diff.diff <= tol * diff.scale + 1e-6);
      } catch (e) {
        tfError = `TF.js failed: ${(e as Error).message.split('\n')[0]}`;
        tf.dispose();
        tf = null;
      }
    }
    // Warm-up (the check call above was the first, compiling pipelines on
    // both sides), then the per-call estimate that sizes the repeats. Calls
    // of over a second get no second warm-up: they are long enough.
    let est = first.ms;
    let estTf = tfFirstMs;
    // A TF.js kernel that takes over 10 s a call even after its first call
    // (which can include lavapipe compiling the shader) is timed by that
    // second call alone, so that the run stays within its time: TF.js's
    // naive conv filter gradient takes over a minute on a CPU adapter.
    let tfOnce = false;
    if (tf && tfFirstMs > 10_000) {
      estTf = await tfh!.time(tf.run);
      if (estTf > 10_000) {
        tfOnce = true;
        tfFirstMs = estTf;
      } else tfFirstMs = estTf;
    }
    for (let w = 1; w < budget.warmups; w++) {
      if (first.ms > 1000 || tfFirstMs > 1000) break;
      est = (await oursOnce(false)).ms;
      if (tf) estTf = await tfh!.time(tf.run);
    }
    // Slow pairs (> 2 s) get 3 repeats at least rather than 5; behind
    // schedule, 2 (plus the check call) rather than overrun.
    const caseMs = budget.caseMs();
    const pairMs = est + (tfOnce ? 0 : estTf);
    const min = caseMs <= 0 ? 2 : pairMs > 2000 ? Math.min(3, budget.min) : budget.min;
    const reps = o.repeats ?? repeatsFor(pairMs, caseMs, min, budget.max);
    const ours: number[] = [];
    const theirs: number[] = [];
    let dispatches = first.dispatches;
    for (let i = 0; i < reps; i++) {
      // Interleaved: a busy host slows both sides alike.
      const t = await oursOnce(false);
      ours.push(t.ms);
      dispatches = t.dispatches;
      if (tf && !tfOnce) theirs.push(await tfh!.time(tf.run));
    }
    if (tfOnce) theirs.push(tfFirstMs);
    const s = summarize(ours);
    const res: Result = {
      ...base,
      status: mismatch ? 'mismatch' : 'ok',
      median_ms: s.median,
      spread_ms: { min: s.min, max: s.max, q1: s.q1, q3: s.q3 },
      repeats: reps,
      timing: timer.method,
    };
    if (timer.method === 'timestamp-query') res.dispatches = dispatches;
    if (prep.note) res.note = prep.note;
    const variant = describeChoices(uses);
    if (variant) res.variant = variant;
    if (prep.flops) res.gflops = prep.flops / (s.median * 1e6);
    if (prep.bytes) res.gbps = prep.bytes / (s.median * 1e6);
    const share = c.bound === 'compute' ? (res.gflops ?? NaN) / peak.gflops : (res.gbps ?? NaN) / peak.gbps;
    if (Number.isFinite(share)) res.peak_share = share;
    if (tf) {
      const st = summarize(theirs);
      res.vs = {
        'tfjs-webgpu': {
          median_ms: st.median,
          spread_ms: { min: st.min, max: st.max, q1: st.q1, q3: st.q3 },
          speedup: st.median / s.median,
          max_abs_diff: diff.diff,
          max_abs_ref: diff.scale,
          timing: tfh!.method,
        },
      };
      if (tfOnce) res.note = `${prep.note ? `${prep.note}; ` : ''}TF.js timed once (${(tfFirstMs / 1000).toFixed(0)} s a call)`;
      if (mismatch) res.note = `${res.note ? `${res.note}; ` : ''}differs from TF.js: max |Δ| ${fmtDiff(diff.diff)} (max |value| ${fmtDiff(diff.scale)})`;
    } else if (tfh) {
      res.vs = { 'tfjs-webgpu': { error: tfError ?? 'no TF.js equivalent in the registry' } };
      if (tfError) res.note = `${prep.note ? `${prep.note}; ` : ''}${tfError}`;
    }
    const tuneMs = tuner.stats.ms - tuneMs0;
    if (tuneMs > 0) {
      res.tune_ms = tuneMs;
      addNote(res, tuneNote(tuneMs));
    }
    return res;
  } finally {
    tf?.dispose();
  }
}

/**
 * Whole training steps, wall clock around step() + engine.sync(). With
 * --vs tfjs, a step case that has a TF.js side (bench/tfjs-steps.ts) also
 * runs it, interleaved with ours, timed by the wall clock around the step and
 * an awaited read of its loss. `deadline` (a performance.now() time) caps the
 * repeats so that the whole run keeps to its time.
 */
async function runSteps(engine: Engine, o: BenchOptions, tfh: TfHarness | null, deadline: number): Promise<Result[]> {
  const out: Result[] = [];
  const all = stepCases(engine.info.isFallbackAdapter).filter((s) => selected(o.filter, 'step', s.name));
  for (const [idx, s] of all.entries()) {
    const base = { kernel: 'training step', case: s.name };
    log(`[step] ${s.name}`);
    const tuner = tunerOf(engine);
    const tuneMs0 = tuner.stats.ms;
    let tfs: TfStepBench | null = null;
    try {
      const sb = await s.make(engine);
      const once = async () => {
        const t0 = performance.now();
        await sb.step();
        await engine.sync();
        return performance.now() - t0;
      };
      const tfOnce = async () => {
        const t0 = performance.now();
        const loss = await tfs!.step();
        return { ms: performance.now() - t0, loss };
      };
      let tfError: string | null = tfh && !s.tf ? 'no TF.js equivalent yet' : null;
      if (tfh && s.tf) {
        try {
          tfs = s.tf(tfh.tf, sb);
        } catch (e) {
          tfError = `TF.js failed: ${(e as Error).message.split('\n')[0]}`;
        }
      }
      // Warm-up: the first step of each side runs at initialisation (its
      // loss is the check below) and compiles the pipelines; the shapes it
      // scheduled for tuning (AUTOMIX_TUNE=full) are tuned before the timed steps.
      const first = await once();
      await tuner.idle();
      let tfFirst = { ms: 0, loss: NaN };
      let lossCheck: { ours: number; tfjs: number; ok: boolean } | null = null;
      if (tfs) {
        try {
          tfFirst = await tfOnce();
          if (tfh!.tf.getBackend() !== 'webgpu') throw new Error(`TF.js ran on '${tfh!.tf.getBackend()}', not 'webgpu'`);
          const ours0 = await sb.initialLoss!();
          const near = (l: number) => Number.isFinite(l) && Math.abs(l - Math.log(10)) <= 0.5;
          lossCheck = { ours: ours0, tfjs: tfFirst.loss, ok: near(ours0) && near(tfFirst.loss) };
        } catch (e) {
          tfError = `TF.js failed: ${(e as Error).message.split('\n')[0]}`;
          tfs.dispose();
          tfs = null;
        }
      }
      // More warm-up unless the first step took over 10 s (ViT AutoMix on a CPU adapter): until the
      // step runs as it will (a TrainingRun captures twice, then replays; after a tuning in 'full'
      // mode it first runs once more with the tuned kernels), at most 4 steps.
      let est = first;
      if (first <= 10_000) {
        est = await once();
        for (let i = 0; i < 3 && sb.settled && !sb.settled(); i++) est = await once();
      }
      // Time left for this and the remaining step cases (the TF.js side of a
      // slow adapter can take tens of seconds a step).
      const share = (deadline - performance.now()) / (all.length - idx);
      const tfMs = tfs ? tfFirst.ms : 0;
      // TF.js steps of over 5 s (lavapipe) get 2 timed repeats (1 when the run
      // is short of time); faster ones 3 at least, as many as ours if they fit.
      let tfReps = tfs ? (tfMs > 5000 ? (3 * (est + tfMs) <= share ? 2 : 1) : 3) : 0;
      const minReps = 3 * est + tfReps * tfMs <= share ? 3 : 2;
      let reps = o.repeats ?? repeatsFor(est, Math.min(o.quick ? 2000 : 8000, share - tfReps * tfMs), minReps, o.quick ? 5 : 20);
      if (tfs && tfMs <= 5000) tfReps = o.repeats ?? Math.max(tfReps, Math.min(reps, Math.floor((share - reps * est) / Math.max(tfMs, 1))));
      tfReps = Math.min(tfReps, Math.max(reps, 1));
      reps = Math.max(reps, tfReps);
      const ms: number[] = [];
      const tfMsList: number[] = [];
      for (let i = 0; i < reps; i++) {
        // Interleaved: a busy host slows both sides alike.
        ms.push(await once());
        if (tfs && i < tfReps) tfMsList.push((await tfOnce()).ms);
      }
      sb.dispose?.();
      const st = summarize(ms);
      const r: Result = {
        ...base,
        status: 'ok',
        median_ms: st.median,
        spread_ms: { min: st.min, max: st.max, q1: st.q1, q3: st.q3 },
        repeats: reps,
        timing: 'wall-clock',
        images_per_s: (sb.imagesPerStep * 1000) / st.median,
      };
      if (tfs && lossCheck) {
        const tt = summarize(tfMsList);
        const tfRate = (sb.imagesPerStep * 1000) / tt.median;
        r.vs = {
          'tfjs-webgpu': {
            median_ms: tt.median,
            spread_ms: { min: tt.min, max: tt.max, q1: tt.q1, q3: tt.q3 },
            speedup: tt.median / st.median,
            repeats: tfMsList.length,
            images_per_s: tfRate,
            initial_loss: { ours: lossCheck.ours, tfjs: lossCheck.tfjs, ln10: Math.log(10), ok: lossCheck.ok },
            timing: 'wall-clock',
          },
        };
        const f = (x: number) => x.toFixed(3);
        r.note =
          `TF.js ${fmtRate(tfRate)} img/s (n=${tfMsList.length}); ` +
          `initial loss ours ${f(lossCheck.ours)}, TF.js ${f(lossCheck.tfjs)}: ${lossCheck.ok ? 'both' : 'NOT both'} finite and within 0.5 of ln 10 = ${f(Math.log(10))} ` +
          '(own random weights: not compared value for value)';
        if (!lossCheck.ok) r.status = 'mismatch';
      } else if (tfh) {
        r.vs = { 'tfjs-webgpu': { error: tfError ?? 'no TF.js equivalent yet' } };
        if (tfError && s.tf) r.note = tfError;
      }
      const tuneMs = tuner.stats.ms - tuneMs0;
      if (tuneMs > 0) {
        r.tune_ms = tuneMs;
        addNote(r, tuneNote(tuneMs));
      }
      out.push(r);
    } catch (e) {
      out.push({ ...base, status: 'error', note: (e as Error).message.split('\n')[0] });
    } finally {
      tfs?.dispose();
    }
  }
  // AutoMix / vanilla step-time ratio of the same model, measured in this run.
  for (const r of out) {
    if (!/AutoMix/.test(r.case) || r.median_ms === undefined) continue;
    const v = out.find((x) => x.case === r.case.replace('AutoMix', 'vanilla'));
    if (v?.median_ms) {
      const ratio = r.median_ms / v.median_ms;
      (r as Result & { automix_vs_vanilla: number }).automix_vs_vanilla = ratio;
      addNote(r, `${ratio.toFixed(2)}× the vanilla step time`);
    }
  }
  return out;
}

function table(results: Result[], peak: Peak, vs: boolean): { columns: Column[]; rows: (string[] | string)[] } {
  const columns: Column[] = [
    { header: 'kernel' },
    { header: 'case' },
    { header: 'median ms', align: 'right' },
    { header: 'min–max ms', align: 'right' },
    { header: 'n', align: 'right' },
    { header: 'rate', align: 'right' },
    { header: 'of peak', align: 'right' },
  ];
  if (vs) columns.push({ header: 'TF.js ms', align: 'right' }, { header: 'speed-up', align: 'right' }, { header: 'max |Δ|', align: 'right' });
  const variants = results.some((r) => r.variant !== undefined);
  if (variants) columns.push({ header: 'variant' });
  columns.push({ header: 'note' });
  const rows: (string[] | string)[] = [];
  for (const r of results) {
    if (r.status !== 'ok' && r.status !== 'mismatch') {
      const row = [r.kernel, r.case, '', '', '', '', ''];
      if (vs) row.push('', '', '');
      if (variants) row.push('');
      row.push(r.status === 'error' ? `ERROR: ${r.note}` : r.note ? `${r.status}: ${r.note}` : r.status);
      rows.push(row);
      continue;
    }
    let rate = '—';
    if (r.images_per_s !== undefined) rate = `${fmtRate(r.images_per_s)} img/s`;
    else if (r.bound === 'compute' && r.gflops !== undefined) rate = `${fmtRate(r.gflops)} GFLOP/s`;
    else if (r.gbps !== undefined) rate = `${fmtRate(r.gbps)} GB/s`;
    else if (r.gflops !== undefined) rate = `${fmtRate(r.gflops)} GFLOP/s`;
    const row = [r.kernel, r.case, fmtMs(r.median_ms), fmtSpread(r.spread_ms!.min, r.spread_ms!.max), String(r.repeats ?? ''), rate, fmtPct(r.peak_share)];
    if (vs) {
      const v = r.vs?.['tfjs-webgpu'];
      if (v && 'median_ms' in v) row.push(fmtMs(v.median_ms), fmtRatio(v.speedup), fmtDiff(v.max_abs_diff));
      else row.push('—', '—', '—');
    }
    if (variants) row.push(r.variant ?? '');
    const notes: string[] = [];
    if (r.status === 'mismatch') notes.push(`MISMATCH: ${r.note}`);
    else if (r.note) notes.push(r.note);
    if (r.dispatches !== undefined && r.dispatches !== 1) notes.push(`${r.dispatches} dispatches`);
    row.push(notes.join('; '));
    rows.push(row);
  }
  void peak;
  return { columns, rows };
}

async function main(): Promise<number> {
  let o: BenchOptions;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ArgError) {
      log(e.message);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  if (o.host) {
    const r = await runHostBench(console.log, {
      backend: o.hostBackend,
      cases: HOST_CASES.filter((c) => selected(o.filter, 'step', c.name)),
      ...(o.quick ? { batch: 8 } : {}),
      ...(o.repeats ? { steps: o.repeats } : {}),
    });
    if (o.json) writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), ...r }, null, 1));
    return 0;
  }
  const started = performance.now();
  const load0 = loadavg()[0]!;
  // Both our engine and TF.js ask Dawn for the high-performance adapter.
  const engine = await createEngine({ powerPreference: 'high-performance' });
  const info = engine.info;
  const software = info.isFallbackAdapter;
  const adapterString = `${info.vendor} / ${info.architecture} / ${info.device || '-'} / ${info.description}`;
  console.log(`adapter: ${adapterString}${software ? ' (software)' : ''}`);
  console.log(`features: ${[...engine.features].sort().join(', ')}`);
  console.log(
    `host: ${cpus().length} CPUs, load average ${load0.toFixed(2)} at start${load0 > cpus().length * 0.5 ? ' — the host is busy: timings will be noisy' : ''}`,
  );

  let tfh: TfHarness | null = null;
  if (o.vs === 'tfjs') {
    tfh = await initTf(info, o.wall);
    console.log(
      `TF.js ${tfh.version}, backend ${tfh.tf.getBackend()} on ${tfh.adapter}; timing: ${tfh.method === 'timestamp-query' ? 'tf.time() kernelMs (timestamp queries)' : 'wall clock + queue drain'}`,
    );
  }
  // Both sides must be timed the same way.
  const timer = makeTimer(engine, o.wall || (tfh !== null && tfh.method === 'wall-clock'));
  console.log(
    `timing: ${timer.method === 'timestamp-query' ? 'GPU timestamp queries, summed over the dispatches of one op call' : 'wall clock around the call and engine.sync()'}`,
  );

  log('calibrating…');
  const peak = await calibrate(engine, timer, { quick: o.quick, software });
  console.log(`peak: ${fmtRate(peak.gflops)} GFLOP/s f32 FMA (${peak.detail.fma}), ${fmtRate(peak.gbps)} GB/s copy (${peak.detail.copy})`);

  const ctx: CaseContext = { engine, software, full: o.full };
  const cases = CASES.filter((c) => selected(o.filter, c.kernel, c.name));
  // Repeats fill a per-case time budget; the whole run aims at TARGET_S
  // (lavapipe with --vs tfjs must stay under 10 minutes), so when slow cases
  // have eaten into it the later ones get fewer repeats (never below min).
  const TARGET_S = o.quick ? 240 : 420;
  let left = cases.length;
  const perCase = o.quick ? 500 : 1500;
  const budget: Budget = {
    warmups: 2,
    caseMs: () => Math.min(perCase, Math.max(0, (TARGET_S * 1000 - (performance.now() - started)) / Math.max(1, left)) * 0.5),
    min: o.quick ? 3 : 5,
    max: o.quick ? 5 : 15,
  };
  const results: Result[] = [];
  let i = 0;
  for (const c of cases) {
    i++;
    left = cases.length - i + 1;
    const base = { kernel: c.kernel, case: c.name, bound: c.bound };
    const why = c.skip?.(ctx);
    if (why) {
      results.push({ ...base, status: 'skipped', note: why });
      continue;
    }
    log(`[${i}/${cases.length}] ${c.kernel} ${c.name}`);
    let prep: Prepared | null = null;
    try {
      prep = c.prepare(ctx);
      results.push(await runCase(c, ctx, prep, timer, tfh, peak, o, budget));
    } catch (e) {
      results.push({ ...base, status: 'error', note: (e as Error).message.split('\n')[0] });
      // Leave profiling mode / drop half-recorded work before the next case.
      await engine.stopProfiling().catch(() => []);
    } finally {
      try {
        prep?.dispose();
        await engine.sync();
      } catch (e) {
        log(`cleanup of ${c.kernel} ${c.name} failed: ${(e as Error).message}`);
      }
    }
  }
  // The steps get what is left of 9 minutes, and at least a minute: a step
  // that has started runs to its end (ViT AutoMix: ~30 s a call on lavapipe),
  // then come the end calibration and the output, all within 10 minutes.
  results.push(...(await runSteps(engine, o, tfh, Math.max(started + (o.quick ? 240 : 540) * 1000, performance.now() + 60_000))));

  // Calibrate again at the end and keep the better figure: on a shared host
  // the load changes during the run, and a peak is an upper bound.
  if (!o.filter.length || results.some((r) => r.status === 'ok')) {
    log('calibrating again…');
    const again = await calibrate(engine, timer, { quick: true, software });
    if (again.gflops > peak.gflops) Object.assign(peak, { gflops: again.gflops, detail: { ...peak.detail, fma: `${again.detail.fma}, end of run` } });
    if (again.gbps > peak.gbps) Object.assign(peak, { gbps: again.gbps, detail: { ...peak.detail, copy: `${again.detail.copy}, end of run` } });
    for (const r of results) {
      if (r.peak_share === undefined) continue;
      r.peak_share = r.bound === 'compute' ? (r.gflops ?? NaN) / peak.gflops : (r.gbps ?? NaN) / peak.gbps;
    }
    console.log(`peak (best of start and end): ${fmtRate(peak.gflops)} GFLOP/s, ${fmtRate(peak.gbps)} GB/s`);
  }

  const { columns, rows } = table(results, peak, tfh !== null);
  console.log('');
  console.log(renderTable(columns, rows));
  const load1 = loadavg()[0]!;
  const wallS = (performance.now() - started) / 1000;
  console.log(
    `\n${results.filter((r) => r.status === 'ok').length} cases ran, ${results.filter((r) => r.status === 'skipped').length} skipped; ${wallS.toFixed(0)} s; load average ${load1.toFixed(2)} at the end`,
  );
  console.log(
    'speed-up = TF.js time / our time (> 1: ours is faster); of peak = rate / calibrated peak (GFLOP/s for compute-bound cases, GB/s for memory-bound ones)',
  );
  const ts = tuneStats(engine);
  console.log(
    `kernel tuning (${ts.mode}): ${ts.tuned} shapes tuned, ${ts.configs} configs timed, ${(ts.ms / 1000).toFixed(1)} s; ${ts.cacheHits} cached choices, ${ts.staticUses} static` +
      `${ts.rejected ? `; ${ts.rejected} configs rejected (output differed)` : ''}${ts.errors ? `; ${ts.errors} tunings failed` : ''}`,
  );

  const date = new Date().toISOString();
  if (o.json) {
    const doc = {
      adapter: { ...info, string: adapterString, features: [...engine.features].sort() },
      date,
      host: { cpus: cpus().length, loadavg_start: load0, loadavg_end: load1, node: process.version },
      peak: { gflops: peak.gflops, gbps: peak.gbps, detail: peak.detail },
      timing: timer.method,
      ...(tfh ? { tfjs: { version: tfh.version, adapter: tfh.adapter, timing: tfh.method } } : {}),
      options: o,
      tune: ts,
      results,
    };
    writeFileSync(o.json, `${JSON.stringify(doc, null, 2)}\n`);
    log(`wrote ${o.json}`);
  }
  if (o.markdown) {
    const head = `Adapter: ${adapterString}. Date: ${date.slice(0, 10)}. Peak: ${fmtRate(peak.gflops)} GFLOP/s, ${fmtRate(peak.gbps)} GB/s. Timing: ${timer.method}.\n\n`;
    writeFileSync(o.markdown, `${head}${renderMarkdown(columns, rows)}\n`);
    log(`wrote ${o.markdown}`);
  }
  engine.destroy();
  const bad = results.filter((r) => r.status === 'mismatch' || r.status === 'error');
  if (bad.length) log(`${bad.length} case(s) failed: ${bad.map((r) => `${r.kernel} ${r.case} (${r.status})`).join(', ')}`);
  return bad.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
