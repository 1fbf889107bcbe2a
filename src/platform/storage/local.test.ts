import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BlobDriver, BlobKeyRefused } from './blob-store.ts';
import { createLocalDriver } from './local.ts';

let base: string;
let root: string;
let outside: string;
let driver: BlobDriver;

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'candor-local-'));
  root = path.join(base, 'blobs');
  outside = path.join(base, 'outside');
  mkdirSync(outside);
  driver = createLocalDriver(root);
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

async function keys(prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for await (const object of driver.list(prefix)) found.push(object.key);
  return found;
}

describe('local blob driver on disk', () => {
  it('keeps one owner-only folder per tenant and owner-only files, with no temp file left behind', async () => {
    const tenant = randomUUID();
    const blob = randomUUID();
    await driver.write(`${tenant}/${blob}`, Buffer.from('sealed bytes'));
    expect(readdirSync(path.join(root, tenant))).toEqual([blob]);
    expect(statSync(path.join(root, tenant)).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(root, tenant, blob)).mode & 0o777).toBe(0o600);
    expect(driver.location).toBe(root);
  });

  it('never lists temp files of writes in progress or interrupted, and removes only old ones', async () => {
    const tenant = randomUUID();
    const blob = randomUUID();
    await driver.write(`${tenant}/${blob}`, Buffer.from('whole'));
    // What a write interrupted between open and rename leaves: a dot-file beside its target.
    const stale = path.join(root, tenant, `.${randomUUID()}.0123456789ab.tmp`);
    const fresh = path.join(root, tenant, `.${randomUUID()}.ba9876543210.tmp`);
    writeFileSync(stale, 'half a wri');
    writeFileSync(fresh, 'being writ');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);

    expect(await keys()).toEqual([`${tenant}/${blob}`]);
    expect(await driver.removeAbandonedWrites(new Date(Date.now() - 60 * 60 * 1000))).toBe(1);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect((await driver.read(`${tenant}/${blob}`)).toString()).toBe('whole');
  });

  it('refuses to write through a tenant folder that is a symlink out of the root, creating nothing outside', async () => {
    const tenant = randomUUID();
    symlinkSync(outside, path.join(root, tenant));
    await expect(driver.write(`${tenant}/${randomUUID()}`, Buffer.from('x'))).rejects.toBeInstanceOf(BlobKeyRefused);
    await expect(driver.write(`${tenant}/deeper/${randomUUID()}`, Buffer.from('x'))).rejects.toThrow(/resolves outside/);
    expect(readdirSync(outside)).toEqual([]);
    writeFileSync(path.join(outside, 'secret'), 'not yours');
    await expect(driver.read(`${tenant}/secret`)).rejects.toBeInstanceOf(BlobKeyRefused);
    await expect(keys(`${tenant}/`)).rejects.toBeInstanceOf(BlobKeyRefused);
    await expect(driver.deletePrefix(`${tenant}/`)).rejects.toBeInstanceOf(BlobKeyRefused);
    expect(readdirSync(outside)).toEqual(['secret']);
  });

  it('refuses to read an object that is a symlink, and does not list it', async () => {
    const tenant = randomUUID();
    await driver.write(`${tenant}/${randomUUID()}`, Buffer.from('real'));
    writeFileSync(path.join(outside, 'passwd'), 'root:x:0:0');
    const planted = randomUUID();
    symlinkSync(path.join(outside, 'passwd'), path.join(root, tenant, planted));
    await expect(driver.read(`${tenant}/${planted}`)).rejects.toThrow(/symbolic link/);
    await expect(driver.readStream(`${tenant}/${planted}`)).rejects.toBeInstanceOf(BlobKeyRefused);
    expect(await keys()).not.toContain(`${tenant}/${planted}`);
  });

  it('removes a tenant folder whole, temp files included', async () => {
    const tenant = randomUUID();
    await driver.write(`${tenant}/${randomUUID()}`, Buffer.from('one'));
    writeFileSync(path.join(root, tenant, `.${randomUUID()}.0123456789ab.tmp`), 'partial');
    expect(await driver.deletePrefix(`${tenant}/`)).toBe(1);
    expect(existsSync(path.join(root, tenant))).toBe(false);
  });

  it('works under a root that is itself reached through a symlink', async () => {
    const real = path.join(base, 'real-root');
    mkdirSync(real);
    symlinkSync(real, path.join(base, 'linked-root'));
    const linked = createLocalDriver(path.join(base, 'linked-root'));
    const key = `${randomUUID()}/${randomUUID()}`;
    await linked.write(key, Buffer.from('through the link'));
    expect((await linked.read(key)).toString()).toBe('through the link');
    expect(readdirSync(real)).toHaveLength(1);
  });
});
