// The browser's tuning cache without a browser: what is read back from
// storage (validation), how two documents merge, and the store's write-back
// over a fake backend (debounce, latest wins, one write at a time, a failed
// read or write falls back to memory with one warning). IndexedDB itself is
// exercised in headless Chromium (test/browser/suite.ts).
import { describe, expect, it } from 'vitest';
import { clearTuneCache, indexedDbTuneStore, mergeTuneDocs, persistentTuneStore, storedTuneDoc, type TuneDocBackend } from '../../src/tune/store-indexeddb.js';
import type { TuneCacheDoc, TuneRecord } from '../../src/tune/types.js';

const record = (ms: number, variant = 'sg8'): TuneRecord => ({
  config: { variant, constants: { TM: 16 } },
  ms,
  staticMs: 2 * ms,
  static: 'sg8 TM32',
  tried: 3,
  tuneMs: 100,
  timing: 'wall-clock',
  date: '2026-01-01',
  timings: { 'sg8 TM16': ms, 'sg8 TM64': Number.POSITIVE_INFINITY },
});

const doc = (entries: Record<string, TuneRecord>, adapter = 'swiftshader'): TuneCacheDoc => ({
  version: 1,
  adapters: { [adapter]: { adapter: { vendor: adapter }, entries } },
});

const entriesOf = (d: unknown, adapter = 'swiftshader') => Object.keys((d as TuneCacheDoc).adapters[adapter]?.entries ?? {}).sort();

/** A backend in memory: counts writes, can hold a write at a gate, can fail. */
class FakeBackend implements TuneDocBackend {
  readonly where = 'fake';
  stored: unknown = null;
  writes: TuneCacheDoc[] = [];
  removes = 0;
  failRead: Error | null = null;
  failWrite: Error | null = null;
  gate: Promise<void> | null = null;

  async read() {
    if (this.failRead) throw this.failRead;
    return structuredClone(this.stored);
  }

  async write(update: (stored: unknown) => TuneCacheDoc) {
    if (this.gate) await this.gate;
    if (this.failWrite) throw this.failWrite;
    const next = update(structuredClone(this.stored));
    this.stored = structuredClone(next);
    this.writes.push(next);
    return next;
  }

  async remove() {
    this.removes++;
    this.stored = null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('tuning cache document from storage', () => {
  it('is null for anything but a version-1 document', () => {
    for (const raw of [null, undefined, 'x', 3, [], {}, { version: 2, adapters: {} }, { version: 1 }, { version: 1, adapters: [] }]) {
      expect(storedTuneDoc(raw)).toBeNull();
    }
    expect(storedTuneDoc({ version: 1, adapters: {} })).toEqual({ version: 1, adapters: {} });
  });

  it('keeps valid records (Infinity timings included) and drops damaged adapters and entries', () => {
    const raw = {
      version: 1,
      adapters: {
        good: { adapter: { vendor: 'v' }, entries: { 'matmul@v3:a': record(1), 'matmul@v3:b': { config: 7 }, 'matmul@v3:c': null } },
        bad: { adapter: 'v', entries: {} },
        worse: 5,
      },
    };
    const d = storedTuneDoc(raw)!;
    expect(Object.keys(d.adapters)).toEqual(['good']);
    expect(entriesOf(d, 'good')).toEqual(['matmul@v3:a']);
    expect(d.adapters['good']!.entries['matmul@v3:a']!.timings!['sg8 TM64']).toBe(Number.POSITIVE_INFINITY);
  });

  it('merge: every adapter and entry of both, the second document winning, inputs untouched', () => {
    const base = doc({ a: record(1), b: record(2) });
    base.adapters['other'] = doc({ x: record(9) }, 'other').adapters['other']!;
    const mine = doc({ b: record(5, 'tiled_v4'), c: record(3) });
    const merged = mergeTuneDocs(base, mine);
    expect(entriesOf(merged)).toEqual(['a', 'b', 'c']);
    expect(entriesOf(merged, 'other')).toEqual(['x']);
    expect(merged.adapters['swiftshader']!.entries['b']!.config.variant).toBe('tiled_v4');
    merged.adapters['swiftshader']!.entries['c']!.ms = 99;
    expect(mine.adapters['swiftshader']!.entries['c']!.ms).toBe(3);
    expect(entriesOf(base)).toEqual(['a', 'b']);
    expect(mergeTuneDocs(null, mine)).toEqual(mine);
  });
});

describe('tuning cache store over an asynchronous backend', () => {
  it('reads once, then load and save are synchronous; saves within the debounce make one write of the latest', async () => {
    const b = new FakeBackend();
    b.stored = doc({ old: record(1) });
    const warnings: string[] = [];
    const s = await persistentTuneStore(b, { debounceMs: 20, warn: (m) => warnings.push(m) });
    expect(s.persistent).toBe(true);
    expect(s.where).toBe('fake');
    expect(entriesOf(s.load())).toEqual(['old']);
    s.save(doc({ old: record(1), a: record(2) }));
    s.save(doc({ old: record(1), a: record(2), b: record(3) }));
    expect(entriesOf(s.load())).toEqual(['a', 'b', 'old']); // at once, before any write
    expect(b.writes).toHaveLength(0);
    await sleep(60);
    expect(b.writes).toHaveLength(1);
    expect(entriesOf(b.stored)).toEqual(['a', 'b', 'old']);
    expect(warnings).toEqual([]);
  });

  it('a save during a write is written after it, the latest document winning', async () => {
    const b = new FakeBackend();
    let open!: () => void;
    b.gate = new Promise((r) => {
      open = r;
    });
    const s = await persistentTuneStore(b, { debounceMs: 1 });
    s.save(doc({ a: record(1) }));
    await sleep(10); // the first write is waiting at the gate
    s.save(doc({ a: record(1), b: record(2) }));
    s.save(doc({ a: record(4), b: record(2), c: record(3) }));
    const flushed = s.flush();
    open();
    await flushed;
    expect(b.writes.map((w) => entriesOf(w))).toEqual([['a'], ['a', 'b', 'c']]);
    expect((b.stored as TuneCacheDoc).adapters['swiftshader']!.entries['a']!.ms).toBe(4);
  });

  it("keeps another tab's entries: each write merges with what is stored, and they become visible", async () => {
    const b = new FakeBackend();
    const s = await persistentTuneStore(b, { debounceMs: 1 });
    b.stored = doc({ theirs: record(7) }); // written by another tab after this one read
    s.save(doc({ mine: record(1) }));
    await s.flush();
    expect(entriesOf(b.stored)).toEqual(['mine', 'theirs']);
    expect(entriesOf(s.load())).toEqual(['mine', 'theirs']);
  });

  it('a failed write (quota) warns once, then the cache stays in memory and saves never throw', async () => {
    const b = new FakeBackend();
    const quota = new Error('the quota has been exceeded');
    quota.name = 'QuotaExceededError';
    b.failWrite = quota;
    const warnings: string[] = [];
    const s = await persistentTuneStore(b, { debounceMs: 1, warn: (m) => warnings.push(m) });
    s.save(doc({ a: record(1) }));
    await s.flush();
    expect(s.persistent).toBe(false);
    expect(s.where).toBe('memory');
    s.save(doc({ a: record(1), b: record(2) }));
    await s.flush();
    expect(entriesOf(s.load())).toEqual(['a', 'b']);
    expect(b.writes).toHaveLength(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/stays in memory.*QuotaExceededError/);
  });

  it('a failed read starts empty, in memory, with one warning', async () => {
    const b = new FakeBackend();
    b.failRead = new Error('UnknownError');
    const warnings: string[] = [];
    const s = await persistentTuneStore(b, { warn: (m) => warnings.push(m) });
    expect(s.load()).toBeNull();
    expect(s.persistent).toBe(false);
    s.save(doc({ a: record(1) }));
    await s.flush();
    expect(entriesOf(s.load())).toEqual(['a']);
    expect(warnings).toHaveLength(1);
  });

  it('a damaged stored document reads as empty and is replaced by the next write', async () => {
    const b = new FakeBackend();
    b.stored = { version: 1, adapters: 'garbage' };
    const s = await persistentTuneStore(b, { debounceMs: 1 });
    expect(s.load()).toBeNull();
    s.save(doc({ a: record(1) }));
    await s.flush();
    expect(b.stored).toEqual(doc({ a: record(1) }));
  });

  it('clear empties memory and storage and drops a pending save', async () => {
    const b = new FakeBackend();
    b.stored = doc({ old: record(1) });
    const s = await persistentTuneStore(b, { debounceMs: 50 });
    s.save(doc({ old: record(1), a: record(2) }));
    await s.clear();
    expect(s.load()).toBeNull();
    expect(b.stored).toBeNull();
    expect(b.removes).toBe(1);
    await sleep(80);
    expect(b.writes).toHaveLength(0);
    expect(s.persistent).toBe(true);
  });
});

describe('IndexedDB unavailable (as on Node, in private modes, in sandboxed frames)', () => {
  const fallsBack = async (indexedDB: IDBFactory | null, why: RegExp) => {
    const warnings: string[] = [];
    const s = await indexedDbTuneStore({ indexedDB, openTimeoutMs: 50, warn: (m) => warnings.push(m) });
    expect(s.persistent).toBe(false);
    expect(s.where).toBe('memory');
    s.save(doc({ a: record(1) }));
    await s.flush();
    expect(entriesOf(s.load())).toEqual(['a']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(why);
  };

  it('no indexedDB global: memory, one warning', async () => {
    expect((globalThis as { indexedDB?: unknown }).indexedDB).toBeUndefined();
    const warnings: string[] = [];
    const s = await indexedDbTuneStore({ warn: (m) => warnings.push(m) });
    expect(s.persistent).toBe(false);
    expect(warnings).toEqual(['[tune] the tuning cache stays in memory for this page: indexedDB is not defined here']);
  });

  it('persistence turned off (indexedDB: null)', () => fallsBack(null, /turned off/));

  it('open throws (SecurityError)', () =>
    fallsBack(
      {
        open() {
          throw new DOMException('access denied', 'SecurityError');
        },
      } as unknown as IDBFactory,
      /SecurityError: access denied/,
    ));

  it('open never answers: gives up after openTimeoutMs', () => fallsBack({ open: () => ({}) } as unknown as IDBFactory, /took over 0.05 s/));

  it('clearTuneCache without IndexedDB says so and resolves false', async () => {
    const warnings: string[] = [];
    expect(await clearTuneCache({ warn: (m) => warnings.push(m) })).toBe(false);
    expect(warnings[0]).toMatch(/no tuning cache to clear/);
  });
});
