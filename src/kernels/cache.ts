/**
 * Compiles each WGSL family once, builds bind group layouts from reflection
 * and caches one pipeline per (entry point, override constants).
 */
import type { GpuContext } from '../device/context.js';
import { KernelError, LimitError } from '../device/errors.js';
import { workgroupBytes } from './workgroup-memory.js';
import { type EntryInfo, reflectKernels } from './reflect.js';
import type { KernelSourceLoader } from './sources.js';

export interface CompiledEntry extends EntryInfo {
  label: string;
  layout: GPUBindGroupLayout;
  module: GPUShaderModule;
  source: string;
}

export class KernelCache {
  #families = new Map<string, { module: GPUShaderModule; entries: Map<string, EntryInfo>; source: string }>();
  #entries = new Map<string, CompiledEntry>();
  #pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    readonly ctx: GpuContext,
    readonly loader: KernelSourceLoader,
  ) {}

  /** Number of distinct pipelines built so far (a cache that grows every step is a bug). */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /** Registers WGSL source for a family directly (tests, user kernels). */
  define(family: string, source: string): void {
    this.#compileFamily(family, source);
  }

  entry(family: string, entry: string): CompiledEntry {
    const key = `${family}:${entry}`;
    const hit = this.#entries.get(key);
    if (hit) return hit;
    let fam = this.#families.get(family);
    if (!fam) fam = this.#compileFamily(family, this.loader(family));
    const info = fam.entries.get(entry);
    if (!info) {
      throw new KernelError(`kernels/${family}.wgsl has no compute entry point '${entry}' (it has: ${[...fam.entries.keys()].join(', ')})`, key);
    }
    // Said by name before Dawn makes the layout (and every pipeline of it) invalid.
    const storage = info.bindings.filter((b) => b.kind !== 'uniform').length;
    const maxStorage = this.ctx.limits.maxStorageBuffersPerShaderStage;
    if (storage > maxStorage) {
      throw new LimitError(
        `${key}: binds ${storage} storage buffers, more than this device's maxStorageBuffersPerShaderStage (${maxStorage}); a kernel of this engine needs at most 8 (WebGPU's default)`,
        'maxStorageBuffersPerShaderStage',
      );
    }
    const layout = this.ctx.device.createBindGroupLayout({
      label: key,
      entries: info.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.kind },
      })),
    });
    const compiled: CompiledEntry = { ...info, label: key, layout, module: fam.module, source: fam.source };
    this.#entries.set(key, compiled);
    return compiled;
  }

  pipeline(e: CompiledEntry, constants: Record<string, number> = {}): GPUComputePipeline {
    const names = Object.keys(constants).sort();
    for (const n of names) {
      if (!e.overrides.includes(n)) {
        throw new KernelError(`${e.label}: unknown override constant '${n}' (declared: ${e.overrides.join(', ') || 'none'})`, e.label);
      }
    }
    const key = pipelineKey(e, constants);
    let p = this.#pipelines.get(key);
    if (!p) {
      const limit = this.ctx.limits.maxComputeWorkgroupStorageSize;
      const bytes = workgroupBytes(e.source, constants);
      if (bytes !== null && bytes > limit) {
        throw new LimitError(
          `${e.label}: its workgroup memory (${bytes} bytes with ${names.map((n) => `${n}=${constants[n]}`).join(', ') || 'the default constants'}) exceeds the adapter's maxComputeWorkgroupStorageSize (${limit})`,
          'maxComputeWorkgroupStorageSize',
        );
      }
      this.ctx.counters.pipelines++;
      p = this.ctx.device.createComputePipeline({
        label: e.label,
        layout: this.ctx.device.createPipelineLayout({ label: e.label, bindGroupLayouts: [e.layout] }),
        compute: { module: e.module, entryPoint: e.entry, constants },
      });
      this.#pipelines.set(key, p);
    }
    return p;
  }

  /** Drops a cached pipeline — one that failed to build, so that its next use builds (and reports) it again. */
  forget(e: CompiledEntry, constants: Record<string, number> = {}): void {
    this.#pipelines.delete(pipelineKey(e, constants));
  }

  #compileFamily(family: string, source: string) {
    const entries = reflectKernels(family, source);
    const module = this.ctx.device.createShaderModule({ label: `kernels/${family}.wgsl`, code: source });
    const fam = { module, entries, source };
    this.#families.set(family, fam);
    for (const k of [...this.#entries.keys()]) if (k.startsWith(`${family}:`)) this.#entries.delete(k);
    return fam;
  }

  /** Compiler messages for a family (errors with line numbers), for diagnostics. */
  async compilationErrors(family: string): Promise<string[]> {
    const fam = this.#families.get(family);
    if (!fam) return [];
    const info = await fam.module.getCompilationInfo();
    return info.messages.filter((m) => m.type === 'error').map((m) => `kernels/${family}.wgsl:${m.lineNum}:${m.linePos}: ${m.message}`);
  }
}

/** A pipeline's cache key: the entry and its override constants, sorted by name. */
function pipelineKey(e: CompiledEntry, constants: Record<string, number>): string {
  return `${e.label}|${Object.keys(constants)
    .sort()
    .map((n) => `${n}=${constants[n]}`)
    .join(',')}`;
}
