/** Loads `kernels/<family>.wgsl` from the package directory on disk (Node). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelError } from '../device/errors.js';
import type { KernelSourceLoader } from './sources.js';

function findKernelDir(): string {
  // src/kernels/ when run from source, dist/src/kernels/ when built.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'kernels');
    if (existsSync(join(candidate, 'elementwise.wgsl'))) return candidate;
    dir = dirname(dir);
  }
  throw new KernelError('could not find the kernels/ directory of automix-webgpu next to its sources', 'kernels');
}

let kernelDir: string | null = null;

export const nodeKernelSources: KernelSourceLoader = (family) => {
  kernelDir ??= findKernelDir();
  const file = join(kernelDir, `${family}.wgsl`);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new KernelError(`kernel source ${file} not found`, family);
  }
};
