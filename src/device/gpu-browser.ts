/** WebGPU in a browser: `navigator.gpu`, with a reason when it is missing. */
import { NoAdapterError } from './errors.js';

export async function browserGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!nav?.gpu) {
    const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
    throw new NoAdapterError(
      secure === false
        ? 'WebGPU is unavailable: this page is not a secure context (serve it over https or from localhost).'
        : 'WebGPU is unavailable in this browser (navigator.gpu is missing): use a recent Chrome/Edge, Firefox 141+ or Safari 26+, or enable WebGPU in its flags.',
    );
  }
  return nav.gpu;
}

export function browserNoAdapterHelp(): string {
  return 'No WebGPU adapter was found: the browser exposes WebGPU but found no usable GPU (check chrome://gpu; on Linux Chrome may need --enable-unsafe-webgpu).';
}
