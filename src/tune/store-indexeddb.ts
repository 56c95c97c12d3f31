/**
 * The tuning cache in browsers: one record in IndexedDB (database
 * `automix-webgpu`, object store `tune`, key `doc`), so tuned kernel choices
 * survive a reload.
 *
 * The tuner's store is synchronous (the op that consults it is), IndexedDB is
 * not; so the document is read once, asynchronously, when the store is opened
 * (the browser's `createEngine` awaits `indexedDbTuneStore()`), and from then
 * on `load` and `save` work on a copy in memory. A save schedules a write
 * (debounced, the latest document wins; one write at a time); the write merges
 * with what is stored, in one transaction, so another tab's entries are kept.
 * Nothing here throws into training: a missing or blocked IndexedDB (private
 * mode, a sandboxed frame, `indexedDB` undefined), an open that fails or hangs,
 * or a write that fails (quota) leaves the cache in memory, with one
 * console.warn per store.
 *
 * A write still pending when the page closes is lost (that shape is tuned
 * again next time); `flush()` writes it now.
 */
import type { TuneCacheDoc, TuneRecord, TuneStore } from './types.js';

export const TUNE_DB_NAME = 'automix-webgpu';
const OBJECT_STORE = 'tune';
const DOC_KEY = 'doc';
const DB_VERSION = 1;

/** A store whose document lives in memory and, where it can, in IndexedDB. */
export interface IndexedDbTuneStore extends TuneStore {
  /** Whether saves reach IndexedDB (false: memory only, after a warning). */
  readonly persistent: boolean;
  /** Writes a pending save now; resolves when nothing is left to write. Never rejects. */
  flush(): Promise<void>;
  /** Empties the cache, in memory and in IndexedDB. Never rejects. */
  clear(): Promise<void>;
}

export interface IndexedDbTuneStoreOptions {
  /** The IndexedDB to use (default `globalThis.indexedDB`); null: memory only, with a warning. */
  indexedDB?: IDBFactory | null;
  /** Database name (default `automix-webgpu`; tests use their own). */
  database?: string;
  /** Delay between a save and its write (ms, default 100): saves within it make one write. */
  debounceMs?: number;
  /** How long opening may take before the store gives up and stays in memory (ms, default 3000). */
  openTimeoutMs?: number;
  /** Where the one warning goes (default console.warn). */
  warn?: (message: string) => void;
}

// ---- the document: validation and merge (pure) ------------------------------

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * What was read from storage, as a cache document, or null when it is not one
 * (absent, another version, damaged): the next write replaces it. Adapters and
 * entries of the wrong shape are dropped one by one.
 */
export function storedTuneDoc(raw: unknown): TuneCacheDoc | null {
  if (!isObject(raw) || raw['version'] !== 1 || !isObject(raw['adapters'])) return null;
  const doc: TuneCacheDoc = { version: 1, adapters: {} };
  for (const [key, a] of Object.entries(raw['adapters'])) {
    if (!isObject(a) || !isObject(a['adapter']) || !isObject(a['entries'])) continue;
    const entries: Record<string, TuneRecord> = {};
    for (const [k, rec] of Object.entries(a['entries'])) {
      if (isObject(rec) && isObject(rec['config']) && typeof rec['config']['variant'] === 'string') entries[k] = rec as unknown as TuneRecord;
    }
    doc.adapters[key] = { adapter: a['adapter'] as Record<string, string>, entries };
  }
  return doc;
}

/** `base` with `mine` laid over it: every adapter and entry of both, `mine`'s where both have one. */
export function mergeTuneDocs(base: TuneCacheDoc | null, mine: TuneCacheDoc): TuneCacheDoc {
  const out: TuneCacheDoc = structuredClone(base ?? { version: 1, adapters: {} });
  for (const [key, a] of Object.entries(mine.adapters)) {
    const into = (out.adapters[key] ??= { adapter: structuredClone(a.adapter), entries: {} });
    for (const [k, rec] of Object.entries(a.entries)) into.entries[k] = structuredClone(rec);
  }
  return out;
}

// ---- the store over an asynchronous backend -----------------------------------

/** Where the document persists: IndexedDB in browsers, a fake in the unit tests. */
export interface TuneDocBackend {
  readonly where: string;
  read(): Promise<unknown>;
  /** Replaces the stored document by `update(stored)`, atomically; resolves to what was written. */
  write(update: (stored: unknown) => TuneCacheDoc): Promise<TuneCacheDoc>;
  remove(): Promise<void>;
}

const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/**
 * The synchronous store over `backend` (null: memory only, `why` says why).
 * Reads the backend once; a read that fails also leaves the store in memory.
 */
export async function persistentTuneStore(
  backend: TuneDocBackend | null,
  opts: { debounceMs?: number; warn?: (message: string) => void; why?: string } = {},
): Promise<IndexedDbTuneStore> {
  const warnFn = opts.warn ?? ((m: string) => console.warn(m));
  const debounceMs = opts.debounceMs ?? 100;
  let warned = false;
  /** Stops persisting (after the first failure) and says so, once. */
  const fallBack = (why: string) => {
    if (backend && !warned) {
      warned = true;
      warnFn(`[tune] the tuning cache stays in memory for this page: ${why}`);
    }
    backend = null;
  };
  let doc: TuneCacheDoc | null = null;
  if (!backend) {
    warned = true;
    warnFn(`[tune] the tuning cache stays in memory for this page: ${opts.why ?? 'no IndexedDB'}`);
  } else {
    try {
      doc = storedTuneDoc(await backend.read());
    } catch (e) {
      fallBack(`reading ${backend.where} failed (${message(e)})`);
    }
  }
  let dirty = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let writing: Promise<void> | null = null;

  /** One write of the latest document; writes saved during it follow on. */
  const writeNow = async (): Promise<void> => {
    while (writing) await writing;
    if (!dirty || !backend || !doc) return;
    dirty = false;
    const mine = doc;
    const b = backend;
    writing = (async () => {
      try {
        const written = await b.write((stored) => mergeTuneDocs(storedTuneDoc(stored), mine));
        // Entries another tab wrote become visible; ours (saved since) win.
        doc = mergeTuneDocs(written, doc ?? mine);
      } catch (e) {
        fallBack(`writing ${b.where} failed (${message(e)})`);
      } finally {
        writing = null;
      }
    })();
    await writing;
  };

  const schedule = () => {
    if (timer !== null || !backend) return;
    timer = setTimeout(() => {
      timer = null;
      void writeNow();
    }, debounceMs);
  };

  return {
    get where() {
      return backend?.where ?? 'memory';
    },
    get persistent() {
      return backend !== null;
    },
    load() {
      return doc ? structuredClone(doc) : null;
    },
    save(next: TuneCacheDoc) {
      doc = structuredClone(next);
      dirty = true;
      schedule();
    },
    async flush() {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      await writeNow();
    },
    async clear() {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      while (writing) await writing;
      doc = null;
      dirty = false;
      if (!backend) return;
      try {
        await backend.remove();
      } catch (e) {
        fallBack(`clearing ${backend.where} failed (${message(e)})`);
      }
    },
  };
}

// ---- IndexedDB --------------------------------------------------------------------

/** A request's result as a promise (its error, or the transaction's abort, as a rejection). */
function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    // A quota error surfaces here: the transaction aborts with QuotaExceededError.
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

/** Opens the database (creating its object store), or rejects: error, blocked, or no answer within `timeoutMs`. */
function openDb(idb: IDBFactory, name: string, timeoutMs: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new Error(`opening IndexedDB '${name}' took over ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const finish = (f: () => void) => {
      clearTimeout(timer);
      if (settled) return false;
      settled = true;
      f();
      return true;
    };
    let req: IDBOpenDBRequest;
    try {
      req = idb.open(name, DB_VERSION);
    } catch (e) {
      finish(() => reject(e)); // SecurityError in an opaque origin
      return;
    }
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(OBJECT_STORE)) req.result.createObjectStore(OBJECT_STORE);
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab upgrading or deleting the database: let it (the next write reopens).
      db.onversionchange = () => db.close();
      // Too late (timed out): close what opened.
      if (!finish(() => resolve(db))) db.close();
    };
    req.onerror = () => finish(() => reject(req.error ?? new Error(`opening IndexedDB '${name}' failed`)));
    req.onblocked = () => finish(() => reject(new Error(`opening IndexedDB '${name}' is blocked by another tab`)));
  });
}

/** The backend: one connection per operation, so no connection lingers between writes. */
export function indexedDbBackend(idb: IDBFactory, name: string = TUNE_DB_NAME, openTimeoutMs = 3000): TuneDocBackend {
  const withStore = async <T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => Promise<T>): Promise<T> => {
    const db = await openDb(idb, name, openTimeoutMs);
    try {
      const tx = db.transaction(OBJECT_STORE, mode);
      const ok = committed(tx);
      const [result] = await Promise.all([fn(tx.objectStore(OBJECT_STORE)), ok]);
      return result;
    } finally {
      db.close();
    }
  };
  return {
    where: `IndexedDB ${name}`,
    read: () => withStore('readonly', (s) => done(s.get(DOC_KEY))),
    write: (update) =>
      withStore('readwrite', async (s) => {
        // Read and put in one transaction: two tabs' writes cannot interleave.
        const next = update(await done(s.get(DOC_KEY)));
        await done(s.put(next, DOC_KEY));
        return next;
      }),
    remove: () => withStore('readwrite', (s) => done(s.delete(DOC_KEY)).then(() => undefined)),
  };
}

/** The page's IndexedDB, or why there is none (undefined; a getter that throws in a sandboxed frame). */
function pageIndexedDb(): IDBFactory | string {
  try {
    const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    return idb ?? 'indexedDB is not defined here';
  } catch (e) {
    return `indexedDB is not accessible (${message(e)})`;
  }
}

/**
 * Opens the browser's tuning cache: reads the stored document (absent: an
 * empty cache) and returns a store that writes back in the background. Never
 * rejects: without a usable IndexedDB it returns a memory-only store
 * (`persistent: false`) after one warning.
 */
export async function indexedDbTuneStore(opts: IndexedDbTuneStoreOptions = {}): Promise<IndexedDbTuneStore> {
  const idb = opts.indexedDB === undefined ? pageIndexedDb() : (opts.indexedDB ?? 'IndexedDB persistence was turned off');
  const common = { ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}), ...(opts.warn ? { warn: opts.warn } : {}) };
  if (typeof idb === 'string') return persistentTuneStore(null, { ...common, why: idb });
  return persistentTuneStore(indexedDbBackend(idb, opts.database ?? TUNE_DB_NAME, opts.openTimeoutMs ?? 3000), common);
}

/**
 * Removes the persisted tuning cache from this origin's IndexedDB. Engines
 * created afterwards start with an empty cache; a live engine keeps the
 * choices it already holds (clear its store too: `engine.tuneStore.clear()`
 * when it is an IndexedDbTuneStore). Never rejects: returns false, with the
 * reason in `warn`, when there was nothing it could clear.
 */
export async function clearTuneCache(opts: Pick<IndexedDbTuneStoreOptions, 'indexedDB' | 'database' | 'openTimeoutMs' | 'warn'> = {}): Promise<boolean> {
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const idb = opts.indexedDB === undefined ? pageIndexedDb() : (opts.indexedDB ?? 'no IndexedDB given');
  if (typeof idb === 'string') {
    warn(`[tune] no tuning cache to clear: ${idb}`);
    return false;
  }
  try {
    await indexedDbBackend(idb, opts.database ?? TUNE_DB_NAME, opts.openTimeoutMs ?? 3000).remove();
    return true;
  } catch (e) {
    warn(`[tune] could not clear the tuning cache: ${message(e)}`);
    return false;
  }
}
