/**
 * The tuning cache on Node: one JSON file under the user's cache directory,
 * `$XDG_CACHE_HOME/automix-webgpu/tune.json` (`~/.cache/automix-webgpu/tune.json`
 * when XDG_CACHE_HOME is unset or relative), or the file named by
 * AUTOMIX_TUNE_CACHE. Written atomically (a temporary file in the same
 * directory, then a rename), so a reader never sees half a file and two
 * processes saving at once leave one complete document. Imported only by the
 * Node entry (src/index.ts): the tuner itself uses no Node modules.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { type TuneCacheDoc, type TuneMode, TUNE_MODES, type TuneStore } from './types.js';

type Env = Record<string, string | undefined>;

export function defaultTuneCachePath(env: Env = process.env): string {
  if (env['AUTOMIX_TUNE_CACHE']) return env['AUTOMIX_TUNE_CACHE'];
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'automix-webgpu', 'tune.json');
}

export function fileTuneStore(path: string = defaultTuneCachePath()): TuneStore {
  return {
    where: path,
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return null; // absent or unreadable: start empty
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return null; // corrupt: replaced by the next save
      }
    },
    save(doc: TuneCacheDoc) {
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        writeFileSync(tmp, `${JSON.stringify(doc, null, 1)}\n`);
        renameSync(tmp, path);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    },
  };
}

/** The mode named by AUTOMIX_TUNE (off | cached | full), if set; throws on another value. */
export function envTuneMode(env: Env = process.env): TuneMode | undefined {
  const v = env['AUTOMIX_TUNE'];
  if (v === undefined || v === '') return undefined;
  if (!(TUNE_MODES as readonly string[]).includes(v)) throw new Error(`AUTOMIX_TUNE must be one of ${TUNE_MODES.join(', ')}, got '${v}'`);
  return v as TuneMode;
}
