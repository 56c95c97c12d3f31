// Random corruptions of valid files, shared by the parser fuzz tests.

import type { Rng } from '../../src/util/rng.js';

/** A random corruption of `bytes`: flips, truncation, extension or a splice of random bytes. */
export function corrupt(bytes: Uint8Array, r: Rng): Uint8Array {
  const kind = r.int(4);
  if (kind === 0 || bytes.length === 0) {
    const out = bytes.slice();
    const flips = 1 + r.int(4);
    for (let i = 0; i < flips && out.length > 0; i++) out[r.int(out.length)] ^= 1 << r.int(8);
    return out;
  }
  if (kind === 1) return bytes.slice(0, r.int(bytes.length));
  if (kind === 2) {
    const extra = new Uint8Array(1 + r.int(16));
    for (let i = 0; i < extra.length; i++) extra[i] = r.int(256);
    const out = new Uint8Array(bytes.length + extra.length);
    out.set(bytes);
    out.set(extra, bytes.length);
    return out;
  }
  const out = bytes.slice();
  const at = r.int(out.length);
  const len = Math.min(out.length - at, 1 + r.int(8));
  for (let i = 0; i < len; i++) out[at + i] = r.int(256);
  return out;
}
