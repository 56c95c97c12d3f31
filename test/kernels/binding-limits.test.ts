// Every kernel fits the bindings every WebGPU device grants (the default limits: 8 storage buffers
// and 12 uniform buffers per shader stage), so no path is out of reach on a small device: browsers
// often grant no more than the defaults, whatever the GPU.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reflectKernels } from '../../src/kernels/reflect.js';

const dir = join(__dirname, '..', '..', 'kernels');
const DEFAULT_STORAGE = 8;
const DEFAULT_UNIFORM = 12;

describe('kernel bindings within WebGPU default limits', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wgsl'))) {
    it(file, () => {
      const family = file.replace(/\.wgsl$/, '');
      const over: string[] = [];
      for (const [entry, info] of reflectKernels(family, readFileSync(join(dir, file), 'utf8'))) {
        const storage = info.bindings.filter((b) => b.kind !== 'uniform').length;
        const uniform = info.bindings.length - storage;
        if (storage > DEFAULT_STORAGE || uniform > DEFAULT_UNIFORM) over.push(`${entry}: ${storage} storage, ${uniform} uniform`);
      }
      expect(over).toEqual([]);
    });
  }
});
