/**
 * WebGPU on Node through Dawn (the `webgpu` npm package). Installs the WebGPU
 * globals (GPUBufferUsage, ...) that browser code takes for granted.
 */
import { NoAdapterError } from './errors.js';

let cached: GPU | null = null;

/** Returns Dawn's `GPU` object, creating it once per process. */
export async function nodeGpu(): Promise<GPU> {
  if (cached) return cached;
  // Dawn's Vulkan loader and Mesa want a runtime dir; headless CI has none.
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new NoAdapterError(`could not load Dawn (npm package 'webgpu'): ${(e as Error).message}. Run 'npm ci' in the project.`);
  }
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  cached = mod.create([]);
  return cached;
}

/** What to install when Node finds no adapter; platform specific. */
export function noAdapterHelp(): string {
  if (process.platform === 'linux') {
    return [
      "No WebGPU adapter was found. On Linux without a GPU, install Mesa's software Vulkan driver (lavapipe), Mesa 24 or newer:",
      '  on Debian 12: add the bookworm-backports suite to apt, then',
      '  sudo apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1',
      '  (scripts/install-system-deps.sh in this repository does both).',
      'With a GPU: install its Vulkan driver (e.g. the NVIDIA driver with its Vulkan ICD) and libvulkan1.',
      'Debian 12\'s own Mesa 22 is too old for Dawn ("shaderUniform*ArrayDynamicIndexing required").',
    ].join('\n');
  }
  if (process.platform === 'darwin') return 'No WebGPU adapter was found: Dawn needs macOS 11+ with Metal.';
  return 'No WebGPU adapter was found: install a GPU driver with Direct3D 12 or Vulkan support.';
}
