// Builders for small synthetic IDX files used by the parser tests.

import { gzipSync } from 'fflate';

/** Bytes of an IDX file with the given magic, big-endian dims and payload. */
export function makeIdx(magic: number, dims: number[], payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

/** A deterministic n x h x w images file (pixel = (i*31 + j) mod 256). */
export function makeImages(n: number, h: number, w: number): Uint8Array {
  const px = new Uint8Array(n * h * w);
  for (let i = 0; i < px.length; i++) px[i] = (i * 31 + 7) & 0xff;
  return makeIdx(0x00000803, [n, h, w], px);
}

/** A labels file with labels i mod numClasses. */
export function makeLabels(n: number, numClasses: number): Uint8Array {
  const l = new Uint8Array(n);
  for (let i = 0; i < n; i++) l[i] = i % numClasses;
  return makeIdx(0x00000801, [n], l);
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes);
}
