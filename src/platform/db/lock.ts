import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'candor.lock';

/** Another live process holds the data directory. */
export class DataDirLocked extends Error {
  override name = 'DataDirLocked';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`data directory ${dataDir} is in use by process ${pid}`);
  }
}

export interface DataDirLock {
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else; it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PID recorded in the lock, or undefined when there is no (readable) lock. */
export function lockOwner(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The PID of a live process holding the directory, if any. */
export function liveLockOwner(dataDir: string): number | undefined {
  const pid = lockOwner(dataDir);
  return pid !== undefined && pid !== process.pid && isAlive(pid) ? pid : undefined;
}

/**
 * Takes the embedded database's directory for this process. The lock file is created exclusively, so two
 * processes racing cannot both win; a lock whose process is gone is stale and taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release() {
          if (lockOwner(dataDir) === process.pid) unlinkSync(file);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = lockOwner(dataDir);
      if (pid !== undefined && pid !== process.pid && isAlive(pid)) throw new DataDirLocked(dataDir, pid);
      // Stale (its process died) or unreadable half-written: remove and try again.
      try {
        unlinkSync(file);
      } catch {}
    }
  }
  throw new Error(`could not lock data directory ${dataDir}`);
}
