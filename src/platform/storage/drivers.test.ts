import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlobDriver, BlobKeyRefused, type BlobObject, BlobObjectMissing } from './blob-store.ts';
import { createLocalDriver } from './local.ts';
import { createS3Driver } from './s3.ts';
import { startTestS3Server, type TestS3Server } from './testing/s3-server.ts';

// One behavioural suite for every driver: what BlobStore and backups rely on, whatever holds the bytes.

interface DriverUnderTest {
  name: string;
  /**
   * Whether the backend itself can be watched replacing an object. S3 promises atomic PUTs, but s3rver
   * rewrites its file in place (a read during a write is cut short), so there the test would only test s3rver.
   */
  observableOverwrite: boolean;
  open(): Promise<{ driver: BlobDriver; close(): Promise<void> }>;
}

let s3: TestS3Server | undefined;
async function s3Server(): Promise<TestS3Server> {
  s3 ??= await startTestS3Server(['candor']);
  return s3;
}

const DRIVERS: DriverUnderTest[] = [
  {
    name: 'local disk',
    observableOverwrite: true,
    async open() {
      const root = mkdtempSync(path.join(tmpdir(), 'candor-blobs-'));
      return { driver: createLocalDriver(root), close: async () => rmSync(root, { recursive: true, force: true }) };
    },
  },
  {
    // Small listing pages so that every listing below crosses several pages.
    name: 'S3 (s3rver), one bucket with a prefix',
    observableOverwrite: false,
    async open() {
      const server = await s3Server();
      const driver = await createS3Driver(server.settings({ prefix: `candor/${randomUUID()}`, pageSize: 2 }));
      return { driver, close: async () => {} };
    },
  },
  {
    name: 'S3 (s3rver), a bucket per tenant',
    observableOverwrite: false,
    async open() {
      const server = await s3Server();
      const driver = await createS3Driver(
        server.settings({ prefix: `p${randomBytes(3).toString('hex')}`, bucketPerTenant: 'tenant-{tenant}', pageSize: 2 }),
      );
      return { driver, close: async () => {} };
    },
  },
];

afterAll(async () => {
  await s3?.stop();
});

async function listAll(driver: BlobDriver, prefix: string): Promise<BlobObject[]> {
  const objects: BlobObject[] = [];
  for await (const object of driver.list(prefix)) objects.push(object);
  return objects;
}

const ESCAPING_KEYS = [
  '../outside',
  'tenant/../../outside',
  '/etc/passwd',
  'tenant/a\0b',
  'tenant\\..\\x',
  '',
  'tenant//x',
  '.hidden',
  'a/./b',
];

describe.each(DRIVERS)('blob driver: $name', ({ open, observableOverwrite }) => {
  let driver: BlobDriver;
  let close: () => Promise<void>;
  const tenantA = randomUUID();
  const tenantB = randomUUID();

  beforeAll(async () => {
    ({ driver, close } = await open());
  });
  afterAll(async () => {
    await close?.();
  });

  it('reads back exactly the bytes written, including an empty object', async () => {
    const bytes = randomBytes(70_000);
    bytes[0] = 0;
    const key = `${tenantA}/${randomUUID()}`;
    await driver.write(key, bytes);
    expect((await driver.read(key)).equals(bytes)).toBe(true);
    const empty = `${tenantA}/${randomUUID()}`;
    await driver.write(empty, new Uint8Array(0));
    expect((await driver.read(empty)).length).toBe(0);
  });

  it('replaces an object written again under the same key', async () => {
    const key = `${tenantA}/${randomUUID()}`;
    await driver.write(key, Buffer.from('first version'));
    await driver.write(key, Buffer.from('second'));
    expect((await driver.read(key)).toString()).toBe('second');
  });

  it('streams a large object in full', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const key = `${tenantA}/${randomUUID()}`;
    await driver.write(key, bytes);
    const chunks: Buffer[] = [];
    for await (const chunk of await driver.readStream(key)) chunks.push(chunk as Buffer);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('reads a large object into one reused buffer, piece by piece, until it says 0', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const key = `${tenantA}/${randomUUID()}`;
    await driver.write(key, bytes);
    const reader = await driver.openReader(key);
    const buffer = Buffer.alloc(1024 * 1024 - 3);
    const hash = createHash('sha256');
    let total = 0;
    try {
      for (let count = await reader.readInto(buffer); count > 0; count = await reader.readInto(buffer)) {
        hash.update(buffer.subarray(0, count));
        total += count;
      }
    } finally {
      await reader.close();
    }
    expect(total).toBe(bytes.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('says an object is missing, for whole reads and streams alike', async () => {
    const key = `${tenantA}/${randomUUID()}`;
    await expect(driver.read(key)).rejects.toBeInstanceOf(BlobObjectMissing);
    await expect(driver.readStream(key)).rejects.toBeInstanceOf(BlobObjectMissing);
    await expect(driver.openReader(key)).rejects.toBeInstanceOf(BlobObjectMissing);
    await expect(driver.read(`${randomUUID()}/${randomUUID()}`)).rejects.toThrow(/no object/);
  });

  it('deletes an object, and deleting a missing one is not an error', async () => {
    const key = `${tenantA}/${randomUUID()}`;
    await driver.write(key, Buffer.from('short-lived'));
    await driver.delete(key);
    await expect(driver.read(key)).rejects.toBeInstanceOf(BlobObjectMissing);
    await driver.delete(key);
  });

  it('lists objects in key order with sizes and times, across tenants and pages, filtered by prefix', async () => {
    const before = Date.now() - 5_000;
    const written: string[] = [];
    for (const tenant of [tenantB, tenantA]) {
      for (let i = 0; i < 3; i++) {
        const id = randomUUID();
        written.push(`${tenant}/${id}`, `${tenant}/${id}.v2`);
      }
    }
    written.push('backups/2026-11-21.tar', 'backups/2026-11-20.tar');
    for (const key of written) await driver.write(key, Buffer.alloc(key.length, 1));

    const everything = await listAll(driver, '');
    const keys = everything.map((o) => o.key);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toEqual(expect.arrayContaining(written));
    for (const object of everything.filter((o) => written.includes(o.key))) {
      expect(object.size).toBe(object.key.length);
      expect(object.modifiedAt.getTime()).toBeGreaterThan(before);
    }

    const onlyB = (await listAll(driver, `${tenantB}/`)).map((o) => o.key);
    expect(onlyB).toEqual(written.filter((k) => k.startsWith(`${tenantB}/`)).sort());
    const backups = (await listAll(driver, 'backups/')).map((o) => o.key);
    expect(backups).toEqual(['backups/2026-11-20.tar', 'backups/2026-11-21.tar']);
    expect((await listAll(driver, `${tenantB.slice(0, 8)}`)).map((o) => o.key)).toEqual(onlyB);
    expect(await listAll(driver, `${randomUUID()}/`)).toEqual([]);
  });

  it('refuses keys and prefixes that could leave the store, for every operation', async () => {
    for (const key of ESCAPING_KEYS) {
      await expect(driver.write(key, Buffer.from('x')), key).rejects.toBeInstanceOf(BlobKeyRefused);
      await expect(driver.read(key), key).rejects.toBeInstanceOf(BlobKeyRefused);
      await expect(driver.readStream(key), key).rejects.toBeInstanceOf(BlobKeyRefused);
      await expect(driver.openReader(key), key).rejects.toBeInstanceOf(BlobKeyRefused);
      await expect(driver.delete(key), key).rejects.toBeInstanceOf(BlobKeyRefused);
      if (key !== '') await expect(listAll(driver, key), key).rejects.toBeInstanceOf(BlobKeyRefused);
    }
  });

  it("removes one tenant's objects with its prefix and leaves the others", async () => {
    const doomed = randomUUID();
    const kept = `${tenantA}/${randomUUID()}`;
    await driver.write(`${doomed}/${randomUUID()}`, Buffer.from('one'));
    await driver.write(`${doomed}/${randomUUID()}`, Buffer.from('two'));
    await driver.write(`${doomed}/${randomUUID()}.v3`, Buffer.from('three'));
    await driver.write(kept, Buffer.from('stays'));
    expect(await driver.deletePrefix(`${doomed}/`)).toBe(3);
    expect(await listAll(driver, `${doomed}/`)).toEqual([]);
    expect((await driver.read(kept)).toString()).toBe('stays');
    await expect(driver.deletePrefix('')).rejects.toBeInstanceOf(BlobKeyRefused);
  });

  it.runIf(observableOverwrite)(
    'shows a reader the old object or the new one while it is overwritten, never a part',
    async () => {
      const size = 4 * 1024 * 1024;
      const key = `${tenantA}/${randomUUID()}`;
      await driver.write(key, Buffer.alloc(size, 'a'));
      const overwrite = driver.write(key, Buffer.alloc(size, 'b'));
      let done = false;
      void overwrite.finally(() => {
        done = true;
      });
      while (!done) {
        const bytes = await driver.read(key);
        expect(bytes.length).toBe(size);
        const first = bytes.subarray(0, 1).toString();
        expect(bytes.equals(Buffer.alloc(size, first))).toBe(true);
      }
      await overwrite;
      expect((await driver.read(key)).equals(Buffer.alloc(size, 'b'))).toBe(true);
    },
  );
});
