/**
 * What a captured step did on the GPU, command by command: each dispatch's
 * pipeline, storage bindings, uniform bytes and grid, and the copies and
 * clears between them. `Engine.capture` fills one while the step runs
 * eagerly; a `ReplayPlan` built from it re-issues the same commands later
 * without running the step's JavaScript.
 */
import type { ParamsLayout } from '../kernels/reflect.js';

export interface StorageBinding {
  binding: number;
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export interface DispatchCommand {
  kind: 'dispatch';
  label: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  storage: StorageBinding[];
  /** The `Params` uniform: its binding, packed bytes and layout (to name a field in messages). */
  uniform: { binding: number; bytes: Uint8Array; layout: ParamsLayout } | null;
  workgroups: [number, number, number];
}

export interface CopyCommand {
  kind: 'copy';
  src: GPUBuffer;
  srcOffset: number;
  dst: GPUBuffer;
  dstOffset: number;
  bytes: number;
}

export interface ClearCommand {
  kind: 'clear';
  buffer: GPUBuffer;
  offset: number;
  bytes: number;
}

export type Command = DispatchCommand | CopyCommand | ClearCommand;

export interface Recording {
  commands: Command[];
  /** Buffers the pool handed out while the step ran (its intermediates and outputs). */
  acquired: Set<GPUBuffer>;
}

/** Every buffer a command reads or writes, in order of first use. */
export function buffersOf(commands: readonly Command[]): GPUBuffer[] {
  const seen = new Set<GPUBuffer>();
  for (const c of commands) {
    if (c.kind === 'dispatch') for (const s of c.storage) seen.add(s.buffer);
    else if (c.kind === 'copy') {
      seen.add(c.src);
      seen.add(c.dst);
    } else seen.add(c.buffer);
  }
  return [...seen];
}

function describe(c: Command): string {
  return c.kind === 'dispatch' ? c.label : c.kind;
}

/** The uniform field at a byte offset, for messages. */
function fieldAt(layout: ParamsLayout, byte: number): string {
  let best = layout.fields[0];
  for (const f of layout.fields) if (f.offset <= byte) best = f;
  return best ? `Params.${best.name}` : `byte ${byte}`;
}

/**
 * Why two recordings of the same step would not replay as one plan, or null
 * when they agree: the same commands, kernels, grids and uniform bytes, the
 * same external buffers, and the step's own buffers used in the same pattern
 * (each identified by the order of its first use, so where a buffer is
 * reused matters but which pooled buffer it was does not).
 */
export function recordingMismatch(a: Recording, b: Recording): string | null {
  if (a.commands.length !== b.commands.length) {
    return `the two recorded steps issued ${a.commands.length} and ${b.commands.length} commands: the step's work depends on per-step values`;
  }
  const ids = (r: Recording) => {
    const m = new Map<GPUBuffer, number>();
    return (buf: GPUBuffer): GPUBuffer | number => {
      if (!r.acquired.has(buf)) return buf;
      let id = m.get(buf);
      if (id === undefined) m.set(buf, (id = m.size));
      return id;
    };
  };
  const ia = ids(a);
  const ib = ids(b);
  for (let i = 0; i < a.commands.length; i++) {
    const x = a.commands[i]!;
    const y = b.commands[i]!;
    const where = `command ${i} (${describe(x)})`;
    if (x.kind !== y.kind) return `${where}: ${x.kind} in one step, ${y.kind} in the other`;
    if (x.kind === 'dispatch' && y.kind === 'dispatch') {
      if (x.pipeline !== y.pipeline || x.label !== y.label) return `${where}: a different kernel (${y.label}) in the other step`;
      if (x.workgroups.some((n, k) => n !== y.workgroups[k])) return `${where}: grid ${x.workgroups.join('×')} vs ${y.workgroups.join('×')}`;
      if (x.storage.length !== y.storage.length) return `${where}: different bindings`;
      for (let k = 0; k < x.storage.length; k++) {
        const s = x.storage[k]!;
        const t = y.storage[k]!;
        if (s.binding !== t.binding || s.offset !== t.offset || s.size !== t.size || ia(s.buffer) !== ib(t.buffer)) {
          return `${where}: binding ${s.binding} refers to different memory in the two steps`;
        }
      }
      const ux = x.uniform?.bytes;
      const uy = y.uniform?.bytes;
      if (ux && uy) {
        for (let k = 0; k < ux.length; k++) {
          if (ux[k] !== uy[k]) {
            return `${where}: uniform ${fieldAt(x.uniform!.layout, k)} differs between steps — a per-step value passed as a number; pass it as a tensor`;
          }
        }
      } else if (ux || uy) return `${where}: uniform present in one step only`;
    } else if (x.kind === 'copy' && y.kind === 'copy') {
      if (x.bytes !== y.bytes || x.srcOffset !== y.srcOffset || x.dstOffset !== y.dstOffset || ia(x.src) !== ib(y.src) || ia(x.dst) !== ib(y.dst)) {
        return `${where}: copies different memory in the two steps`;
      }
    } else if (x.kind === 'clear' && y.kind === 'clear') {
      if (x.bytes !== y.bytes || x.offset !== y.offset || ia(x.buffer) !== ib(y.buffer)) return `${where}: clears different memory in the two steps`;
    }
  }
  return null;
}
