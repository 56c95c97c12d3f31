// Encode/decode the safetensors format (https://github.com/huggingface/safetensors)
// used for checkpoints, so weights can be inspected or loaded by other tools.
//
// Layout: u64 little-endian header length N, then N bytes of UTF-8 JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
// padded with spaces so the data section starts 8-byte aligned, then the raw
// little-endian tensor data. Offsets are relative to the start of the data section.
// Decoding trusts nothing: every size is checked against the file before use.

import { CheckpointError } from './errors.js';

/** Element types this project stores. */
export type SafetensorsDType = 'F32' | 'I64' | 'U8' | 'I32';

/** Typed array matching each dtype. */
export interface DTypeArrays {
  F32: Float32Array;
  I64: BigInt64Array;
  U8: Uint8Array;
  I32: Int32Array;
}

/** One tensor to encode / as decoded. */
export type SafeTensor = {
  [D in SafetensorsDType]: { dtype: D; shape: number[]; data: DTypeArrays[D] };
}[SafetensorsDType];

/** Result of {@link decodeSafetensors}. */
export interface DecodedSafetensors {
  /** Tensors by name (null-prototype object: any name, even "__proto__", is a plain key). */
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

const DTYPE_SIZE: Record<SafetensorsDType, number> = { F32: 4, I64: 8, U8: 1, I32: 4 };
/** Dtypes of the format that this project does not load; named in errors as "unsupported" rather than "unknown". */
const OTHER_KNOWN_DTYPES = new Set(['BOOL', 'I8', 'I16', 'U16', 'U32', 'U64', 'F16', 'BF16', 'F64', 'F8_E4M3', 'F8_E5M2']);
/** Same limit as the reference implementation; guards against absurd allocations. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.hasOwn(DTYPE_SIZE, s);
}

function arrayMatches(dtype: SafetensorsDType, data: unknown): boolean {
  switch (dtype) {
    case 'F32':
      return data instanceof Float32Array;
    case 'I64':
      return data instanceof BigInt64Array;
    case 'U8':
      return data instanceof Uint8Array;
    case 'I32':
      return data instanceof Int32Array;
  }
}

/** Raw bytes of a typed array in little-endian order. */
function littleEndianBytes(data: SafeTensor['data']): Uint8Array {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST || data.BYTES_PER_ELEMENT === 1) return raw;
  const out = new Uint8Array(raw.length);
  const k = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < raw.length; i += k) for (let j = 0; j < k; j++) out[i + j] = raw[i + k - 1 - j]!;
  return out;
}

/**
 * Serialise tensors (written in sorted-name order) and optional string metadata to safetensors bytes.
 * @throws TypeError/RangeError on programmer errors (shape does not match data length, wrong array type, bad names).
 */
export function encodeSafetensors(
  tensors: Record<string, SafeTensor | { dtype: SafetensorsDType; shape: number[]; data: SafeTensor['data'] }>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors metadata value for "${k}" must be a string`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const name of names) {
    if (name === METADATA_KEY) throw new RangeError(`tensor name "${METADATA_KEY}" is reserved`);
    const t = tensors[name]!;
    if (!isDType(t.dtype)) throw new TypeError(`tensor "${name}": unsupported dtype ${String(t.dtype)}`);
    if (!arrayMatches(t.dtype, t.data)) {
      throw new TypeError(`tensor "${name}": dtype ${t.dtype} does not match ${t.data.constructor.name}`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new RangeError(`tensor "${name}": shape must be non-negative integers, got ${JSON.stringify(t.shape)}`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(`tensor "${name}": shape ${JSON.stringify(t.shape)} has ${count} elements but data has ${t.data.length}`);
    }
    const bytes = littleEndianBytes(t.data);
    // Object.defineProperty so a name like "__proto__" becomes an ordinary JSON key.
    Object.defineProperty(header, name, {
      value: { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  let headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    json += ' '.repeat(padded - headerBytes.length);
    headerBytes = new TextEncoder().encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Where a decoded tensor's data came from: the file, its name there and its declared shape. */
export interface TensorOrigin {
  file: string;
  name: string;
  shape: readonly number[];
}

const ORIGINS = new WeakMap<object, TensorOrigin>();

/**
 * The file, name and declared shape of an array returned by {@link decodeSafetensors}, so a
 * loader handed only the values (a `Map<string, Float32Array>`) can still check the shape the
 * file declares, not just the element count: `[64, 10]` and `[10, 64]` hold the same 640 floats.
 */
export function tensorOrigin(data: object): TensorOrigin | undefined {
  return ORIGINS.get(data);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copy `len` bytes at `start` into a fresh, aligned typed array of `dtype`, converting from little-endian. */
function readTensorData(bytes: Uint8Array, start: number, len: number, dtype: SafetensorsDType): SafeTensor['data'] {
  const copy = bytes.slice(start, start + len); // fresh buffer: aligned and detached from the file bytes
  const k = DTYPE_SIZE[dtype];
  if (!LITTLE_ENDIAN_HOST && k > 1) {
    for (let i = 0; i < copy.length; i += k) copy.subarray(i, i + k).reverse();
  }
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer, 0, len / 4);
    case 'I64':
      return new BigInt64Array(copy.buffer, 0, len / 8);
    case 'U8':
      return copy;
    case 'I32':
      return new Int32Array(copy.buffer, 0, len / 4);
  }
}

/**
 * Parse and validate safetensors bytes. Tensor data is copied out, so `bytes` may be reused.
 * @param fileName used in error messages.
 * @throws CheckpointError naming the file and the problem: file too short, header length beyond
 *   the file, header not UTF-8/JSON, bad entries, unknown/unsupported dtype, offsets out of bounds,
 *   overlapping or leaving gaps, size not matching shape x dtype, or trailing bytes.
 */
export function decodeSafetensors(bytes: Uint8Array, fileName = '<safetensors>'): DecodedSafetensors {
  const fail = (problem: string): never => {
    throw new CheckpointError(fileName, problem);
  };
  if (bytes.length < 8) fail(`file too short: ${bytes.length} bytes, need at least 8 for the header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 4294967296 + lo; // exact while hi < 2^21; larger values fail the bound checks anyway
  if (headerLen > bytes.length - 8) {
    fail(`header length ${headerLen} extends beyond the file (${bytes.length - 8} bytes after the length field)`);
  }
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLen < 2) fail(`header length ${headerLen} is too small to hold a JSON object`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header is not a JSON object (starts with ${JSON.stringify(text.slice(0, 16))})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isPlainObject(parsed)) return fail('header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];

  for (const name of Object.keys(parsed)) {
    const entry = parsed[name];
    if (name === METADATA_KEY) {
      if (!isPlainObject(entry)) fail(`"${METADATA_KEY}" must be an object of strings`);
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"${METADATA_KEY}" value for "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (!isPlainObject(entry)) return fail(`${where}: entry is not an object`);
    const { dtype, shape, data_offsets: offs } = entry;
    if (typeof dtype !== 'string') return fail(`${where}: missing or non-string dtype`);
    if (!isDType(dtype)) {
      return fail(
        OTHER_KNOWN_DTYPES.has(dtype)
          ? `${where}: unsupported dtype ${dtype} (this loader reads F32, I64, I32, U8)`
          : `${where}: unknown dtype ${JSON.stringify(dtype)}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isSafeInteger(d) && (d as number) >= 0)) {
      return fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o): o is number => Number.isSafeInteger(o) && (o as number) >= 0)) {
      return fail(`${where}: data_offsets must be two non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] out of bounds (data section is ${dataLen} bytes)`);
    // Multiply step by step, stopping early, so huge shapes cannot overflow into a matching size.
    let expected = DTYPE_SIZE[dtype];
    for (const d of shape as number[]) {
      expected *= d;
      if (expected > dataLen) break;
    }
    if (expected !== end - begin) {
      fail(
        `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ${JSON.stringify(shape)} of ${dtype} needs ${
          expected > dataLen ? `more than ${dataLen}` : expected
        }`,
      );
    }
    entries.push({ name, dtype, shape: [...(shape as number[])], begin, end });
  }

  // The data section must be tiled exactly: sorted by begin, no overlaps, no gaps, nothing after.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) fail(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap another tensor (which ends at ${cursor})`);
    if (e.begin > cursor) fail(`tensor "${e.name}": gap of ${e.begin - cursor} unused bytes before its data at offset ${e.begin}`);
    cursor = e.end;
  }
  if (cursor !== dataLen) fail(`trailing garbage: ${dataLen - cursor} bytes after the last tensor's data`);

  const tensors: Record<string, SafeTensor> = Object.create(null) as Record<string, SafeTensor>;
  for (const e of entries) {
    const data = readTensorData(bytes, dataStart + e.begin, e.end - e.begin, e.dtype);
    ORIGINS.set(data, { file: fileName, name: e.name, shape: Object.freeze([...e.shape]) });
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data } as SafeTensor;
  }
  return { tensors, metadata };
}
