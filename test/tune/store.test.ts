// The tuning cache's storage and mode parsing, without a GPU: the Node file
// store (path rules, atomic writes, unreadable files) and AUTOMIX_TUNE.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultTuneCachePath, envTuneMode, fileTuneStore } from '../../src/tune/store-node.js';
import { memoryTuneStore } from '../../src/tune/store-memory.js';
import type { TuneCacheDoc } from '../../src/tune/types.js';

const dir = mkdtempSync(join(tmpdir(), 'automix-tune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const doc = (ms: number): TuneCacheDoc => ({
  version: 1,
  adapters: {
    'a|b': {
      adapter: { vendor: 'a' },
      entries: {
        'matmul@v1:1x1x1 b1 NN': {
          config: { variant: 'general', constants: {} },
          ms,
          staticMs: ms,
          static: 'general',
          tried: 1,
          tuneMs: 1,
          timing: 'wall-clock',
          date: 'x',
        },
      },
    },
  },
});

describe('tuning cache storage', () => {
  it('path: AUTOMIX_TUNE_CACHE, else $XDG_CACHE_HOME/automix-webgpu/tune.json, else ~/.cache/…', () => {
    expect(defaultTuneCachePath({ AUTOMIX_TUNE_CACHE: '/x/t.json', XDG_CACHE_HOME: '/c' })).toBe('/x/t.json');
    expect(defaultTuneCachePath({ XDG_CACHE_HOME: '/c' })).toBe('/c/automix-webgpu/tune.json');
    expect(defaultTuneCachePath({})).toBe(join(homedir(), '.cache', 'automix-webgpu', 'tune.json'));
    // A relative XDG_CACHE_HOME is invalid by the spec: ignored.
    expect(defaultTuneCachePath({ XDG_CACHE_HOME: 'rel' })).toBe(join(homedir(), '.cache', 'automix-webgpu', 'tune.json'));
  });

  it('file store: absent → null, save creates the directory, atomic replace, no temporary files left', () => {
    const path = join(dir, 'sub', 'deeper', 'tune.json');
    const s = fileTuneStore(path);
    expect(s.where).toBe(path);
    expect(s.load()).toBeNull();
    s.save(doc(1));
    expect(s.load()).toEqual(doc(1));
    s.save(doc(2));
    expect((s.load() as TuneCacheDoc).adapters['a|b']!.entries['matmul@v1:1x1x1 b1 NN']!.ms).toBe(2);
    expect(readdirSync(join(dir, 'sub', 'deeper'))).toEqual(['tune.json']);
  });

  it('file store: a corrupt file reads as null and is replaced by the next save', () => {
    const path = join(dir, 'corrupt.json');
    writeFileSync(path, '{"version": 1, "adapters": {');
    const s = fileTuneStore(path);
    expect(s.load()).toBeNull();
    s.save(doc(3));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(doc(3));
  });

  it('file store: a save that cannot write throws and leaves no temporary file', () => {
    const blocker = join(dir, 'file-not-dir');
    writeFileSync(blocker, 'x');
    const s = fileTuneStore(join(blocker, 'tune.json'));
    expect(() => s.save(doc(1))).toThrow();
    expect(existsSync(join(blocker, 'tune.json'))).toBe(false);
  });

  it('memory store: copies in and out', () => {
    const s = memoryTuneStore();
    expect(s.load()).toBeNull();
    const d = doc(4);
    s.save(d);
    d.version = 2 as 1;
    expect((s.load() as TuneCacheDoc).version).toBe(1);
  });

  it('AUTOMIX_TUNE: off | cached | full, unset or empty = none, anything else throws', () => {
    expect(envTuneMode({})).toBeUndefined();
    expect(envTuneMode({ AUTOMIX_TUNE: '' })).toBeUndefined();
    for (const m of ['off', 'cached', 'full'] as const) expect(envTuneMode({ AUTOMIX_TUNE: m })).toBe(m);
    expect(() => envTuneMode({ AUTOMIX_TUNE: 'yes' })).toThrow(/off, cached, full/);
  });
});
