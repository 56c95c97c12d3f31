/** A tuning cache held in memory (browsers; tests): lost with the page or process. */
import type { TuneCacheDoc, TuneStore } from './types.js';

export function memoryTuneStore(initial: TuneCacheDoc | null = null): TuneStore & { doc: TuneCacheDoc | null } {
  return {
    where: 'memory',
    doc: initial ? structuredClone(initial) : null,
    load() {
      return this.doc ? structuredClone(this.doc) : null;
    },
    save(doc: TuneCacheDoc) {
      this.doc = structuredClone(doc);
    },
  };
}
