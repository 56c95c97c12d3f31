// Pure parsing of IDX files (the MNIST / Fashion-MNIST container format) from
// bytes, gzip-compressed or not. No Node APIs here, so a browser can reuse it
// on fetched ArrayBuffers; fashion-mnist.ts does the file-system side.
//
// Format: 4-byte magic (0, 0, type code, number of dims), then one big-endian
// uint32 per dim, then the data. Only unsigned-byte data (type 0x08) is used.

import { gunzipSync } from 'fflate';
import { DatasetError } from './errors.js';
import type { ImageDataset } from './dataset.js';

/** Magic number of a 3-D unsigned-byte IDX file (images: N x H x W). */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of a 1-D unsigned-byte IDX file (labels: N). */
export const IDX_LABELS_MAGIC = 0x00000801;

/** DEFLATE cannot expand data by more than ~1032x; a larger claimed size means a corrupt trailer. */
const MAX_DEFLATE_RATIO = 1032;

/** Parsed IDX contents: dimensions and a view of the raw data bytes. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** True if `bytes` starts with the gzip signature 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE) as used by the gzip trailer; fflate does not verify it for us. */
function crc32(data: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Decompress `bytes` if they are gzip (signature 1f 8b), else return them unchanged.
 * The gzip trailer (CRC-32 and length) is checked, so corruption is reported here
 * as "corrupt gzip" instead of surfacing later as a confusing format error.
 * @throws DatasetError naming `file` when the gzip stream is damaged.
 */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  if (bytes.length < 18) throw new DatasetError(file, `corrupt gzip data: only ${bytes.length} bytes (a gzip stream needs at least 18)`);
  const n = bytes.length;
  const expectedCrc = (bytes[n - 8]! | (bytes[n - 7]! << 8) | (bytes[n - 6]! << 16) | (bytes[n - 5]! << 24)) >>> 0;
  const expectedLen = (bytes[n - 4]! | (bytes[n - 3]! << 8) | (bytes[n - 2]! << 16) | (bytes[n - 1]! << 24)) >>> 0;
  // fflate allocates the trailer's claimed size up front; refuse impossible sizes
  // so a flipped trailer byte cannot make us allocate gigabytes.
  if (expectedLen > n * MAX_DEFLATE_RATIO) {
    throw new DatasetError(file, `corrupt gzip data: trailer claims ${expectedLen} uncompressed bytes from ${n} compressed bytes`);
  }
  let out: Uint8Array;
  try {
    out = gunzipSync(bytes, { out: new Uint8Array(expectedLen) });
  } catch (e) {
    throw new DatasetError(file, `corrupt gzip data: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (out.length !== expectedLen) {
    throw new DatasetError(file, `corrupt gzip data: decompressed ${out.length} bytes but the trailer says ${expectedLen}`);
  }
  const crc = crc32(out);
  if (crc !== expectedCrc) {
    throw new DatasetError(file, `corrupt gzip data: CRC-32 mismatch (stored ${hex32(expectedCrc)}, computed ${hex32(crc)})`);
  }
  return out;
}

/**
 * Parse an (already decompressed) unsigned-byte IDX file with the given magic number.
 * The returned `data` is a view into `bytes` (no copy).
 * @throws DatasetError naming `file`: wrong magic (expected vs found, in hex) or truncated/oversized data.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedMagic: number): IdxArray {
  if (bytes.length < 4) {
    throw new DatasetError(file, `truncated IDX file: expected at least 4 bytes of header, found ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw new DatasetError(
      file,
      `wrong magic number: expected ${hex32(expectedMagic)} (${describeMagic(expectedMagic)}), found ${hex32(magic)}` +
        (isGzip(bytes) ? ' (data is still gzip-compressed?)' : ''),
    );
  }
  const ndims = magic & 0xff;
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) {
    throw new DatasetError(file, `truncated IDX file: expected ${headerLen} header bytes, found ${bytes.length}`);
  }
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d; // at most (2^32)^3 < 2^97: may lose precision but never wraps, fine for comparisons
  }
  const expected = headerLen + count;
  if (bytes.length < expected) {
    throw new DatasetError(file, `truncated IDX file: expected ${expected} bytes (header + ${dims.join('x')} data), found ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new DatasetError(
      file,
      `IDX file too long: expected ${expected} bytes (header + ${dims.join('x')} data), found ${bytes.length} (${bytes.length - expected} unexpected trailing bytes)`,
    );
  }
  return { dims, data: bytes.subarray(headerLen, expected) };
}

function describeMagic(magic: number): string {
  if (magic === IDX_IMAGES_MAGIC) return 'unsigned-byte 3-D images';
  if (magic === IDX_LABELS_MAGIC) return 'unsigned-byte 1-D labels';
  return 'IDX';
}

/** Options for {@link idxToDataset}. */
export interface IdxDatasetOptions {
  imagesFile: string;
  labelsFile: string;
  name: string;
  numClasses: number;
  mean: number[];
  std: number[];
}

/**
 * Build a single-channel {@link ImageDataset} from the bytes of an IDX images file and
 * an IDX labels file (each optionally gzipped).
 * @throws DatasetError naming the offending file: corrupt gzip, wrong magic, truncation,
 *   image/label count mismatch, or a label >= numClasses.
 */
export function idxToDataset(imagesBytes: Uint8Array, labelsBytes: Uint8Array, opts: IdxDatasetOptions): ImageDataset {
  const images = parseIdx(maybeGunzip(imagesBytes, opts.imagesFile), opts.imagesFile, IDX_IMAGES_MAGIC);
  const labels = parseIdx(maybeGunzip(labelsBytes, opts.labelsFile), opts.labelsFile, IDX_LABELS_MAGIC);
  const [n, h, w] = images.dims as [number, number, number];
  const nLabels = labels.dims[0]!;
  if (nLabels !== n) {
    throw new DatasetError(opts.labelsFile, `label/image count mismatch: ${nLabels} labels but ${opts.imagesFile} has ${n} images`);
  }
  for (let i = 0; i < nLabels; i++) {
    const l = labels.data[i]!;
    if (l >= opts.numClasses) {
      throw new DatasetError(
        opts.labelsFile,
        `label out of range: label ${l} at index ${i} but there are only ${opts.numClasses} classes (0..${opts.numClasses - 1})`,
      );
    }
  }
  return {
    images: images.data,
    labels: labels.data,
    n,
    c: 1,
    h,
    w,
    numClasses: opts.numClasses,
    name: opts.name,
    mean: [...opts.mean],
    std: [...opts.std],
    file: opts.imagesFile,
  };
}
