// safetensors encode/decode: exact format, round-trip, validation errors, and fuzzing.

import { describe, it, expect } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { CheckpointError } from '../../src/io/errors.js';
import { Rng } from '../../src/util/rng.js';
import { corrupt } from '../data/corrupt.js';

function sample() {
  return {
    'conv1.weight': { dtype: 'F32' as const, shape: [2, 3], data: new Float32Array([1.5, -2, 3.25, 0, -0, 1e-30]) },
    step: { dtype: 'I64' as const, shape: [], data: new BigInt64Array([123456789012345n]) },
    'mask.bytes': { dtype: 'U8' as const, shape: [4], data: new Uint8Array([0, 1, 254, 255]) },
    labels: { dtype: 'I32' as const, shape: [2, 2], data: new Int32Array([-1, 2, 2147483647, -2147483648]) },
    empty: { dtype: 'F32' as const, shape: [0, 3], data: new Float32Array(0) },
  };
}

/** Build a file from a literal header object and data bytes (for hand-crafted bad inputs). */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const h = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function checkpointError(fn: () => unknown): CheckpointError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a CheckpointError');
}

describe('safetensors', () => {
  it('round-trips all dtypes, shapes and metadata', () => {
    const t = sample();
    const bytes = encodeSafetensors(t, { format: 'pt', epoch: '3' });
    const { tensors, metadata } = decodeSafetensors(bytes, 'ck.safetensors');
    expect({ ...metadata }).toEqual({ format: 'pt', epoch: '3' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(t).sort());
    for (const [name, src] of Object.entries(t)) {
      const got = tensors[name]!;
      expect(got.dtype).toBe(src.dtype);
      expect(got.shape).toEqual(src.shape);
      expect(got.data.constructor).toBe(src.data.constructor);
      expect(Array.from(got.data as ArrayLike<number | bigint>)).toEqual(Array.from(src.data as ArrayLike<number | bigint>));
    }
    expect(Object.is((tensors['conv1.weight']!.data as Float32Array)[4], -0)).toBe(true);
  });

  it('writes the exact on-disk layout: u64 LE length, space-padded JSON, sorted LE data', () => {
    const bytes = encodeSafetensors({
      b: { dtype: 'I32', shape: [1], data: new Int32Array([0x01020304]) },
      a: { dtype: 'U8', shape: [2], data: new Uint8Array([9, 8]) },
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"I32","shape":[1],"data_offsets":[2,6]}}');
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    expect(Array.from(bytes.subarray(8 + n))).toEqual([9, 8, 4, 3, 2, 1]);
  });

  it('decodes tensors stored in any order with correct offsets, and odd header lengths', () => {
    const data = new Uint8Array([1, 0, 0, 0, 7]);
    const bytes = rawFile({ z: { dtype: 'U8', shape: [1], data_offsets: [4, 5] }, a: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, data);
    const { tensors } = decodeSafetensors(bytes);
    expect(Array.from(tensors['a']!.data as Int32Array)).toEqual([1]);
    expect(Array.from(tensors['z']!.data as Uint8Array)).toEqual([7]);
  });

  it('treats a "__proto__" tensor name as an ordinary key', () => {
    const bytes = rawFile(JSON.parse('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'), new Uint8Array([5]));
    const { tensors } = decodeSafetensors(bytes);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    // biome-ignore lint/suspicious/noProto: the test is that a tensor named __proto__ stays an ordinary key
    expect(Array.from(tensors['__proto__']!.data as Uint8Array)).toEqual([5]);
  });

  it('reports each kind of corruption with the file name', () => {
    const f = 'ck.safetensors';
    const ok = { dtype: 'U8', shape: [2], data_offsets: [0, 2] };
    const two = new Uint8Array([1, 2]);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(5), /file too short: 5 bytes/],
      [
        (() => {
          const b = rawFile({ x: ok }, two);
          b[0] = 200;
          return b;
        })(),
        /header length 2\d\d extends beyond the file/,
      ],
      [
        (() => {
          const b = rawFile({ x: ok }, two);
          b[7] = 1;
          return b;
        })(),
        /extends beyond the file/,
      ],
      [rawFile(null, two, '{"x": nope}'), /header is not valid JSON/],
      [rawFile(null, two, '[1,2]'), /not a JSON object/],
      [rawFile({ x: { ...ok, dtype: 'Q7' } }, two), /tensor "x": unknown dtype "Q7"/],
      [rawFile({ x: { ...ok, dtype: 'F16', shape: [1] } }, two), /unsupported dtype F16/],
      [rawFile({ x: { ...ok, shape: [-2] } }, two), /shape must be an array of non-negative integers/],
      [rawFile({ x: { ...ok, data_offsets: [0, 9] } }, two), /out of bounds \(data section is 2 bytes\)/],
      [rawFile({ x: { ...ok, data_offsets: [2, 0] } }, two), /reversed/],
      [rawFile({ x: { ...ok, shape: [3] } }, two), /span 2 bytes but shape \[3\] of U8 needs more than 2/],
      [rawFile({ x: { ...ok, shape: [2 ** 40, 2 ** 40] } }, two), /needs more than 2/],
      [rawFile({ x: ok, y: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } }, two), /overlap/],
      [rawFile({ x: { ...ok, shape: [1], data_offsets: [1, 2] } }, two), /gap of 1 unused bytes/],
      [rawFile({ x: ok }, new Uint8Array([1, 2, 3])), /trailing garbage: 1 bytes/],
      [rawFile({ __metadata__: { a: 1 }, x: ok }, two), /"__metadata__" value for "a" is not a string/],
      [rawFile({ x: 'nope' }, two), /tensor "x": entry is not an object/],
    ];
    for (const [bytes, re] of cases) {
      const e = checkpointError(() => decodeSafetensors(bytes, f));
      expect(e.message).toMatch(re);
      expect(e.file).toBe(f);
      expect(e.message.startsWith(`${f}: `)).toBe(true);
    }
  });

  it('rejects invalid UTF-8 in the header', () => {
    const b = rawFile({ x: { dtype: 'U8', shape: [0], data_offsets: [0, 0] } });
    b[10] = 0xff;
    expect(checkpointError(() => decodeSafetensors(b, 'u.st')).message).toMatch(/not valid UTF-8/);
  });

  it('refuses to encode mismatched shapes or array types', () => {
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/has 3 elements but data has 2/);
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Int32Array(2) as unknown as Float32Array } })).toThrow(
      /does not match Int32Array/,
    );
  });

  it('fuzz: 300 corruptions give a valid result or CheckpointError, never anything else', () => {
    const valid = encodeSafetensors(sample(), { note: 'fuzz' });
    const r = new Rng(77);
    const deadline = Date.now() + 5000;
    let errors = 0;
    let i = 0;
    for (; i < 300 && Date.now() < deadline; i++) {
      const bad = corrupt(valid, r);
      try {
        const { tensors } = decodeSafetensors(bad, 'fuzz.safetensors');
        for (const t of Object.values(tensors)) {
          expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        }
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw new Error(`iteration ${i}: unexpected ${String(e)}`);
        expect(e.file).toBe('fuzz.safetensors');
        errors++;
      }
    }
    expect(i).toBe(300);
    expect(errors).toBeGreaterThan(150);
  });
});
