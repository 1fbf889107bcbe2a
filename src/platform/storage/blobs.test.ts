import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { sleep, waitFor } from '../../../test/wait.ts';
import type { Tenant } from '../../modules/tenants/schema.ts';
import { createTenant, deleteTenant } from '../../modules/tenants/service.ts';
import { envelopeVersion } from '../crypto/keyring.ts';
import type { Reencryptable } from '../crypto/reencryption.ts';
import type { Tx } from '../db/client.ts';
import { InvalidInput, NotFound } from '../errors.ts';
import { BlobIntegrityError, type BlobStore, type NewBlob, type StoredBlob } from './blob-store.ts';
import type { BlobStoreSettings } from './drivers.ts';
import { startTestS3Server, type TestS3Server } from './testing/s3-server.ts';

// The BlobStore's promises, on local disk and on a real S3-protocol server, on both database engines.

let s3: TestS3Server | undefined;

const STORES: { name: string; settings(): Promise<BlobStoreSettings> }[] = [
  { name: 'local disk', settings: async () => ({ kind: 'local', dir: undefined }) },
  {
    name: 'S3 (s3rver)',
    async settings() {
      s3 ??= await startTestS3Server(['candor']);
      return { kind: 's3', ...s3.settings({ prefix: 'candor/blobs', pageSize: 3 }) };
    },
  },
];

afterAll(async () => {
  await s3?.stop();
});

const HOUR = 60 * 60 * 1000;
const REPORT: NewBlob = { category: 'vulnerability-attachment', contentType: 'application/pdf', filename: 'pentest-2026.pdf' };

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe.each(STORES)('BlobStore on $name', ({ settings }) => {
  let t: TestApp;
  let clock: TestClock;
  let blobs: BlobStore;
  let slugs = 0;

  beforeAll(async () => {
    clock = new TestClock();
    t = await createTestApp({ clock, workJobs: true, config: { blobs: await settings() } });
    blobs = t.runtime.blobs;
  });
  afterAll(async () => {
    await t?.close();
  });

  function inTenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    return t.runtime.db.withTenant(tenantId, work);
  }
  const put = (tenantId: string, content: Uint8Array, meta: NewBlob = REPORT) =>
    inTenant(tenantId, (tx) => blobs.put(tx, tenantId, content, meta));
  const get = (tenantId: string, id: string) => inTenant(tenantId, (tx) => blobs.get(tx, tenantId, id));
  const describeBlob = (tenantId: string, id: string) => inTenant(tenantId, (tx) => blobs.describe(tx, tenantId, id));

  async function objectKeys(prefix = ''): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of blobs.driver.list(prefix)) keys.push(object.key);
    return keys;
  }

  function newTenant(): Promise<Tenant> {
    slugs += 1;
    return createTenant(t.runtime.db, { slug: `tenant-${slugs}`, name: `Tenant ${slugs}`, hosts: [`tenant-${slugs}.test`] });
  }

  /** Flips one byte of a stored object: on disk in place for the local driver, by overwriting in S3. */
  async function flipStoredByte(blob: StoredBlob, at = 40): Promise<void> {
    if (blobs.driver.kind === 'local') {
      const file = path.join(blobs.driver.location, ...blob.objectKey.split('/'));
      const bytes = readFileSync(file);
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
      writeFileSync(file, bytes);
      return;
    }
    const bytes = await blobs.driver.read(blob.objectKey);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    await blobs.driver.write(blob.objectKey, bytes);
  }

  /** What someone with write access to the database does to make an altered object look untouched. */
  async function recordStoredObject(blob: StoredBlob, stored: Buffer): Promise<void> {
    await t.runtime.db.withSystem((tx) =>
      tx.execute(
        sql`update blobs set stored_sha256 = ${sha256(stored)}, stored_size = ${stored.length}
            where tenant_id = ${blob.tenantId} and id = ${blob.id}`,
      ),
    );
  }

  it('encrypts a file before it leaves the process and gives it back whole, with its record', async () => {
    const content = Buffer.concat([Buffer.from('Quarterly pentest report — CONFIDENTIAL\n'), randomBytes(50_000)]);
    const blob = await put(t.tenant.id, content);
    expect(blob).toMatchObject({
      tenantId: t.tenant.id,
      category: 'vulnerability-attachment',
      contentType: 'application/pdf',
      filename: 'pentest-2026.pdf',
      size: content.length,
      sha256: sha256(content),
      keyVersion: 1,
      objectKey: `${t.tenant.id}/${blob.id}`,
    });

    const stored = await blobs.driver.read(blob.objectKey);
    expect(stored.subarray(0, 4).toString()).toBe('CDB1');
    expect(stored.includes(Buffer.from('CONFIDENTIAL'))).toBe(false);
    expect(stored.length).toBe(blob.storedSize);
    expect(sha256(stored)).toBe(blob.storedSha256);

    const read = await get(t.tenant.id, blob.id);
    expect(read.content.equals(content)).toBe(true);
    expect(read.blob).toEqual(blob);
    expect(await describeBlob(t.tenant.id, blob.id)).toEqual(blob);

    // The file name is personal data often enough: only its ciphertext is in the database.
    const rows = await t.runtime.db.withSystem((tx) => tx.execute(sql`select * from blobs where id = ${blob.id}`));
    expect(JSON.stringify((rows as unknown as { rows: unknown[] }).rows)).not.toContain('pentest');
  });

  it('refuses bad metadata with a clear error and stores nothing', async () => {
    const before = await objectKeys(`${t.tenant.id}/`);
    const bad: NewBlob[] = [
      { ...REPORT, category: 'Not A Category' },
      { ...REPORT, contentType: 'pdf' },
      { ...REPORT, filename: 'report.pdf\r\nX-Injected: 1' },
    ];
    for (const meta of bad) await expect(put(t.tenant.id, Buffer.from('x'), meta)).rejects.toBeInstanceOf(ZodError);
    await expect(put('../../etc', Buffer.from('x'))).rejects.toBeInstanceOf(InvalidInput);
    expect(await objectKeys(`${t.tenant.id}/`)).toEqual(before);
  });

  it('answers NotFound for an unknown or malformed id, and describe answers nothing', async () => {
    await expect(get(t.tenant.id, '7d7f2d7e-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFound);
    await expect(get(t.tenant.id, '../secret')).rejects.toBeInstanceOf(NotFound);
    expect(await describeBlob(t.tenant.id, 'not-a-uuid')).toBeUndefined();
  });

  it('refuses an object altered in storage with an error naming the blob, never garbage', async () => {
    const blob = await put(t.tenant.id, Buffer.from('the original text of the report'));
    await flipStoredByte(blob);
    const failure = get(t.tenant.id, blob.id);
    await expect(failure).rejects.toBeInstanceOf(BlobIntegrityError);
    await expect(failure).rejects.toThrow(new RegExp(`blob ${blob.id} of tenant ${t.tenant.id} .*altered`));
  });

  it('refuses an object that was truncated or has disappeared', async () => {
    const truncated = await put(t.tenant.id, randomBytes(1000));
    const stored = await blobs.driver.read(truncated.objectKey);
    await blobs.driver.write(truncated.objectKey, stored.subarray(0, 500));
    await expect(get(t.tenant.id, truncated.id)).rejects.toThrow(/does not match its recorded size/);

    const gone = await put(t.tenant.id, randomBytes(1000));
    await blobs.driver.delete(gone.objectKey);
    await expect(get(t.tenant.id, gone.id)).rejects.toThrow(new RegExp(`blob ${gone.id} .*is missing`));
  });

  it('refuses an altered object even when its record was altered to match: it no longer decrypts', async () => {
    const blob = await put(t.tenant.id, Buffer.from('payroll.csv contents'));
    await flipStoredByte(blob, 30);
    await recordStoredObject(blob, await blobs.driver.read(blob.objectKey));
    await expect(get(t.tenant.id, blob.id)).rejects.toThrow(new RegExp(`blob ${blob.id} .*does not decrypt`));
  });

  it("keeps tenants apart: another tenant's rows are invisible and its objects do not open under this tenant's key", async () => {
    const other = await newTenant();
    const mine = await put(t.tenant.id, Buffer.from('acme secret plans'));

    // Row-level security: from the other tenant, the blob does not exist, whatever tenant id is asked for.
    await expect(get(other.id, mine.id)).rejects.toBeInstanceOf(NotFound);
    await expect(inTenant(other.id, (tx) => blobs.get(tx, t.tenant.id, mine.id))).rejects.toBeInstanceOf(NotFound);
    expect(await inTenant(other.id, (tx) => blobs.describe(tx, t.tenant.id, mine.id))).toBeUndefined();

    // Key binding: acme's object copied over the other tenant's blob (record patched to match) does not open.
    const theirs = await put(other.id, Buffer.from('a blob of the other tenant'));
    const stolen = await blobs.driver.read(mine.objectKey);
    await blobs.driver.write(theirs.objectKey, stolen);
    await expect(get(other.id, theirs.id)).rejects.toThrow(/does not match its recorded size/);
    await recordStoredObject(theirs, stolen);
    await expect(get(other.id, theirs.id)).rejects.toThrow(
      new RegExp(`blob ${theirs.id} of tenant ${other.id} .*does not decrypt`),
    );
    expect((await get(t.tenant.id, mine.id)).content.toString()).toBe('acme secret plans');
  });

  it('leaves an orphan when a put rolls back, which the sweep removes once it is an hour old', async () => {
    let orphan: StoredBlob | undefined;
    const rolledBack = inTenant(t.tenant.id, async (tx) => {
      orphan = await blobs.put(tx, t.tenant.id, Buffer.from('never committed'), REPORT);
      throw new Error('the change that stored the file failed');
    });
    await expect(rolledBack).rejects.toThrow('the change that stored the file failed');
    if (!orphan) throw new Error('put did not run');
    expect(await objectKeys(`${t.tenant.id}/`)).toContain(orphan.objectKey);
    expect(await describeBlob(t.tenant.id, orphan.id)).toBeUndefined();
    const kept = await put(t.tenant.id, Buffer.from('committed'));
    await blobs.driver.write('backups/2026-11-21.tar', Buffer.from('not a blob: the sweep must not touch it'));

    // Young: its transaction might still have been open.
    expect((await blobs.sweep()).orphansRemoved).toBe(0);
    expect(await objectKeys(`${t.tenant.id}/`)).toContain(orphan.objectKey);

    clock.advance(2 * HOUR);
    expect((await blobs.sweep()).orphansRemoved).toBeGreaterThanOrEqual(1);
    const left = await objectKeys();
    expect(left).not.toContain(orphan.objectKey);
    expect(left).toContain(kept.objectKey);
    expect(left).toContain('backups/2026-11-21.tar');
    expect((await get(t.tenant.id, kept.id)).content.toString()).toBe('committed');
  });

  it('deletes the row at once and the object after the commit; a rolled-back delete keeps both', async () => {
    const blob = await put(t.tenant.id, Buffer.from('to be deleted'));
    await inTenant(t.tenant.id, async (tx) => {
      await blobs.delete(tx, t.tenant.id, blob.id);
      expect(await blobs.describe(tx, t.tenant.id, blob.id)).toBeUndefined();
    });
    await waitFor(async () => !(await objectKeys(`${t.tenant.id}/`)).includes(blob.objectKey));

    const survivor = await put(t.tenant.id, Buffer.from('survives a failed delete'));
    const failed = inTenant(t.tenant.id, async (tx) => {
      await blobs.delete(tx, t.tenant.id, survivor.id);
      throw new Error('the deleting change failed');
    });
    await expect(failed).rejects.toThrow('the deleting change failed');
    await sleep(1500); // time for a (wrongly) queued delete job to run
    expect((await get(t.tenant.id, survivor.id)).content.toString()).toBe('survives a failed delete');
  });

  it("removes a deleted tenant's rows at once and its objects after the commit, and no one else's", async () => {
    const doomed = await newTenant();
    await put(doomed.id, Buffer.from('one'));
    await put(doomed.id, Buffer.from('two'));
    const acme = await put(t.tenant.id, Buffer.from('acme stays'));
    expect(await objectKeys(`${doomed.id}/`)).toHaveLength(2);

    await deleteTenant(t.runtime, doomed.slug);
    const rows = await t.runtime.db.withSystem((tx) => tx.execute(sql`select id from blobs where tenant_id = ${doomed.id}`));
    expect((rows as unknown as { rows: unknown[] }).rows).toEqual([]);
    // The objects go first and the local folder after them: wait for the whole removal, not its first half.
    const folderGone = () => blobs.driver.kind !== 'local' || !existsSync(path.join(blobs.driver.location, doomed.id));
    await waitFor(async () => (await objectKeys(`${doomed.id}/`)).length === 0 && folderGone());
    expect((await get(t.tenant.id, acme.id)).content.toString()).toBe('acme stays');
    await expect(blobs.purgeTenantObjects(t.tenant.id)).rejects.toThrow(/still has blobs/);
  });

  it('scrubs every stored object against its record without keys, naming what is missing or altered', async () => {
    const tenant = await newTenant();
    const intact = await put(tenant.id, randomBytes(2000));
    const altered = await put(tenant.id, randomBytes(2000));
    const missing = await put(tenant.id, randomBytes(2000));
    const clean = await blobs.scrub({ tenantId: tenant.id });
    expect(clean).toEqual({ checked: 3, bytes: intact.storedSize + altered.storedSize + missing.storedSize, failures: [] });

    await flipStoredByte(altered);
    await blobs.driver.delete(missing.objectKey);
    const report = await blobs.scrub({ tenantId: tenant.id });
    expect(report.checked).toBe(3);
    expect(report.failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ blobId: altered.id, reason: 'sha-256 differs', objectKey: altered.objectKey }),
        expect.objectContaining({ blobId: missing.id, reason: 'missing' }),
      ]),
    );
    expect(report.failures).toHaveLength(2);
    expect((await blobs.scrub()).failures.map((f) => f.blobId)).toEqual(expect.arrayContaining([altered.id, missing.id]));
  });

  it('reports the driver, its location, and objects and bytes per tenant', async () => {
    const tenant = await newTenant();
    const a = await put(tenant.id, randomBytes(300));
    const b = await put(tenant.id, randomBytes(700));
    const status = await blobs.status();
    expect(status.driver).toBe(blobs.driver.kind);
    expect(status.location).toBe(blobs.driver.location);
    // By default, files live beside the database in the data directory.
    if (status.driver === 'local') expect(status.location).toBe(path.join(realpathSync(t.dataDir), 'blobs'));
    expect(status.tenants).toContainEqual({ tenantId: tenant.id, objects: 2, bytes: a.storedSize + b.storedSize });
    expect(status.objects).toBe(status.tenants.reduce((n, x) => n + x.objects, 0));
  });

  it('re-encrypts blobs under a rotated data key as new objects, and the old object goes after the commit', async () => {
    const tenant = await newTenant();
    const content = randomBytes(5000);
    const blob = await put(tenant.id, content, { ...REPORT, filename: 'rotated.pdf' });
    const holder = t.runtime.keys.reencryptables.find((r) => r.name === 'blobs') as Reencryptable;
    expect(holder).toBeDefined();
    const version = await inTenant(tenant.id, (tx) => t.runtime.keys.rotateDataKey(tx, tenant.id));
    expect(await inTenant(tenant.id, (tx) => holder.countStale(tx, tenant.id, version))).toBe(1);
    expect(await inTenant(tenant.id, (tx) => holder.countTotal(tx, tenant.id))).toBe(1);

    // A re-encryption that rolls back leaves the blob readable from its old object.
    const abandoned = inTenant(tenant.id, async (tx) => {
      await holder.reencryptBatch(tx, await t.runtime.keys.forTenant(tx, tenant.id), 10);
      throw new Error('interrupted');
    });
    await expect(abandoned).rejects.toThrow('interrupted');
    expect((await get(tenant.id, blob.id)).content.equals(content)).toBe(true);

    const changed = await inTenant(tenant.id, async (tx) =>
      holder.reencryptBatch(tx, await t.runtime.keys.forTenant(tx, tenant.id), 10),
    );
    expect(changed).toBe(1);
    expect(await inTenant(tenant.id, (tx) => holder.countStale(tx, tenant.id, version))).toBe(0);
    const after = await get(tenant.id, blob.id);
    expect(after.content.equals(content)).toBe(true);
    expect(after.blob).toMatchObject({
      keyVersion: version,
      objectKey: `${tenant.id}/${blob.id}.v${version}`,
      filename: 'rotated.pdf',
    });
    expect(envelopeVersion(await blobs.driver.read(after.blob.objectKey))).toBe(version);
    await waitFor(async () => !(await objectKeys(`${tenant.id}/`)).includes(blob.objectKey));
  });
});
