/**
 * Host-side inputs and layout conversions shared by the cases (pure).
 * Our engine is NCHW with OIHW filters; TF.js's WebGPU convolutions are NHWC
 * with HWIO filters, so the TF.js side of a case gets transposed copies of the
 * same numbers and its results are transposed back before the comparison.
 */

import { uniformData } from '../src/util/random-data.js';

/** Deterministic uniform values in [lo, hi): the shared helper, with the bench's seed hashing (same values as before). */
export function rand(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  return uniformData(n, Math.imul(seed, 2654435761) >>> 0, lo, hi);
}

/** Integers in [0, k) (class labels). */
export function randInt(n: number, k: number, seed = 1): Int32Array {
  const u = rand(n, seed, 0, 1);
  return Int32Array.from(u, (x) => Math.min(k - 1, Math.floor(x * k)));
}

/** Rows of one-hot (or, with `mix`, two-hot λ/1−λ) targets. */
export function oneHot(labels: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(labels.length * k);
  for (let i = 0; i < labels.length; i++) out[i * k + labels[i]!] = 1;
  return out;
}

/** Generic 4-D permutation: out[dims in `perm` order] of x with shape `shape`. */
export function permute4(
  x: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  perm: readonly [number, number, number, number],
): Float32Array {
  const st = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const os = perm.map((p) => shape[p]!) as [number, number, number, number];
  const out = new Float32Array(x.length);
  let o = 0;
  for (let a = 0; a < os[0]; a++)
    for (let b = 0; b < os[1]; b++)
      for (let c = 0; c < os[2]; c++)
        for (let d = 0; d < os[3]; d++) {
          const idx = [0, 0, 0, 0];
          idx[perm[0]] = a;
          idx[perm[1]] = b;
          idx[perm[2]] = c;
          idx[perm[3]] = d;
          out[o++] = x[idx[0]! * st[0]! + idx[1]! * st[1]! + idx[2]! * st[2]! + idx[3]!]!;
        }
  return out;
}

export const nchwToNhwc = (x: ArrayLike<number>, n: number, c: number, h: number, w: number) => permute4(x, [n, c, h, w], [0, 2, 3, 1]);
export const nhwcToNchw = (x: ArrayLike<number>, n: number, h: number, w: number, c: number) => permute4(x, [n, h, w, c], [0, 3, 1, 2]);
/** Filters [Cout, Cin, kh, kw] → [kh, kw, Cin, Cout]. */
export const oihwToHwio = (x: ArrayLike<number>, o: number, i: number, h: number, w: number) => permute4(x, [o, i, h, w], [2, 3, 1, 0]);
/** Filters [kh, kw, Cin, Cout] → [Cout, Cin, kh, kw]. */
export const hwioToOihw = (x: ArrayLike<number>, h: number, w: number, i: number, o: number) => permute4(x, [h, w, i, o], [3, 2, 0, 1]);
