/**
 * Helpers shared by the optimisers: layout checks, the per-step scalar
 * (`hyper`) and `gate` buffers, and the optim dispatch.
 */
import { ShapeError } from '../device/errors.js';
import type { ParamSet } from '../nn/params.js';
import { fmtShape } from '../tensor/tensor.js';
import { createArena, type Arena } from '../tensor/arena.js';
import { flat } from '../ops/launch.js';
import type { Tensor } from '../tensor/tensor.js';

/** The WGSL family of every optimiser / EMA kernel (profiling labels are `optim:<entry>`). */
export const OPTIM_FAMILY = 'optim';

/** Why two ParamSets do not share one arena layout, or null when they do. */
export function layoutMismatch(a: ParamSet, b: ParamSet): string | null {
  if (a.params.length !== b.params.length) return `${a.params.length} vs ${b.params.length} parameters`;
  for (let i = 0; i < a.params.length; i++) {
    const sa = a.params[i]!.shape;
    const sb = b.params[i]!.shape;
    if (sa.length !== sb.length || sa.some((d, k) => d !== sb[k])) {
      return `parameter ${i} ('${a.names[i]}' ${fmtShape(sa)} vs '${b.names[i]}' ${fmtShape(sb)})`;
    }
  }
  if (a.flat.size !== b.flat.size) return `arena sizes ${a.flat.size} vs ${b.flat.size}`;
  return null;
}

/** A zero-filled arena with the same layout as `set` (optimiser state). */
export function stateArena(set: ParamSet, label: string): Arena {
  return createArena(
    set.engine,
    set.params.map((p) => p.shape),
    label,
  );
}

type Engine = ParamSet['engine'];

/**
 * A persistent f32 tensor of `k` per-step scalars (an optimiser group's
 * `hyper` buffer). It belongs to whoever allocates it, not to any scope:
 * dispose it explicitly.
 */
export function hyperTensor(engine: Engine, k: number, label: string): Tensor {
  return engine.untrack(engine.empty([k], 'f32', label));
}

const onesGates = new WeakMap<Engine, GPUBuffer>();

/**
 * The gate bound when the caller gives none: [1, 1] (apply, gradient scale
 * 1), one constant buffer per engine. It is a plain GPUBuffer rather than a
 * tensor so that it is not a live tensor or pool allocation of anyone's; it
 * goes with the device when the engine is destroyed.
 */
export function onesGate(engine: Engine): GPUBuffer {
  let b = onesGates.get(engine);
  if (!b) {
    // Usage: STORAGE | COPY_DST (the WebGPU flag values, as in engine.ts).
    b = engine.ctx.device.createBuffer({ size: 16, usage: 0x80 | 0x08, mappedAtCreation: true, label: 'optim.gate_ones' });
    new Float32Array(b.getMappedRange()).set([1, 1, 1, 1]);
    b.unmap();
    onesGates.set(engine, b);
  }
  return b;
}

/** The gate to bind: `gate` after checking it, or the engine's constant [1, 1]. */
export function gateBinding(who: string, engine: Engine, gate: Tensor | undefined): Tensor | GPUBuffer {
  if (gate === undefined) return onesGate(engine);
  checkSmall(who, 'gate', engine, gate, 2, '[apply, grad_scale]');
  return gate;
}

/** Checks a small f32 scalar tensor (a gate or a caller-given `hyper`). */
export function checkSmall(who: string, name: string, engine: Engine, t: Tensor, size: number, what: string): void {
  if (t.engine !== engine) throw new ShapeError(`${who}: the ${name} tensor belongs to another engine`);
  if (t.dtype !== 'f32' || t.size !== size) {
    throw new ShapeError(`${who}: the ${name} tensor must be ${size} f32 values ${what}, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
}

/**
 * One dispatch of `optim:<entry>` over `n` flat floats. The kernels work on
 * vec4s; arenas are multiples of 64 floats, so `n` always divides by 4.
 * `bind` includes the entry's `hyper` and `gate` buffers; `params` holds only
 * values that do not change from step to step (see kernels/optim.wgsl).
 */
export function runOptim(engine: Engine, entry: string, n: number, bind: Record<string, Tensor | GPUBuffer>, params: Record<string, number>): void {
  if (n % 4 !== 0) throw new ShapeError(`optim:${entry}: ${n} elements is not a multiple of 4 (expected an arena)`);
  const n4 = n / 4;
  engine.run(OPTIM_FAMILY, entry, { bind, params: { n: n4, ...params }, ...flat(engine, n4) });
}

/** Checks a host state array against the parameter it belongs to. */
export function checkStateValue(who: string, key: string, v: Float32Array, p: Tensor): void {
  if (v.length !== p.size) throw new ShapeError(`${who}.loadState: '${key}' has ${v.length} values, the parameter has ${p.size} ${fmtShape(p.shape)}`);
}

export function checkHyper(who: string, name: string, v: number, ok: (v: number) => boolean, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new RangeError(`${who}: invalid ${name} ${v} (expected ${what})`);
}

export function checkDistinct(who: string, sets: ParamSet[]): void {
  if (sets.length === 0) throw new RangeError(`${who}: no parameter groups`);
  if (new Set(sets).size !== sets.length) throw new RangeError(`${who}: a ParamSet appears in more than one parameter group`);
}
