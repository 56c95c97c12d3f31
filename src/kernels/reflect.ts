/**
 * Reads a kernel's interface from its WGSL with wgsl_reflect: which buffers it
 * binds (name, binding, read or read-write, uniform), the byte layout of its
 * uniform `Params` struct, its workgroup size and its override constants.
 * Nothing here is written down by hand a second time.
 */
import { ResourceType, WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import type { MemberInfo } from 'wgsl_reflect';
import { KernelError } from '../device/errors.js';

export type BindingKind = 'uniform' | 'storage' | 'read-only-storage';

export interface BindingInfo {
  name: string;
  binding: number;
  kind: BindingKind;
}

export type ScalarType = 'u32' | 'i32' | 'f32';

export interface ParamField {
  name: string;
  offset: number;
  type: ScalarType;
  /** 1 for scalars, 2..4 for vectors, N for fixed arrays of scalars. */
  count: number;
  /** Byte stride between elements (4 for vectors, 16 for uniform arrays). */
  stride: number;
}

export interface ParamsLayout {
  binding: string;
  size: number;
  fields: ParamField[];
}

export interface EntryInfo {
  family: string;
  entry: string;
  bindings: BindingInfo[];
  params: ParamsLayout | null;
  workgroupSize: [number, number, number];
  overrides: string[];
}

/** Parses one WGSL file and returns the interface of each compute entry point. */
export function reflectKernels(family: string, source: string): Map<string, EntryInfo> {
  let reflect: WgslReflect;
  try {
    reflect = new WgslReflect(source);
  } catch (e) {
    throw new KernelError(`kernels/${family}.wgsl: WGSL parse error: ${(e as Error).message}`, `${family}.wgsl`);
  }
  const out = new Map<string, EntryInfo>();
  for (const fn of reflect.entry.compute) {
    const bindings: BindingInfo[] = [];
    let params: ParamsLayout | null = null;
    for (const r of fn.resources) {
      if (r.group !== 0) {
        throw new KernelError(`kernels/${family}.wgsl:${fn.name}: only @group(0) is supported (found ${r.group})`, `${family}:${fn.name}`);
      }
      if (r.resourceType === ResourceType.Uniform) {
        bindings.push({ name: r.name, binding: r.binding, kind: 'uniform' });
        params = { binding: r.name, size: roundUp(r.size, 16), fields: structFields(family, fn.name, r.members ?? []) };
      } else if (r.resourceType === ResourceType.Storage) {
        bindings.push({ name: r.name, binding: r.binding, kind: r.access === 'read' ? 'read-only-storage' : 'storage' });
      } else {
        throw new KernelError(`kernels/${family}.wgsl:${fn.name}: unsupported resource '${r.name}'`, `${family}:${fn.name}`);
      }
    }
    bindings.sort((a, b) => a.binding - b.binding);
    const wg = fn.workgroupSize ?? [1, 1, 1];
    out.set(fn.name, {
      family,
      entry: fn.name,
      bindings,
      params,
      workgroupSize: [wg[0] ?? 1, wg[1] ?? 1, wg[2] ?? 1],
      overrides: reflect.overrides.map((o) => o.name),
    });
  }
  return out;
}

function structFields(family: string, entry: string, members: MemberInfo[]): ParamField[] {
  return members.map((m) => {
    const t = m.type;
    if (t.isArray) {
      const fmt = (m.format?.name ?? '') as ScalarType;
      return { name: m.name, offset: m.offset, type: scalar(family, entry, m.name, fmt), count: m.count, stride: m.stride };
    }
    if (t.isTemplate) {
      // vec2/vec3/vec4 of a scalar
      const fmt = (m.format?.name ?? '') as ScalarType;
      const count = Number(/vec(\d)/.exec(t.name)?.[1] ?? 0);
      if (!count) throw new KernelError(`kernels/${family}.wgsl:${entry}: Params.${m.name} has unsupported type ${t.getTypeName()}`, `${family}:${entry}`);
      return { name: m.name, offset: m.offset, type: scalar(family, entry, m.name, fmt), count, stride: 4 };
    }
    // Shorthand vector aliases like vec4u / vec2f.
    const alias = /^vec(\d)([uif])$/.exec(t.name);
    if (alias) {
      const ty = ({ u: 'u32', i: 'i32', f: 'f32' } as const)[alias[2] as 'u' | 'i' | 'f'];
      return { name: m.name, offset: m.offset, type: ty, count: Number(alias[1]), stride: 4 };
    }
    return { name: m.name, offset: m.offset, type: scalar(family, entry, m.name, t.name), count: 1, stride: 4 };
  });
}

function scalar(family: string, entry: string, member: string, t: string): ScalarType {
  if (t === 'u32' || t === 'i32' || t === 'f32') return t;
  throw new KernelError(`kernels/${family}.wgsl:${entry}: Params.${member} has type ${t}; use u32, i32 or f32`, `${family}:${entry}`);
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Packs named values into a uniform buffer's bytes following `layout`. */
export function packParams(label: string, layout: ParamsLayout, values: Record<string, number | readonly number[]>): ArrayBuffer {
  const buf = new ArrayBuffer(layout.size);
  const dv = new DataView(buf);
  const seen = new Set<string>();
  for (const f of layout.fields) {
    // Several entry points share one Params struct; fields an entry does not
    // use may be left out and are zero.
    const v = values[f.name];
    seen.add(f.name);
    if (v === undefined) continue;
    const arr = typeof v === 'number' ? [v] : v;
    if (arr.length > f.count) throw new KernelError(`${label}: Params.${f.name} takes ${f.count} values, got ${arr.length}`, label);
    for (let i = 0; i < arr.length; i++) {
      const off = f.offset + i * f.stride;
      const x = arr[i]!;
      if (f.type === 'f32') dv.setFloat32(off, x, true);
      else if (f.type === 'i32') dv.setInt32(off, x, true);
      else {
        if (x < 0 || !Number.isInteger(x)) throw new KernelError(`${label}: Params.${f.name} must be a non-negative integer, got ${x}`, label);
        dv.setUint32(off, x, true);
      }
    }
  }
  for (const k of Object.keys(values)) {
    if (!seen.has(k)) throw new KernelError(`${label}: unknown uniform Params.${k} (the WGSL declares ${layout.fields.map((f) => f.name).join(', ')})`, label);
  }
  return buf;
}
