import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { testMasterKey } from '../../../test/keys.ts';
import { createTenant } from '../../modules/tenants/service.ts';
import type { Tx } from '../db/client.ts';
import { DecryptionFailed } from './envelope.ts';
import { createKeyring, type Keyring } from './keyring.ts';
import { encryptedTextColumn } from './reencryption.ts';

// A scratch table shaped like a capability's: tenant first in the key, one nullable encrypted column.
const notes = pgTable(
  'reencryption_test_notes',
  { tenantId: uuid('tenant_id').notNull(), id: uuid('id').notNull(), body: text('body') },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);
const body = encryptedTextColumn({ table: notes, tenantId: notes.tenantId, rowId: notes.id, column: notes.body });

let database: TestDatabase;
let keys: Keyring;
let tenantId: string;
let otherTenantId: string;

const inTenant = <T>(work: (tx: Tx) => Promise<T>, id = tenantId) => database.db.withTenant(id, work);

async function insertNote(id: string, value: string | null, tenant = tenantId): Promise<void> {
  await inTenant(
    (tx) =>
      tx
        .insert(notes)
        .values({ tenantId: tenant, id, body: value })
        .then(() => {}),
    tenant,
  );
}

async function bodyIn(tx: Tx, id: string): Promise<string | null> {
  const [row] = await tx.select({ body: notes.body }).from(notes).where(eq(notes.id, id));
  return row?.body ?? null;
}

const storedBody = (id: string) => inTenant((tx) => bodyIn(tx, id));

/** Opens the value stored in `from`'s row as if it belonged to row `as`. */
function openBody(from: string, as = from): Promise<string> {
  return inTenant(async (tx) => body.open(await keys.forTenant(tx, tenantId), as, (await bodyIn(tx, from)) ?? ''));
}

beforeAll(async () => {
  database = await openTestDatabase();
  keys = createKeyring(testMasterKey);
  await database.db.query(
    'create table reencryption_test_notes (tenant_id uuid not null, id uuid not null, body text, primary key (tenant_id, id))',
  );
  await database.db.query('alter table reencryption_test_notes enable row level security');
  await database.db.query(
    'create policy tenant_isolation on reencryption_test_notes using (tenant_id = candor_current_tenant()) with check (tenant_id = candor_current_tenant())',
  );
  await database.db.query('grant all on reencryption_test_notes to candor_app');
  tenantId = (await createTenant(database.db, { slug: 'acme', name: 'Acme', hosts: ['acme.test'] })).id;
  otherTenantId = (await createTenant(database.db, { slug: 'other', name: 'Other', hosts: ['other.test'] })).id;
});

afterAll(async () => {
  await database.drop();
});

describe('an encrypted text column', () => {
  const sealedId = randomUUID();
  const clearId = randomUUID();
  const emptyId = randomUUID();

  it('seals a value bound to its row and reads clear text written before encryption as it is', async () => {
    await inTenant(async (tx) => {
      const cipher = await keys.forTenant(tx, tenantId);
      await tx.insert(notes).values({ tenantId, id: sealedId, body: body.seal(cipher, sealedId, 'sealed secret') });
    });
    await insertNote(clearId, 'legacy clear secret');
    await insertNote(emptyId, null);
    expect(await storedBody(sealedId)).toMatch(/^c1\.1\./);
    expect(await openBody(sealedId)).toBe('sealed secret');
    expect(await openBody(clearId)).toBe('legacy clear secret');
    // The same envelope copied onto another row does not open there.
    await expect(openBody(sealedId, clearId)).rejects.toThrow(DecryptionFailed);
  });

  it('counts clear values and older versions as stale, and re-encrypts them in batches under the new version', async () => {
    await insertNote(randomUUID(), 'another tenant’s clear value', otherTenantId);
    const counts = () =>
      inTenant(async (tx) => ({
        stale: await body.countStale(tx, tenantId, (await keys.forTenant(tx, tenantId)).version),
        total: await body.countTotal(tx, tenantId),
      }));
    expect(await counts()).toEqual({ stale: 1, total: 2 });
    await inTenant((tx) => keys.rotateDataKey(tx, tenantId));
    expect(await counts()).toEqual({ stale: 2, total: 2 });

    const first = await inTenant(async (tx) => body.reencryptBatch(tx, await keys.forTenant(tx, tenantId), 1));
    expect(first).toBe(1);
    expect(await counts()).toEqual({ stale: 1, total: 2 });
    const rest = await inTenant(async (tx) => body.reencryptBatch(tx, await keys.forTenant(tx, tenantId), 10));
    expect(rest).toBe(1);
    expect(await inTenant(async (tx) => body.reencryptBatch(tx, await keys.forTenant(tx, tenantId), 10))).toBe(0);

    expect(await storedBody(sealedId)).toMatch(/^c1\.2\./);
    expect(await storedBody(clearId)).toMatch(/^c1\.2\./);
    expect(await storedBody(emptyId)).toBeNull();
    expect(await openBody(sealedId)).toBe('sealed secret');
    expect(await openBody(clearId)).toBe('legacy clear secret');
    // The other tenant's row is its own business.
    const other = await database.db.withTenant(otherTenantId, (tx) => body.countStale(tx, otherTenantId, 1));
    expect(other).toBe(1);
  });

  it('stops with the row named when a stored envelope was tampered with, changing nothing', async () => {
    const id = randomUUID();
    await inTenant(async (tx) => {
      const cipher = await keys.forTenant(tx, tenantId);
      const sealed = body.seal(cipher, id, 'will be damaged');
      const damaged = `${sealed.slice(0, -4)}${sealed.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      await tx.insert(notes).values({ tenantId, id, body: damaged });
    });
    await expect(openBody(id)).rejects.toThrow(/failed authentication/);
    await inTenant((tx) => keys.rotateDataKey(tx, tenantId));
    const before = await storedBody(sealedId);
    await expect(inTenant(async (tx) => body.reencryptBatch(tx, await keys.forTenant(tx, tenantId), 10))).rejects.toThrow(
      new RegExp(`reencryption_test_notes.body of row ${id}`),
    );
    expect(await storedBody(sealedId)).toBe(before);
    await inTenant((tx) => tx.execute(sql`delete from reencryption_test_notes where id = ${id}`));
  });
});
