// Crash-safe file replacement for checkpoints and run state (Node-only).
// A reader of `path` sees either the complete old file or the complete new one,
// never a torn write: we write a temp file in the same directory, fsync it,
// rename it over the target (atomic on POSIX within one file system), and
// fsync the directory so the rename itself survives a power loss.

import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Test hooks to simulate a crash at a given stage. */
export interface AtomicWriteHooks {
  /** Called after the data is written to the temp file, before fsync/rename; throwing aborts the write. */
  afterWrite?: (tmpPath: string) => void | Promise<void>;
  /** Called after the temp file is fsynced and closed, just before the rename. */
  beforeRename?: (tmpPath: string) => void | Promise<void>;
}

/**
 * Atomically replace `path` with `data` (a string is written as UTF-8).
 * On any error the temp file is removed and the previous content of `path` is untouched.
 * @param hooks only for tests (crash simulation).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, hooks: AtomicWriteHooks = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let renamed = false;
  try {
    // 'wx': never clobber an existing file with the same (random) temp name.
    const fh = await open(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      await hooks.afterWrite?.(tmp);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await hooks.beforeRename?.(tmp);
    await rename(tmp, path);
    renamed = true;
    await fsyncDir(dir);
  } catch (e) {
    if (!renamed) await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** fsync a directory so a rename in it is durable. Some platforms/file systems refuse; that is fine. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, 'r');
  } catch (e) {
    if (isIgnorableDirSyncError(e)) return;
    throw e;
  }
  try {
    await fh.sync();
  } catch (e) {
    if (!isIgnorableDirSyncError(e)) throw e;
  } finally {
    await fh.close();
  }
}

function isIgnorableDirSyncError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  // Windows cannot open/fsync directories (EISDIR/EPERM); some file systems report EINVAL.
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'EACCES';
}
