import { randomBytes } from 'node:crypto';
import { constants, mkdirSync, realpathSync } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, realpath, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type BlobDriver, BlobKeyRefused, type BlobObject, BlobObjectMissing } from './blob-store.ts';
import { checkPrefix, keySegments } from './keys.ts';

// Temp files start with a dot (no key segment can) and end in a random tag, so list() never shows them
// and removeAbandonedWrites() recognises them.
const TEMP_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/;
// Streams read 1 MiB at a time: at Node's default 64 KiB a reader of a large object waits on sixteen times
// as many thread-pool round trips.
const STREAM_READ_BYTES = 1024 * 1024;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(`${root}${path.sep}`);
}

/** Makes a rename durable: the new directory entry survives a power loss once this returns. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Blobs as files under `root`: `<root>/<tenantId>/<blobId>`, one folder per tenant, owner-only
 * permissions. Writes go to a temp file in the same folder, are fsynced, then renamed over the target,
 * so a reader sees the old or the new file, never a part. Every path is resolved (symlinks included)
 * and must stay inside the root.
 */
export function createLocalDriver(root: string): BlobDriver {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const realRoot = realpathSync(root);

  function pathOf(key: string): string {
    return path.join(realRoot, ...keySegments(key));
  }

  /** The folder (or its nearest existing ancestor) must resolve inside the root: a symlinked folder could point anywhere. */
  async function assertInside(key: string, dir: string): Promise<void> {
    let probe = dir;
    for (;;) {
      try {
        const real = await realpath(probe);
        if (!isInside(realRoot, real)) throw new BlobKeyRefused(key, 'its folder resolves outside the blob store');
        return;
      } catch (error) {
        if (errorCode(error) !== 'ENOENT' || probe === realRoot) throw error;
        probe = path.dirname(probe);
      }
    }
  }

  async function openObject(key: string): Promise<FileHandle> {
    const file = pathOf(key);
    await assertInside(key, path.dirname(file));
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: the object itself may not be a symlink (to /etc/passwd, say).
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new BlobObjectMissing(key, realRoot);
      if (code === 'ELOOP') throw new BlobKeyRefused(key, 'the object is a symbolic link');
      throw error;
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new BlobObjectMissing(key, realRoot);
    }
    return handle;
  }

  async function writeAtomically(key: string, bytes: Uint8Array): Promise<void> {
    const file = pathOf(key);
    const dir = path.dirname(file);
    await assertInside(key, dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await assertInside(key, dir);
    const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
      await handle.close();
      await rename(temp, file);
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(dir);
  }

  async function* walk(dir: string, keyPrefix: string, prefix: string): AsyncGenerator<BlobObject> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return;
      throw error;
    }
    // Symlinks are neither followed nor listed; a folder sorts as `name/` so the walk yields keys in byte order.
    const usable = entries
      .filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isDirectory()))
      .map((e) => ({ entry: e, sortKey: e.isDirectory() ? `${e.name}/` : e.name }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const { entry } of usable) {
      const key = `${keyPrefix}${entry.name}`;
      if (entry.isDirectory()) {
        const folder = `${key}/`;
        if (folder.startsWith(prefix) || prefix.startsWith(folder)) yield* walk(path.join(dir, entry.name), folder, prefix);
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      try {
        keySegments(key);
      } catch {
        continue; // a file put there by hand under a name no key can have
      }
      const stats = await lstat(path.join(dir, entry.name)).catch((error: unknown) => {
        if (errorCode(error) === 'ENOENT') return undefined; // deleted while listing
        throw error;
      });
      if (stats) yield { key, size: stats.size, modifiedAt: stats.mtime };
    }
  }

  async function* list(prefix: string): AsyncGenerator<BlobObject> {
    checkPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const folderKey = slash === -1 ? '' : prefix.slice(0, slash);
    const start = folderKey ? pathOf(folderKey) : realRoot;
    if (folderKey) await assertInside(prefix, start);
    yield* walk(start, folderKey ? `${folderKey}/` : '', prefix);
  }

  async function deleteObject(key: string): Promise<void> {
    const file = pathOf(key);
    await assertInside(key, path.dirname(file));
    try {
      await unlink(file);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }

  async function removeTempFiles(dir: string, olderThan: Date): Promise<number> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return 0;
      throw error;
    }
    let removed = 0;
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) removed += await removeTempFiles(full, olderThan);
      else if (entry.isFile() && TEMP_FILE.test(entry.name)) {
        const stats = await lstat(full).catch(() => undefined);
        if (stats && stats.mtime < olderThan) {
          await rm(full, { force: true });
          removed += 1;
        }
      }
    }
    return removed;
  }

  return {
    kind: 'local',
    location: realRoot,
    write: writeAtomically,
    async read(key) {
      const handle = await openObject(key);
      try {
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },
    async readStream(key): Promise<Readable> {
      const handle = await openObject(key);
      return handle.createReadStream({ highWaterMark: STREAM_READ_BYTES }); // closes the handle when it ends or is destroyed
    },
    async openReader(key) {
      const handle = await openObject(key);
      return {
        readInto: async (into) => (await handle.read(into, 0, into.length, null)).bytesRead,
        close: () => handle.close(),
      };
    },
    delete: deleteObject,
    list,
    async deletePrefix(prefix) {
      if (prefix === '') throw new BlobKeyRefused(prefix, 'refusing to delete the whole blob store');
      let removed = 0;
      for await (const object of list(prefix)) {
        await deleteObject(object.key);
        removed += 1;
      }
      if (prefix.endsWith('/')) {
        // The folder itself goes too, with temp files of interrupted writes; a symlink is only unlinked.
        const folder = pathOf(prefix.slice(0, -1));
        await assertInside(prefix, path.dirname(folder));
        await rm(folder, { recursive: true, force: true });
      }
      return removed;
    },
    removeAbandonedWrites: (olderThan) => removeTempFiles(realRoot, olderThan),
  };
}
