/**
 * The autotuner: for a kernel family and a problem (shape, layout flags,
 * epilogue) it picks a configuration (variant + override constants).
 *
 *   tunerOf(engine).choose(family, problem)   synchronous, used by the op
 *
 * - mode 'off': the family's static rule;
 * - mode 'cached': the cache's entry for (adapter, family version, key) when
 *   there is one and it is valid here, else the static rule;
 * - mode 'full': as 'cached', and a missing key is tuned on its first use:
 *   that call gets the static rule, and the measurement runs in the
 *   background (one shape at a time, started after the current synchronous
 *   code — at the caller's next await), on the tuner's own command encoders,
 *   buffers and timestamp queries, never in the engine's batch. Later calls
 *   get the winner. `await tunerOf(engine).idle()` waits for pending tunings.
 *
 * Never inside a captured step: while `engine.capturing`, the choice is the
 * one the last eager call of the same key used (so that two captures of a
 * step agree, and a replay plan keeps its pipelines), else the cached or
 * static one; nothing is scheduled and nothing is measured.
 *
 * A measurement: candidates in the family's order, the static rule first,
 * within `budgetMs` (compiles included; the first two always run). Each is
 * timed (a warm-up pass and an estimate pass of one dispatch each, then 3 passes of n dispatches
 * sized to ≥ 1 ms of GPU time; the best pass counts; one over 3× the best so
 * far is not timed further; the three fastest and the static rule are timed
 * again at the end, the better time counting) and its output is compared with the
 * reference on the same inputs (random values in [-1, 1)): the family's plainest configuration
 * (`TuneFamily.reference`: no workgroup memory, no subgroup operations), else the static
 * rule's. A config whose output differs beyond the family's tolerance is rejected and logged,
 * so a tuned choice never changes a result beyond that tolerance — the static rule included: one
 * that this adapter computes wrong is replaced by the fastest config that agrees (or the
 * reference) and the record says `staticWrong`. The winner must otherwise beat the static rule
 * by 3 % (noise). Records are cached per adapter
 * (vendor, architecture, device, description — which carries the driver
 * version — and driver when the adapter reports one) and saved to the store.
 */
import { uniformData } from '../util/random-data.js';
import type { Engine } from '../engine.js';
import { packParams } from '../kernels/reflect.js';
import { Clock, readBack, readTime, type TimedDispatch } from './clock.js';
import {
  type Choice,
  type ChoiceSource,
  type TuneCacheDoc,
  type TuneConfig,
  type TuneFamily,
  type TuneMode,
  TUNE_MODES,
  type TuneRecord,
  type TuneStats,
  type TuneStore,
} from './types.js';

const STORAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM = 0x40 | 0x08; // UNIFORM | COPY_DST
const VALIDATION_SCOPES: GPUErrorFilter[] = ['validation', 'internal', 'out-of-memory'];

export interface TunerOptions {
  mode: TuneMode;
  store: TuneStore | null;
  /** Time per shape (ms, compiles included); default 3 s on GPUs, 30 s on CPU adapters. */
  budgetMs?: number;
  /** Where log lines go (default: stderr via console.error, in 'full' mode only). */
  log?: (line: string) => void;
}

/** The limits that decide which kernel configurations fit a device. */
const TUNING_LIMITS = [
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
] as const;

/** The adapter part of the cache key. */
export function adapterKey(engine: Engine): { key: string; adapter: Record<string, string> } {
  const i = engine.info;
  const raw = engine.ctx.adapter.info as GPUAdapterInfo & { driver?: string };
  const adapter: Record<string, string> = {
    backend: i.backend,
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    driver: raw?.driver ?? '',
  };
  // An engine that follows the other class's rules (EngineOptions.kernelRules) tunes other candidates: its own entries.
  if (engine.kernelRules !== (i.isFallbackAdapter ? 'cpu' : 'gpu')) adapter['rules'] = engine.kernelRules;
  // So does a device granted less than its adapter could give (compatibility mode, `limits:
  // 'default'`): fewer tiles fit it, and its choices must not replace the full device's.
  const granted = engine.limits as unknown as Record<string, number>;
  const possible = engine.ctx.adapter.limits as unknown as Record<string, number>;
  const smaller = TUNING_LIMITS.filter((k) => granted[k]! < possible[k]!).map((k) => `${k}=${granted[k]}`);
  if (smaller.length) adapter['limits'] = smaller.join(',');
  return { key: Object.values(adapter).join('|'), adapter };
}

/** One problem's choice, as a report reads it (Tuner.choicesSince). */
export interface ChoiceUse {
  /** The family's name ('matmul') and the problem's cache key. */
  family: string;
  key: string;
  /** The configuration, as the family describes it: 'tiled_v4 64×64×16 8×8'. */
  name: string;
  source: ChoiceSource;
}

export class Tuner {
  readonly engine: Engine;
  mode: TuneMode;
  budgetMs: number;
  readonly store: TuneStore | null;
  readonly stats: TuneStats;
  #log: (line: string) => void;
  #doc: TuneCacheDoc | null = null;
  #adapter: { key: string; adapter: Record<string, string> };
  /** The last eager choice per key: what a capture reuses. */
  #memo = new Map<string, Choice>();
  /** Keys tuned in this process (their source reads 'tuned'). */
  #tunedHere = new Set<string>();
  /** Keys whose tuning failed: not retried in this process. */
  #failed = new Set<string>();
  #forced = new Map<string, TuneConfig | string>();
  #pending = new Map<string, Promise<TuneRecord | null>>();
  #queue: Promise<unknown> = Promise.resolve();
  /** The latest choice per key and when it was made (a running count): read by choicesSince. */
  #uses = new Map<string, { family: TuneFamily<unknown>; choice: Choice; seq: number }>();
  #choiceCount = 0;
  #saveWarned = false;

  constructor(engine: Engine, opts: TunerOptions) {
    if (!TUNE_MODES.includes(opts.mode)) throw new Error(`tune: mode must be one of ${TUNE_MODES.join(', ')}, got '${String(opts.mode)}'`);
    this.engine = engine;
    this.mode = opts.mode;
    this.store = opts.store;
    this.budgetMs = opts.budgetMs ?? (engine.info.isFallbackAdapter ? 30_000 : 3_000);
    this.#log = opts.log ?? ((line) => console.error(line));
    this.#adapter = adapterKey(engine);
    this.stats = { mode: opts.mode, tuned: 0, configs: 0, ms: 0, rejected: 0, cacheHits: 0, staticUses: 0, errors: 0, log: [] };
  }

  /**
   * Forces a family's choice (tests, experiments): a full config, or a variant
   * name (its first candidate for each problem); problems it cannot run keep
   * the normal choice. null lifts it. Returns the previous setting.
   */
  force(family: string, cfg: TuneConfig | string | null): TuneConfig | string | null {
    const prev = this.#forced.get(family) ?? null;
    if (cfg === null) this.#forced.delete(family);
    else this.#forced.set(family, cfg);
    return prev;
  }

  /** The configuration to launch `p` with (synchronous; see the file comment). */
  choose<P>(family: TuneFamily<P>, p: P): Choice {
    const key = this.#key(family, p);
    const c = this.#choose(family, p, key);
    this.#uses.set(key, { family: family as TuneFamily<unknown>, choice: c, seq: ++this.#choiceCount });
    return c;
  }

  /** How many choices have been made so far: the mark that `choicesSince` takes. */
  get choiceCount(): number {
    return this.#choiceCount;
  }

  /**
   * The problems chosen for after `mark` (a `choiceCount` read earlier), each
   * with its latest choice, in the order of that choice: what an op call used,
   * for reports (the bench's variant column). Read-only.
   */
  choicesSince(mark: number): ChoiceUse[] {
    return [...this.#uses.entries()]
      .filter(([, u]) => u.seq > mark)
      .sort(([, x], [, y]) => x.seq - y.seq)
      .map(([key, u]) => ({ family: u.family.name, key, name: u.family.describe(u.choice.config), source: u.choice.source }));
  }

  #choose<P>(family: TuneFamily<P>, p: P, key: string): Choice {
    const e = this.engine;
    const forced = this.#forced.get(family.name);
    if (forced !== undefined) {
      const cfg = typeof forced === 'string' ? family.candidates(e, p).find((c) => c.variant === forced) : forced;
      if (cfg && family.valid(e, p, cfg)) return { config: cfg, source: 'forced' };
    }
    if (e.capturing) {
      const m = this.#memo.get(key);
      if (m) return m;
      return this.#lookup(family, p, key, false);
    }
    const c = this.#lookup(family, p, key, this.mode === 'full');
    this.#memo.set(key, c);
    return c;
  }

  /** Cached, else static; schedules a tuning when asked to. */
  #lookup<P>(family: TuneFamily<P>, p: P, key: string, schedule: boolean): Choice {
    if (this.mode !== 'off') {
      const rec = this.#record(key);
      if (rec && family.valid(this.engine, p, rec.config)) {
        this.stats.cacheHits++;
        return { config: rec.config, source: this.#tunedHere.has(key) ? 'tuned' : 'cache' };
      }
      if (schedule && !this.#pending.has(key) && !this.#failed.has(key)) this.#enqueue(family, p, key);
    }
    this.stats.staticUses++;
    return { config: family.staticConfig(this.engine, p), source: 'static' };
  }

  /** The cached record of a problem, if any (whatever the mode). */
  cached<P>(family: TuneFamily<P>, p: P): TuneRecord | null {
    return this.#record(this.#key(family, p));
  }

  /**
   * Measures `p` now (whatever the mode) and caches the winner; resolves to
   * its record, or null when nothing could be measured. Refused inside a
   * captured step.
   */
  tune<P>(family: TuneFamily<P>, p: P): Promise<TuneRecord | null> {
    if (this.engine.capturing) return Promise.reject(new Error('tune: not inside a captured step'));
    const key = this.#key(family, p);
    return this.#pending.get(key) ?? this.#enqueue(family, p, key);
  }

  /** Resolves when every scheduled tuning has finished. */
  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending.values()]);
  }

  /** Number of tunings scheduled or running. */
  get pending(): number {
    return this.#pending.size;
  }

  #key<P>(family: TuneFamily<P>, p: P): string {
    return `${family.name}@v${family.version}:${family.key(p)}`;
  }

  #enqueue<P>(family: TuneFamily<P>, p: P, key: string): Promise<TuneRecord | null> {
    const job = this.#queue
      // Start after the caller's synchronous code (a forward/backward pass being built).
      .then(() => new Promise((r) => setTimeout(r, 0)))
      .then(() => this.#measure(family, p, key))
      .catch((err: unknown) => {
        this.stats.errors++;
        this.#failed.add(key);
        this.#emit(`[tune] ${key}: tuning failed, the static rule stays: ${(err as Error)?.message ?? String(err)}`);
        return null;
      })
      .finally(() => this.#pending.delete(key));
    this.#pending.set(key, job);
    this.#queue = job;
    return job;
  }

  #emit(line: string): void {
    this.stats.log.push(line);
    this.#log(line);
  }

  // ---- the cache document ----------------------------------------------

  #docNow(): TuneCacheDoc {
    if (!this.#doc) this.#doc = this.#read();
    return this.#doc;
  }

  #read(): TuneCacheDoc {
    let raw: unknown = null;
    try {
      raw = this.store?.load() ?? null;
    } catch {
      raw = null;
    }
    return isDoc(raw) ? raw : { version: 1, adapters: {} };
  }

  #record(key: string): TuneRecord | null {
    const rec = this.#docNow().adapters[this.#adapter.key]?.entries[key];
    return rec && isConfig(rec.config) ? rec : null;
  }

  #put(key: string, rec: TuneRecord): void {
    const put = (doc: TuneCacheDoc) => {
      const a = (doc.adapters[this.#adapter.key] ??= { adapter: this.#adapter.adapter, entries: {} });
      a.entries[key] = rec;
    };
    put(this.#docNow());
    if (!this.store) return;
    try {
      // Re-read before writing: another process may have added entries.
      const fresh = this.#read();
      put(fresh);
      this.store.save(fresh);
    } catch (err) {
      if (!this.#saveWarned) {
        this.#saveWarned = true;
        this.#emit(`[tune] could not save the tuning cache to ${this.store.where}: ${(err as Error).message} (kept in memory)`);
      }
    }
  }

  // ---- measurement -------------------------------------------------------

  async #measure<P>(family: TuneFamily<P>, p: P, key: string): Promise<TuneRecord | null> {
    const e = this.engine;
    e.ctx.assertAlive();
    const t0 = performance.now();
    const staticCfg = family.staticConfig(e, p);
    const same = (x: TuneConfig, y: TuneConfig) => family.describe(x) === family.describe(y);
    const cands = [staticCfg, ...family.candidates(e, p).filter((c) => !same(c, staticCfg))];
    const spec = family.benchBuffers(p);
    const device = e.ctx.device;
    const buffers: Record<string, GPUBuffer> = {};
    const clock = new Clock(device, e.features.has('timestamp-query'));
    const made: GPUBuffer[] = [];
    try {
      for (const [name, n] of Object.entries(spec.sizes)) {
        const size = Math.max(256, Math.ceil((n * 4) / 16) * 16);
        const buf = device.createBuffer({ size, usage: STORAGE, label: `tune.${name}` });
        made.push(buf);
        buffers[name] = buf;
        if (spec.inputs.includes(name)) {
          const given = spec.data?.[name];
          if (given) device.queue.writeBuffer(buf, 0, given.buffer, given.byteOffset, Math.min(given.byteLength, size));
          else device.queue.writeBuffer(buf, 0, uniformData(size / 4, name.length * 7919 + n).buffer, 0, size);
        }
      }
      const outBytes = spec.sizes[spec.output]! * 4;
      const tol = family.tolerance(p);
      let ref: Float32Array | null = null;
      let refScale = 0;
      const setRef = (out: Float32Array) => {
        ref = out;
        for (let k = 0; k < out.length; k++) refScale = Math.max(refScale, Math.abs(out[k]!));
      };
      const maxDiff = (out: Float32Array) => {
        let diff = 0;
        for (let k = 0; k < out.length; k++) {
          const d = Math.abs(out[k]! - ref![k]!);
          diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
        }
        return diff;
      };
      // The family's plainest configuration computes the reference every output is checked
      // against, the static rule's included: a kernel that this adapter runs wrong (a race that
      // a CPU adapter never shows) is then rejected, not trusted.
      const refCfg = family.reference?.(e, p) ?? null;
      const separateRef = refCfg !== null && !same(refCfg, staticCfg) && family.valid(e, p, refCfg);
      let refRun: TimedDispatch | null = null;
      if (separateRef) {
        refRun = await this.#prepare(family, p, refCfg, buffers, made, spec.params);
        if (refRun) {
          // Its own error scopes (a failure stays the tuner's), and a reference that failed or gave
          // no finite, nonzero output is not one: the static rule's output is then.
          for (const s of VALIDATION_SCOPES) device.pushErrorScope(s);
          const ran = clock.time(refRun, 1, 1, (enc) => enc.clearBuffer(buffers[spec.output]!));
          const errors = Promise.all(VALIDATION_SCOPES.map(() => device.popErrorScope()));
          await ran;
          const failed = (await errors).some((x) => x !== null);
          const out = failed ? null : await readBack(device, buffers[spec.output]!, outBytes);
          if (out && out.every(Number.isFinite) && out.some((v) => v !== 0)) setRef(out);
          else {
            this.#emit(`[tune] ${key}: the reference ${family.describe(refCfg!)} did not run here; checking against the static rule's output`);
            refRun = null;
          }
        }
      }
      const refName = ref ? `the reference ${family.describe(refCfg!)}` : "the static rule's output";
      let staticOk = true;
      let best: { cfg: TuneConfig; ms: number } | null = null;
      let staticMs: number | null = null;
      let tried = 0;
      let rejected = 0;
      const timings: Record<string, number> = {};
      const accepted: { cfg: TuneConfig; ms: number; run: TimedDispatch }[] = [];
      const clear = (enc: GPUCommandEncoder) => enc.clearBuffer(buffers[spec.output]!);
      for (const [i, cfg] of cands.entries()) {
        if (i >= 2 && performance.now() - t0 > this.budgetMs) break;
        e.ctx.assertAlive();
        const run = await this.#prepare(family, p, cfg, buffers, made, spec.params);
        if (!run) {
          if (i === 0) throw new Error(`the static config ${family.describe(cfg)} does not build`);
          continue;
        }
        tried++;
        const raw = await this.#timeRun(clock, run, clear, best?.ms ?? Infinity);
        const { ran, ms } = readTime(raw, i === 0);
        timings[family.describe(cfg)] = round3(ms);
        if (i === 0) {
          staticMs = ms;
          if (!ref) {
            setRef(await readBack(device, buffers[spec.output]!, outBytes));
          } else {
            const diff = maxDiff(await readBack(device, buffers[spec.output]!, outBytes));
            if (!(diff <= tol * refScale + 1e-6)) {
              staticOk = false;
              rejected++;
              this.stats.rejected++;
              this.#emit(
                `[tune] ${key}: the static rule ${family.describe(cfg)} computes this shape wrong on this adapter: max |Δ| ${diff.toExponential(2)} from ${refName} (allowed ${(tol * refScale + 1e-6).toExponential(2)}); a checked configuration replaces it`,
              );
              continue;
            }
          }
          best = { cfg, ms };
          accepted.push({ cfg, ms, run });
          continue;
        }
        if (!ran) continue;
        // Every candidate timed is checked: its output must match the reference.
        const diff = maxDiff(await readBack(device, buffers[spec.output]!, outBytes));
        if (!(diff <= tol * refScale + 1e-6)) {
          rejected++;
          this.stats.rejected++;
          this.#emit(
            `[tune] ${key}: ${family.describe(cfg)} rejected: max |Δ| ${diff.toExponential(2)} from ${refName} (allowed ${(tol * refScale + 1e-6).toExponential(2)})`,
          );
          continue;
        }
        if (!Number.isFinite(ms)) continue; // correct, but its time is unknown: never chosen
        if (!best || ms < best.ms) best = { cfg, ms };
        accepted.push({ cfg, ms, run });
      }
      // A static rule that computes wrong, and no candidate timed in the budget agreed with the
      // reference: the reference itself is the choice.
      if (!best && refRun && refCfg) {
        const ms = readTime(await this.#timeRun(clock, refRun, clear, Infinity), false).ms;
        timings[family.describe(refCfg)] = round3(ms);
        best = { cfg: refCfg, ms };
        accepted.push({ cfg: refCfg, ms, run: refRun });
      }
      if (!best) throw new Error(`no configuration of ${key} computes it right on this adapter`);
      // A second round for the three fastest (the static rule among them
      // whatever its rank): one noisy pass on a busy host must not decide.
      const staticEntry = staticOk ? accepted[0] : undefined;
      const finalists = [...new Set([...(staticEntry ? [staticEntry] : []), ...[...accepted].sort((x, y) => x.ms - y.ms).slice(0, 3)])];
      if (finalists.length > 1) {
        for (const f of finalists) {
          const again = await this.#timeRun(clock, f.run, clear, Infinity);
          if (again > 0) f.ms = Math.min(f.ms, again);
          timings[family.describe(f.cfg)] = round3(f.ms);
        }
        if (staticEntry) staticMs = staticEntry.ms;
        best = [...finalists].sort((x, y) => x.ms - y.ms)[0]!;
      }
      // Keep the static rule (when it computes right) unless the winner is clearly faster.
      let win: { cfg: TuneConfig; ms: number } = best;
      if (staticOk && staticMs !== null && win.ms > staticMs * 0.97) win = { cfg: staticCfg, ms: staticMs };
      const tuneMs = performance.now() - t0;
      const rec: TuneRecord = {
        config: win.cfg,
        ms: round3(win.ms),
        staticMs: staticMs === null ? null : round3(staticMs),
        static: family.describe(staticCfg),
        tried,
        tuneMs: Math.round(tuneMs),
        timing: clock.method,
        date: new Date().toISOString(),
        timings,
        ...(staticOk ? {} : { staticWrong: true }),
      };
      this.stats.tuned++;
      this.stats.configs += tried;
      this.stats.ms += tuneMs;
      this.#tunedHere.add(key);
      this.#put(key, rec);
      this.#emit(
        `[tune] ${key}: ${family.describe(win.cfg)} ${fmtMs(win.ms)} (static ${rec.static} ${fmtMs(staticMs)}${staticOk ? '' : ', wrong here'}), ` +
          `${tried} of ${cands.length} configs${rejected ? `, ${rejected} rejected` : ''} in ${(tuneMs / 1000).toFixed(1)} s (${clock.method})`,
      );
      return rec;
    } finally {
      clock.destroy();
      for (const b of made) b.destroy();
    }
  }

  /** Builds the pipeline and bind group of one config; null if the device refuses it. */
  async #prepare<P>(
    family: TuneFamily<P>,
    p: P,
    cfg: TuneConfig,
    buffers: Record<string, GPUBuffer>,
    made: GPUBuffer[],
    params: Record<string, number>,
  ): Promise<TimedDispatch | null> {
    const e = this.engine;
    const device = e.ctx.device;
    // A configuration may be several dispatches (launch.next): each is built here and timed together.
    const first = family.launch(e, p, cfg);
    const chain = [first, ...(first.next ?? [])];
    for (const s of VALIDATION_SCOPES) device.pushErrorScope(s);
    const built: TimedDispatch[] = [];
    let thrown: unknown = null;
    try {
      for (const launch of chain) {
        const entry = e.kernels.entry(launch.family, launch.entry);
        const pipeline = e.kernels.pipeline(entry, launch.constants);
        const entries: GPUBindGroupEntry[] = [];
        for (const b of entry.bindings) {
          if (b.kind === 'uniform') {
            const data = packParams(entry.label, entry.params!, launch.params ?? params);
            const ub = device.createBuffer({ size: Math.max(16, data.byteLength), usage: UNIFORM, label: 'tune.params' });
            made.push(ub);
            device.queue.writeBuffer(ub, 0, data);
            entries.push({ binding: b.binding, resource: { buffer: ub } });
          } else {
            const buf = buffers[launch.bind?.[b.name] ?? b.name];
            if (!buf) throw new Error(`${entry.label}: no tuning buffer for binding '${b.name}'`);
            entries.push({ binding: b.binding, resource: { buffer: buf } });
          }
        }
        const bindGroup = device.createBindGroup({ label: `tune ${entry.label}`, layout: entry.layout, entries });
        built.push({ pipeline, bindGroup, workgroups: launch.workgroups });
      }
    } catch (err) {
      thrown = err;
    }
    const errors = await Promise.all(VALIDATION_SCOPES.map(() => device.popErrorScope()));
    const gpuError = errors.find((x) => x !== null);
    if (thrown || gpuError || built.length !== chain.length) {
      // An invalid pipeline must not stay cached: a later use (the same config as another
      // candidate, or by an op) would meet only Dawn's follow-on errors, not this cause.
      for (const launch of chain) {
        try {
          e.kernels.forget(e.kernels.entry(launch.family, launch.entry), launch.constants);
        } catch {
          // no such entry: nothing was cached
        }
      }
      this.#emit(`[tune] ${family.describe(cfg)} skipped: ${gpuError?.message.split('\n')[0] ?? (thrown as Error)?.message ?? 'not built'}`);
      return null;
    }
    return { ...built[0]!, next: built.slice(1) };
  }

  /** Time per dispatch (ms) of one config: a warm-up, an estimate, then the best of 3 passes of ≥ ~1 ms each. */
  async #timeRun(clock: Clock, run: TimedDispatch, clear: (enc: GPUCommandEncoder) => void, bestMs: number): Promise<number> {
    const device = this.engine.ctx.device;
    for (const s of VALIDATION_SCOPES) device.pushErrorScope(s);
    // Two passes of one dispatch: the first absorbs one-time costs (a CPU
    // adapter compiles the shader on first use), the second is the estimate.
    const first = clock.time(run, 1, 2, clear);
    const errors = Promise.all(VALIDATION_SCOPES.map(() => device.popErrorScope()));
    const [, est] = await first;
    const err = (await errors).find((x) => x !== null);
    if (err) throw new Error(`a tuning dispatch failed: ${err.message.split('\n')[0]}`);
    // Far slower than the best so far: no need for more passes.
    if (!(est! >= 0) || est! > 3 * bestMs) return est!;
    const target = clock.method === 'timestamp-query' ? 1 : 5;
    const n = Math.max(1, Math.min(64, est! > 0 ? Math.ceil(target / est!) : 64));
    const times = await clock.time(run, n, 3);
    return Math.min(...times.filter((t) => t >= 0), est!);
  }
}

const tuners = new WeakMap<Engine, Tuner>();

/** The engine's tuner (created on first use, with the engine's `tune` mode and store). */
export function tunerOf(engine: Engine): Tuner {
  let t = tuners.get(engine);
  if (!t) {
    t = new Tuner(engine, { mode: engine.tuneMode, store: engine.tuneStore });
    tuners.set(engine, t);
  }
  return t;
}

/** Counters of the engine's tuner (bench report). */
export function tuneStats(engine: Engine): TuneStats {
  return tunerOf(engine).stats;
}

function isConfig(c: unknown): c is TuneConfig {
  if (!c || typeof c !== 'object') return false;
  const x = c as TuneConfig;
  return typeof x.variant === 'string' && !!x.constants && typeof x.constants === 'object' && Object.values(x.constants).every((v) => typeof v === 'number');
}

function isDoc(d: unknown): d is TuneCacheDoc {
  return (
    !!d && typeof d === 'object' && (d as TuneCacheDoc).version === 1 && !!(d as TuneCacheDoc).adapters && typeof (d as TuneCacheDoc).adapters === 'object'
  );
}

const round3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x);
const fmtMs = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(3)} ms`);
