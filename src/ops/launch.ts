/** Small helpers shared by op launchers. */
import type { Engine } from '../engine.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';

/** Threads per workgroup of the flat kernels (one item per thread) where the device allows it. */
export const WG = 256;

/** Number of `wg`-sized workgroups for n items (the engine folds large grids). */
export function groups(n: number, wg: number): number {
  return Math.ceil(n / wg);
}

/**
 * The largest power of two ≤ `preferred` that a workgroup of this engine's device may have.
 * WebGPU guarantees 256 invocations, compatibility-mode devices only 128
 * (`maxComputeInvocationsPerWorkgroup`, `maxComputeWorkgroupSizeX`).
 */
export function fitWg(e: Engine, preferred: number = WG): number {
  let wg = 1;
  while (wg * 2 <= Math.min(preferred, e.maxWorkgroupSize)) wg *= 2;
  return wg;
}

/**
 * A flat kernel's launch over n items, one per thread: its workgroups, and its WG constant where
 * the device cannot take the kernels' own 256 (so a core device builds the same pipelines as
 * ever, and a compatibility-mode device gets workgroups of 128).
 */
export function flat(e: Engine, n: number): { constants: Record<string, number>; workgroups: number } {
  return withFlat(e, n, {});
}

/** `flat` beside the kernel's other override constants. */
export function withFlat(e: Engine, n: number, constants: Record<string, number>): { constants: Record<string, number>; workgroups: number } {
  const wg = fitWg(e);
  return { constants: wg === WG ? constants : { ...constants, WG: wg }, workgroups: groups(n, wg) };
}

/** Splits up to 8 dims into the (lo, hi) vec4u pair the WGSL Params use. */
export function vec8(v: readonly number[]): [number[], number[]] {
  const a = [...v, 0, 0, 0, 0, 0, 0, 0, 0].slice(0, 8);
  return [a.slice(0, 4), a.slice(4, 8)];
}

export function assertF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'f32') throw new ShapeError(`${op}: expected an f32 tensor, got ${t.dtype} ${fmtShape(t.shape)}`);
}

export function sameEngine(op: string, ...ts: Tensor[]): Engine {
  const e = ts[0]!.engine;
  for (const t of ts) if (t.engine !== e) throw new ShapeError(`${op}: tensors belong to different engines`);
  return e;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** NumPy broadcasting of two shapes; throws a ShapeError naming both. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` read as if broadcast to `out` (0 on broadcast dims). */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const st = strides(shape);
  const off = out.length - shape.length;
  return out.map((d, i) => {
    const j = i - off;
    if (j < 0) return 0;
    return shape[j] === 1 && d !== 1 ? 0 : st[j]!;
  });
}

/**
 * A GPU's order of output tiles ([rows, cols, …]): those giving at least `busy` workgroups
 * first, largest first (more work per workgroup); then the rest, most workgroups first (a small
 * output on large tiles would leave most of the GPU idle), larger on a tie. `size` measures a
 * tile (default: its rows × cols).
 */
export function rankGpuTiles<T extends readonly number[]>(
  tiles: readonly T[],
  workgroups: (t: T) => number,
  busy: number,
  size: (t: T) => number = (t) => t[0]! * t[1]!,
): T[] {
  return [...tiles].sort((x, y) => {
    const bx = workgroups(x) >= busy;
    const by = workgroups(y) >= busy;
    if (bx !== by) return bx ? -1 : 1;
    return (bx ? 0 : workgroups(y) - workgroups(x)) || size(y) - size(x);
  });
}
