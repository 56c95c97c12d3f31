/**
 * Checkpoints: every tensor of the run (online model, momentum model, Mix
 * Block, optimiser state) in one safetensors file, and a small state.json
 * pointing at it. Both are written atomically, the JSON last, so a run killed
 * at any moment leaves state.json naming an intact checkpoint.
 * `model.safetensors` holds just the online network under PyTorch's names.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { CheckpointError } from '../io/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { Tensor } from '../tensor/tensor.js';

export interface RunState {
  version: 1;
  checkpoint: string;
  /** Epoch and batch index of the next step to run. */
  epoch: number;
  index: number;
  step: number;
  config: Record<string, unknown>;
  epochs: unknown[];
  /** Running tallies of the epoch in progress when the checkpoint was taken mid-epoch, so a
   * resumed run's record of that epoch (loss, time, images/s) covers the whole epoch. */
  partial?: EpochTally;
}

/** What an epoch sums up as it runs; `seconds` is training time, not wall time across a stop. */
export interface EpochTally {
  seconds: number;
  lossSum: number;
  seen: number;
  steps: number;
  sums: Record<string, number>;
  maskSum: number;
  lamSum: number;
  emaM: number;
  /** The adapters the epoch has trained on so far (absent in checkpoints written before it was kept). */
  adapters?: string[];
  /** Sums of other per-step statistics (AutoMix's mask spread), by name. */
  stats?: Record<string, number>;
}

export type TensorMap = Map<string, Float32Array>;

/** Reads a set of GPU tensors to the host by name. */
export async function readTensors(named: Record<string, Tensor>): Promise<TensorMap> {
  const out: TensorMap = new Map();
  for (const [k, t] of Object.entries(named)) out.set(k, await t.read());
  return out;
}

export function encodeTensorMap(m: TensorMap, shapes: Map<string, readonly number[]>, metadata: Record<string, string>): Uint8Array {
  const rec: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of m) rec[k] = { dtype: 'F32', shape: [...(shapes.get(k) ?? [v.length])], data: v };
  return encodeSafetensors(rec, metadata);
}

export function decodeTensorFile(file: string): { tensors: TensorMap; metadata: Record<string, string> } {
  if (!existsSync(file)) throw new CheckpointError(file, 'checkpoint file not found');
  const d = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
  const tensors: TensorMap = new Map();
  for (const [k, t] of Object.entries(d.tensors)) {
    if (t.dtype !== 'F32') throw new CheckpointError(file, `tensor '${k}' has dtype ${t.dtype}; expected F32`);
    tensors.set(k, t.data as Float32Array);
  }
  // Optimiser state has its parameter's shape (the parameters themselves are checked against
  // the model when loaded; the optimiser's loader sees only element counts).
  for (const [k, t] of Object.entries(d.tensors)) {
    const m = /^optimizer\.(.+)\.(momentum_buffer|exp_avg|exp_avg_sq)$/.exec(k);
    const p = m ? d.tensors[m[1]!] : undefined;
    if (p && (p.shape.length !== t.shape.length || p.shape.some((n, i) => n !== t.shape[i]))) {
      throw new CheckpointError(file, `tensor '${k}' is declared [${t.shape.join(', ')}], but its parameter '${m![1]}' is [${p.shape.join(', ')}]`);
    }
  }
  return { tensors, metadata: d.metadata ?? {} };
}

/**
 * Test hook (robustness tests): AUTOMIX_TEST_KILL_IN_CHECKPOINT=n kills the
 * process with SIGKILL in the middle of the n-th checkpoint write, after the
 * data went to the temp file and before the rename.
 */
let checkpointWrites = 0;
function killHook(): { beforeRename?: () => void } {
  const n = Number(process.env.AUTOMIX_TEST_KILL_IN_CHECKPOINT ?? 0);
  checkpointWrites++;
  if (n > 0 && checkpointWrites === n) return { beforeRename: () => void process.kill(process.pid, 'SIGKILL') };
  return {};
}

export async function saveCheckpoint(
  dir: string,
  step: number,
  bytes: Uint8Array,
  state: Omit<RunState, 'checkpoint' | 'version'>,
  keep: number,
): Promise<string> {
  const name = `ckpt-${String(step).padStart(8, '0')}.safetensors`;
  await writeFileAtomic(join(dir, name), bytes, killHook());
  const full: RunState = { version: 1, checkpoint: name, ...state };
  await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(full, null, 1));
  // Keep the newest `keep` checkpoints; never the one state.json names.
  const all = readdirSync(dir)
    .filter((f) => /^ckpt-\d+\.safetensors$/.test(f))
    .sort();
  for (const f of all.slice(0, Math.max(0, all.length - keep))) if (f !== name) rmSync(join(dir, f), { force: true });
  return name;
}

export function loadRunState(dir: string): RunState | null {
  const f = join(dir, 'state.json');
  if (!existsSync(f)) return null;
  let s: RunState;
  try {
    s = JSON.parse(readFileSync(f, 'utf8')) as RunState;
  } catch (e) {
    throw new CheckpointError(f, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    throw new CheckpointError(
      f,
      `holds ${s === null ? 'null' : Array.isArray(s) ? 'an array' : typeof s}, not an automix run state (an object with version, checkpoint, step, config)`,
    );
  }
  if (s.version !== 1 || typeof s.checkpoint !== 'string' || !Number.isInteger(s.step)) throw new CheckpointError(f, 'not an automix-webgpu run state');
  if (typeof s.config !== 'object' || s.config === null || !Array.isArray(s.epochs))
    throw new CheckpointError(f, 'not an automix-webgpu run state (no config or epochs)');
  return s;
}

/** The temp files of `writeFileAtomic` (`<name>.tmp-<pid>-<hex>`) for checkpoints and JSON. */
const TEMP_FILE = /^(.+\.(?:safetensors|json))\.tmp-(\d+)-[0-9a-f]+$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes the temp files that writes killed midway left in `dir` (`ckpt-….safetensors.tmp-PID-hex`,
 * `state.json.tmp-PID-hex`, …): the atomic write never renamed them, so nothing refers to them.
 * Files of a process still running (another writer) are left alone; `only` limits the removal to
 * temp files of some targets. Returns the names removed.
 */
export function removeStaleTempFiles(dir: string, only?: (target: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = TEMP_FILE.exec(f);
    if (!m || (only && !only(m[1]!)) || processAlive(Number(m[2]))) continue;
    rmSync(join(dir, f), { force: true });
    removed.push(f);
  }
  return removed;
}
