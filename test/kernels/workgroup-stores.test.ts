// No kernel writes part of a vector that lives in workgroup memory. WGSL counts a store to one
// component (`tile[i][e] = v`, `tile[i].x = v`) as an access to the whole vector, and some
// backends compile it to a read-modify-write of all four lanes (Tint's HLSL for FXC), so two
// invocations filling one vec4 race — a race that CPU adapters, which run a workgroup's
// invocations one after another, never show. Every such store must be a whole vector
// (kernels/matmul_tiled_v4.wgsl and kernels/conv2d_igemm.wgsl transpose or gather in registers).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(__dirname, '..', '..', 'kernels');
const files = readdirSync(dir).filter((f) => f.endsWith('.wgsl'));

interface VectorVar {
  name: string;
  /** An array of vectors (`array<vec4f, N>`): an element is a whole vector. */
  array: boolean;
}

/** The `var<workgroup>` variables holding vectors or matrices, alone or in arrays. */
function vectorWorkgroupVars(src: string): VectorVar[] {
  return [...src.matchAll(/var<workgroup>\s+(\w+)\s*:\s*([^;]+);/g)]
    .filter(([, , type]) => /\b(vec\d|mat\d)/.test(type!))
    .map(([, name, type]) => ({ name: name!, array: type!.trim().startsWith('array') }));
}

/** Lines that store to one component of such a variable (`t[i][e] =`, `t[i].x +=`, `v.x =`; not `==`). */
function componentStores(src: string, v: VectorVar): string[] {
  const element = v.array ? '\\[[^\\]]*\\]' : '';
  const re = new RegExp(`\\b${v.name}${element}(\\[[^\\]]*\\]|\\.[xyzwrgba]+)\\s*(=(?!=)|[-+*/]=)`);
  return src
    .replace(/\/\/.*$/gm, '')
    .split('\n')
    .filter((l) => re.test(l))
    .map((l) => l.trim());
}

describe('workgroup memory: whole-vector stores only', () => {
  it('finds the vector workgroup variables it is checking', () => {
    const all = files.flatMap((f) => vectorWorkgroupVars(readFileSync(join(dir, f), 'utf8')).map((v) => `${f}:${v.name}`));
    expect(all).toEqual(expect.arrayContaining(['matmul_tiled_v4.wgsl:tileA', 'matmul_tiled_v4.wgsl:tileB', 'conv2d_igemm.wgsl:tileA']));
  });
  it('the check itself catches a component store', () => {
    const src = 'var<workgroup> t: array<vec4f, 8>;\nt[i][e] = v;\nt[j].x += 1.0;\nt[k] = w;\nlet ok = t[i][e] == 0.0;';
    expect(componentStores(src, { name: 't', array: true })).toEqual(['t[i][e] = v;', 't[j].x += 1.0;']);
    expect(componentStores('c.y = 1.0;\nc = w;', { name: 'c', array: false })).toEqual(['c.y = 1.0;']);
  });
  for (const f of files) {
    it(f, () => {
      const src = readFileSync(join(dir, f), 'utf8');
      const bad = vectorWorkgroupVars(src).flatMap((v) => componentStores(src, v));
      expect(bad, `${f}: component stores into workgroup vectors`).toEqual([]);
    });
  }
});
