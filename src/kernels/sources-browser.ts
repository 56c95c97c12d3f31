/// <reference types="vite/client" />
/**
 * WGSL for browsers: every kernels/<family>.wgsl is compiled into the
 * JavaScript bundle as a string by Vite's `import.meta.glob` (no file system,
 * no fetch at run time), and looked up by family name.
 *
 * Two patterns, the first winning: `../../kernels` is the repository layout
 * (src/kernels/ → kernels/), `../../../kernels` the published one
 * (dist/src/kernels/ → kernels/ at the package root). A pattern that matches
 * nothing adds nothing. Bundlers other than Vite do not expand
 * `import.meta.glob`: pass `createEngine({ kernelSources })` there instead;
 * Vite's dev-server dependency pre-bundling (esbuild) does not either, so an
 * app using the published package lists it in `optimizeDeps.exclude`.
 */
import { KernelError } from '../device/errors.js';
import type { KernelSourceLoader } from './sources.js';

const repoLayout = import.meta.glob<string>('../../kernels/*.wgsl', { query: '?raw', import: 'default', eager: true });
const distLayout = import.meta.glob<string>('../../../kernels/*.wgsl', { query: '?raw', import: 'default', eager: true });

const family = (path: string): string => path.slice(path.lastIndexOf('/') + 1).replace(/\.wgsl$/, '');

const bundled = new Map<string, string>();
for (const files of [repoLayout, distLayout]) {
  for (const [path, source] of Object.entries(files)) if (!bundled.has(family(path))) bundled.set(family(path), source);
}

/** Families present in the bundle, sorted (diagnostics, tests). */
export const bundledKernelFamilies: readonly string[] = [...bundled.keys()].sort();

export const browserKernelSources: KernelSourceLoader = (name) => {
  const source = bundled.get(name);
  if (source === undefined) {
    throw new KernelError(
      bundledKernelFamilies.length
        ? `kernels/${name}.wgsl is not in the bundle (bundled: ${bundledKernelFamilies.join(', ')})`
        : `kernels/${name}.wgsl is not in the bundle: no WGSL was bundled. Build with Vite (its import.meta.glob inlines kernels/*.wgsl); ` +
            "under Vite's dev server add optimizeDeps: { exclude: ['automix-webgpu'] } (its dependency pre-bundling skips import.meta.glob); " +
            'with another bundler pass createEngine({ kernelSources }).',
      name,
    );
  }
  return source;
};
