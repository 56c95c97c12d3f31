/**
 * One engine per test file, on whatever WebGPU adapter this machine has
 * (lavapipe in CI). The adapter is printed once so logs show what ran.
 * AUTOMIX_TEST_DEVICE=compat runs the files on the smallest device WebGPU allows instead: a
 * compatibility-mode device with the default limits (128 invocations per workgroup).
 */
import { afterAll } from 'vitest';
import { createEngine, type Engine } from '../../src/index.js';

/** The smallest device WebGPU allows: compatibility mode, default limits. */
export const SMALLEST_DEVICE = { featureLevel: 'compatibility', limits: 'default' } as const;

let engine: Engine | null = null;
let printed = false;

export async function testEngine(): Promise<Engine> {
  if (!engine) {
    engine = await createEngine(process.env['AUTOMIX_TEST_DEVICE'] === 'compat' ? SMALLEST_DEVICE : {});
    afterAll(() => {
      engine?.destroy();
      engine = null;
    });
    if (!printed) {
      printed = true;
      const i = engine.info;
      console.log(
        `[adapter] ${i.vendor} / ${i.architecture} / ${i.device || i.description} (${i.backend}${i.isFallbackAdapter ? ', software' : ''}${i.compatibilityMode ? `, compatibility mode: ${engine.maxWorkgroupSize} invocations` : ''}); features: ${[...engine.features].filter((f) => ['timestamp-query', 'shader-f16', 'subgroups'].includes(f)).join(', ')}`,
      );
    }
  }
  return engine;
}

/** An engine of its own with `opts` (a tuning mode, a tune store), destroyed after the test file. */
export async function ownEngine(opts: Parameters<typeof createEngine>[0]): Promise<Engine> {
  const e = await createEngine(opts);
  afterAll(() => e.destroy());
  return e;
}
