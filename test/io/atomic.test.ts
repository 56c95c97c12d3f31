// writeFileAtomic: replaces content completely, and a crash at any stage leaves
// the old content in place with no temp file behind.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic.js';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'automix-atomic-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates and replaces files (bytes and strings)', async () => {
    const p = join(dir, 'a.bin');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect(Array.from(await readFile(p))).toEqual([1, 2, 3]);
    await writeFileAtomic(p, 'héllo');
    expect(await readFile(p, 'utf8')).toBe('héllo');
    const big = new Uint8Array(3_000_000).map((_, i) => i & 0xff);
    await writeFileAtomic(p, big);
    expect((await readFile(p)).equals(Buffer.from(big))).toBe(true);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  for (const stage of ['afterWrite', 'beforeRename'] as const) {
    it(`a crash at ${stage} keeps the old content and removes the temp file`, async () => {
      const p = join(dir, `crash-${stage}.json`);
      await writeFile(p, 'old content');
      let tmpSeen = '';
      const crash = async (tmp: string) => {
        tmpSeen = tmp;
        // The temp file is a sibling of the target, named after it.
        expect(tmp.startsWith(`${p}.tmp-${process.pid}-`)).toBe(true);
        expect((await readdir(dir)).some((f) => tmp.endsWith(f))).toBe(true);
        throw new Error('simulated crash');
      };
      await expect(writeFileAtomic(p, 'new content that never lands', { [stage]: crash })).rejects.toThrow('simulated crash');
      expect(tmpSeen).not.toBe('');
      expect(await readFile(p, 'utf8')).toBe('old content');
      expect((await readdir(dir)).filter((f) => f.startsWith(`crash-${stage}.json.tmp-`))).toEqual([]);
    });
  }

  it('fails cleanly when the directory does not exist', async () => {
    await expect(writeFileAtomic(join(dir, 'nope', 'x'), 'data')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
