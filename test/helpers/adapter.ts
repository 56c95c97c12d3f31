/**
 * What the test engine's adapter can do, for tests that only apply to some adapters.
 * Such a test is declared with `it.skipIf(!facts.x)` and a name that says what it needs,
 * so the report lists it as skipped on that adapter instead of passing without asserting.
 */
import type { Engine } from '../../src/index.js';

export interface AdapterFacts {
  /** Subgroups exactly 8 lanes wide (lavapipe on AVX2/AVX-512): the sg8 matmul and sg conv kernels. */
  subgroups8: boolean;
  /** Timestamp queries: the profiler can name the kernels a pass ran. */
  timestamps: boolean;
}

export function adapterFacts(e: Engine): AdapterFacts {
  return { subgroups8: e.ctx.subgroups8, timestamps: e.features.has('timestamp-query') };
}
