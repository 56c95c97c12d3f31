/**
 * How one op call on our engine is timed.
 *
 *  - 'timestamp-query': engine.startProfiling() / stopProfiling() put a
 *    timestamp pair around every dispatch (each in its own compute pass);
 *    the time of one op call is the sum over its dispatches. GPU time only:
 *    no host overhead, no submit latency, no gaps between dispatches.
 *  - 'wall-clock': performance.now() around the call and `await engine.sync()`
 *    (submit + wait for the queue to drain), after a sync beforehand. Includes
 *    host-side recording and submit/wait latency; used when the adapter has no
 *    'timestamp-query' feature or with --wall.
 */
import type { Engine } from '../src/index.js';

export type TimingMethod = 'timestamp-query' | 'wall-clock';

export interface Timed {
  ms: number;
  /** Dispatches timed (timestamp queries only; 0 for the wall clock). */
  dispatches: number;
}

export interface Timer {
  readonly method: TimingMethod;
  /** Runs `fn` (which records GPU work) and returns its time in ms. */
  time(fn: () => unknown): Promise<number>;
  timeDetailed<T>(fn: () => T): Promise<Timed & { value: T }>;
}

export function makeTimer(engine: Engine, forceWall: boolean): Timer {
  const canProfile = !forceWall && engine.features.has('timestamp-query');
  if (canProfile) {
    const t: Timer = {
      method: 'timestamp-query',
      async timeDetailed<T>(fn: () => T) {
        await engine.sync();
        if (!engine.startProfiling()) throw new Error('startProfiling() refused although the adapter has timestamp-query');
        let value: T;
        try {
          value = fn();
        } catch (e) {
          await engine.stopProfiling().catch(() => []); // leave profiling mode
          throw e;
        }
        const timings = await engine.stopProfiling();
        let ms = 0;
        for (const k of timings) ms += k.ms;
        return { ms, dispatches: timings.length, value };
      },
      async time(fn) {
        return (await t.timeDetailed(fn)).ms;
      },
    };
    return t;
  }
  const t: Timer = {
    method: 'wall-clock',
    async timeDetailed<T>(fn: () => T) {
      await engine.sync();
      const t0 = performance.now();
      const value = fn();
      await engine.sync();
      return { ms: performance.now() - t0, dispatches: 0, value };
    },
    async time(fn) {
      return (await t.timeDetailed(fn)).ms;
    },
  };
  return t;
}
