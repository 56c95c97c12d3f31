/**
 * Checks made by `automix train` before the first step, so that nothing is lost or found broken
 * hours into a run:
 *  - an --out that already holds a run is refused unless --resume (continue it) or --force
 *    (delete it and start over) says what to do with it;
 *  - --out and --json must be places a file can be written, named as the user gave them; --out is
 *    created one level at a time after a bounded walk up its parents (a recursive mkdir loops
 *    forever under /proc, where mkdir answers ENOENT for a parent that exists);
 *  - temp files of checkpoint writes killed midway are removed when a run is resumed;
 *  - the data must suit the model (and the method): loaded and checked here, then handed to the
 *    trainer so the files are read once.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, type TrainConfig } from './config.js';
import { loadRunState, removeStaleTempFiles } from './checkpoint.js';
import { checkModelInput, loadData, primeData, type Datasets } from './data.js';
import { checkResumeConfig } from './trainer.js';

/** More parent directories than any real path has: the walk up stops here whatever happens. */
const MAX_DEPTH = 4096;

/** The files that make a directory a run's: what a fresh start would replace or prune. */
const RUN_FILE = /^(state\.json|model\.safetensors|ckpt-\d+\.safetensors)$/;

export interface PreflightReport {
  data: Datasets;
  /** Temp files of interrupted writes removed from --out (on --resume). */
  removedTemp: string[];
  /** The previous run's files deleted on --force. */
  removedRun: string[];
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

function why(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err.code ? `${err.code}: ${err.message?.replace(/^\w+: /, '') ?? ''}` : String(err.message ?? e);
}

/**
 * The nearest existing ancestor of `path` (itself if it exists) and the missing levels below it,
 * outermost first. Bounded: a path that never reaches an existing directory is an error.
 */
function walkUp(path: string, flag: string, given: string): { existing: string; stat: Stats; missing: string[] } {
  let p = resolve(path);
  const missing: string[] = [];
  for (let i = 0; i < MAX_DEPTH; i++) {
    const st = statOrNull(p);
    if (st) return { existing: p, stat: st, missing };
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  throw new ConfigError(`--${flag} ${given}: no existing parent directory found`);
}

/** Creates and deletes a file in `dir`: the one test of writability that holds for root, read-only mounts and /proc alike. */
function probeWrite(dir: string, flag: string, given: string): void {
  const probe = join(dir, `.automix-write-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fd: number;
  try {
    fd = openSync(probe, 'wx');
  } catch (e) {
    throw new ConfigError(`--${flag} ${given}: cannot write in ${dir} (${why(e)}); choose a writable location`);
  }
  closeSync(fd);
  unlinkSync(probe);
}

/** Checks (without creating anything) that `dir` is, or can be made, a writable directory. */
export function checkOutDir(dir: string, flag = 'out'): void {
  const { existing, stat, missing } = walkUp(dir, flag, dir);
  if (!stat.isDirectory()) {
    throw new ConfigError(missing.length ? `--${flag} ${dir}: ${existing} is a file, not a directory` : `--${flag} ${dir}: exists and is not a directory`);
  }
  probeWrite(existing, flag, dir);
}

/**
 * Creates `dir` one level at a time (never `mkdir -p`, which loops under /proc) and checks each
 * level is a real directory a file can be written in.
 */
export function makeOutDir(dir: string, flag = 'out'): void {
  const { missing } = walkUp(dir, flag, dir);
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST')
        throw new ConfigError(`--${flag} ${dir}: cannot create ${level} (${why(e)}); choose a location where directories can be made`);
    }
    if (!statOrNull(level)?.isDirectory()) throw new ConfigError(`--${flag} ${dir}: ${level} could not be made a directory`);
  }
  probeWrite(resolve(dir), flag, dir);
}

/**
 * Checks that `--flag file` can be written: its directory exists and takes files, and it is not
 * itself a directory. Used for --json and for the outputs of eval, visualize and plot.
 */
export function checkOutputFile(file: string, flag: string): void {
  const dir = dirname(resolve(file));
  const st = statOrNull(dir);
  if (!st) throw new ConfigError(`--${flag} ${file}: the directory ${dir} does not exist (create it first, or write elsewhere)`);
  if (!st.isDirectory()) throw new ConfigError(`--${flag} ${file}: ${dir} is not a directory`);
  if (statOrNull(resolve(file))?.isDirectory()) throw new ConfigError(`--${flag} ${file}: is a directory; give a file name`);
  probeWrite(dir, flag, file);
}

/** Whether `file` starts with the PNG signature. */
function isPng(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const b = Buffer.alloc(8);
      return readSync(fd, b, 0, 8, 0) === 8 && b.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Checks a picture output (visualize --out, plot --out) before any work: writable, and not an
 * existing file other than a PNG — `plot --json run.json --out run.json` or `--out state.json`
 * would replace a run's record with a picture.
 */
export function checkPngOutput(file: string, flag = 'out'): void {
  checkOutputFile(file, flag);
  if (statOrNull(resolve(file))?.isFile() && !isPng(file)) {
    throw new ConfigError(
      `--${flag} ${file}: exists and is not a PNG; refusing to replace it with a picture (choose another file, e.g. ${file.replace(/\.[^./\\]*$/, '')}.png)`,
    );
  }
}

/** Checks a data output (eval --dump-logits) is not a run's file (state.json, a checkpoint, model.safetensors) or one of `inputs`. */
export function checkNotRunFile(file: string, flag: string, inputs: string[] = []): void {
  checkOutputFile(file, flag);
  const abs = resolve(file);
  if (inputs.some((f) => resolve(f) === abs) || (RUN_FILE.test(basename(abs)) && statOrNull(abs)?.isFile())) {
    throw new ConfigError(
      `--${flag} ${file}: is ${inputs.some((f) => resolve(f) === abs) ? 'an input of this command' : "a training run's file"}; refusing to overwrite it (choose another file)`,
    );
  }
}

/** The files of a previous run in `dir` (state.json, checkpoints, model.safetensors). */
export function runFiles(dir: string): string[] {
  if (!statOrNull(dir)?.isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => RUN_FILE.test(f))
    .sort();
}

/** Everything `automix train` checks before it creates an engine. */
export async function preflight(cfg: TrainConfig, log: (m: string) => void = () => {}): Promise<PreflightReport> {
  // A --json inside --out can be checked only once --out exists; it must not be one of the run's files.
  const jsonInOut = cfg.json !== null && dirname(resolve(cfg.json)) === resolve(cfg.out);
  if (cfg.json && jsonInOut && RUN_FILE.test(basename(cfg.json)))
    throw new ConfigError(`--json ${cfg.json}: is a file of the run in --out; give another name (e.g. ${join(cfg.out, 'run.json')})`);
  checkOutDir(cfg.out);
  if (cfg.json && !jsonInOut) checkOutputFile(cfg.json, 'json');
  if (cfg.json && !cfg.resume && !cfg.force && statOrNull(cfg.json)?.isFile()) {
    throw new ConfigError(
      `--json ${cfg.json} already exists (the record of an earlier run?): pass --force to overwrite it, --resume to continue that run, or choose another file`,
    );
  }
  const data = await loadData(cfg.data, cfg.limitTrain, cfg.limitTest);
  checkModelInput(cfg.model, cfg.method, data.train, data.source);
  const existing = runFiles(cfg.out);
  const stateFile = join(cfg.out, 'state.json');
  let removedRun: string[] = [];
  if (existing.length && !cfg.resume && !cfg.force) {
    throw new ConfigError(
      `--out ${cfg.out} already holds a run (${existing.join(', ')}): pass --resume to continue it, or --force to delete it and start over (or choose another --out)`,
    );
  }
  if (cfg.resume) {
    const st = loadRunState(cfg.out); // a corrupt state.json is named here, before anything starts
    if (st) checkResumeConfig(st.config, cfg, stateFile);
    else if (existing.length) {
      throw new ConfigError(
        `--resume: ${cfg.out} has ${existing.join(', ')} but no state.json to resume from; pass --force instead of --resume to delete them and start over`,
      );
    }
  }
  if (cfg.force && existing.length) {
    for (const f of existing) rmSync(join(cfg.out, f), { force: true });
    removedRun = existing;
    log(`--force: deleted the previous run in ${cfg.out} (${existing.join(', ')})`);
  }
  makeOutDir(cfg.out);
  if (cfg.json && jsonInOut) checkOutputFile(cfg.json, 'json');
  const removedTemp = cfg.resume || cfg.force ? removeStaleTempFiles(cfg.out) : [];
  if (cfg.json && (cfg.resume || cfg.force)) {
    const jdir = dirname(resolve(cfg.json));
    if (jdir !== resolve(cfg.out)) removedTemp.push(...removeStaleTempFiles(jdir, (target) => target === basename(cfg.json!)));
  }
  if (removedTemp.length) log(`removed ${removedTemp.length} temp file(s) of interrupted writes: ${removedTemp.join(', ')}`);
  primeData(cfg.data, cfg.limitTrain, cfg.limitTest, data);
  return { data, removedTemp, removedRun };
}

/** What an interrupted run left: the checkpoint state.json names, or nothing yet. */
export function checkpointNote(out: string): string {
  const st = statOrNull(join(out, 'state.json'));
  return st?.isFile()
    ? `the last checkpoint (${join(out, 'state.json')}) is intact: continue with --resume`
    : `no checkpoint had been written to ${out} yet: rerun to start again`;
}
