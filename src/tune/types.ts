/**
 * The autotuner's vocabulary: modes, configurations, the persisted cache
 * document, the storage it lives in, and what a kernel family must tell the
 * tuner (its candidates, its static rule, how to launch one configuration).
 * No Node or browser APIs here: the storage is injected (src/tune/store-*.ts).
 */
import type { Engine } from '../engine.js';

/**
 * - 'off': the static rule (no cache, no measurement);
 * - 'cached': a cached measurement when there is one, else the static rule;
 * - 'full': like 'cached', and a shape missing from the cache is tuned on its
 *   first use outside a captured step (in the background; see Tuner).
 */
export type TuneMode = 'off' | 'cached' | 'full';
export const TUNE_MODES: readonly TuneMode[] = ['off', 'cached', 'full'];

/** One launchable configuration of a kernel family: a variant and its override constants. */
export interface TuneConfig {
  variant: string;
  constants: Record<string, number>;
}

/** How a configuration is launched (bindings come from the family's `benchBuffers`). */
export interface TuneLaunch {
  /** kernels/<family>.wgsl */
  family: string;
  entry: string;
  /** Every override constant (tile sizes and flags). */
  constants: Record<string, number>;
  workgroups: [number, number, number];
  /** The bench buffer bound to each WGSL binding whose buffer has another name (default: the binding's own name). */
  bind?: Record<string, string>;
  /** This dispatch's uniform values (default: the family's `benchBuffers().params`). */
  params?: Record<string, number>;
  /** Further dispatches of the same configuration (an op of several kernels): run in order after this one and timed with it. */
  next?: TuneLaunch[];
}

/** A kernel family the tuner can measure (src/ops/matmul.ts registers 'matmul'). */
export interface TuneFamily<P> {
  name: string;
  /** Bumped whenever the kernels or the candidate list change: older cache entries are ignored. */
  version: number;
  /** The problem's cache key (shape, layout flags, epilogue). */
  key(p: P): string;
  /** What the op uses without a measurement. */
  staticConfig(engine: Engine, p: P): TuneConfig;
  /** Candidates valid for `p` and within the adapter's limits, most promising first (the static one included). */
  candidates(engine: Engine, p: P): TuneConfig[];
  /** Whether `cfg` can run `p` on this engine (a cached or forced config is checked before use). */
  valid(engine: Engine, p: P, cfg: TuneConfig): boolean;
  launch(engine: Engine, p: P, cfg: TuneConfig): TuneLaunch;
  /**
   * Buffers to bind when timing (WGSL variable name → f32 elements), the inputs among them, the uniform values;
   * `data`: an input's contents where random values in [-1, 1) would not do (indices).
   */
  benchBuffers(p: P): {
    sizes: Record<string, number>;
    inputs: string[];
    output: string;
    params: Record<string, number>;
    data?: Record<string, Float32Array | Int32Array>;
  };
  /**
   * The plainest configuration valid for `p` (no workgroup memory, no subgroup operations: the
   * least room for a driver or a race to go wrong), whose output every candidate — the static rule
   * included — is checked against when tuning. Absent (or null): the static rule's output.
   */
  reference?(engine: Engine, p: P): TuneConfig | null;
  /** Allowed max |Δ| between two configs' outputs, relative to max |reference| (plus 1e-6). */
  tolerance(p: P): number;
  /** A short human-readable name: 'tiled_v4 64×64×16 8×8'. */
  describe(cfg: TuneConfig): string;
}

/** One measured shape in the cache. */
export interface TuneRecord {
  config: TuneConfig;
  /** Its time per call (ms), and the static rule's on the same run. */
  ms: number;
  staticMs: number | null;
  static: string;
  /** Configurations timed, and the tuning time of this shape (compiles included). */
  tried: number;
  tuneMs: number;
  timing: 'timestamp-query' | 'wall-clock';
  date: string;
  /** Every config timed: name → ms per call (Infinity when it was cut short or failed to build). */
  timings?: Record<string, number>;
  /** The static rule computed this shape wrong on this adapter (checked against `TuneFamily.reference`). */
  staticWrong?: boolean;
}

/** The persisted document: adapters → `family@vN:key` → record. */
export interface TuneCacheDoc {
  version: 1;
  adapters: Record<string, { adapter: Record<string, string>; entries: Record<string, TuneRecord> }>;
}

/**
 * Where the cache lives. `load` returns the parsed document or null (absent or
 * unreadable); `save` replaces it (atomically, for a file). Both synchronous:
 * the op that consults the cache is synchronous too.
 */
export interface TuneStore {
  /** For messages: the file path, or 'memory'. */
  readonly where: string;
  load(): unknown;
  save(doc: TuneCacheDoc): void;
}

/** What a tuned or cached choice is, for reports (bench column, logs). */
export type ChoiceSource = 'static' | 'cache' | 'tuned' | 'forced';

export interface Choice {
  config: TuneConfig;
  source: ChoiceSource;
}

/** Counters of one engine's tuner (the bench prints them). */
export interface TuneStats {
  mode: TuneMode;
  /** Shapes measured in this process, configs timed, total tuning time (ms, compiles included). */
  tuned: number;
  configs: number;
  ms: number;
  /** Candidates whose output differed from the static rule's beyond the tolerance (never chosen). */
  rejected: number;
  cacheHits: number;
  /** Lookups that fell back to the static rule. */
  staticUses: number;
  /** Tunings that failed (the static rule stays). */
  errors: number;
  /** One line per shape tuned. */
  log: string[];
}
