import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { testMasterKey } from '../../../test/keys.ts';
import { createTenant } from '../../modules/tenants/service.ts';
import { DecryptionFailed } from './envelope.ts';
import { createKeyring, verifyMasterKey } from './keyring.ts';
import { localMasterKey, MasterKeyError } from './master-key.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const context = { table: 'notes', column: 'body', rowId: 'row-1' };

describe('tenant envelope encryption', () => {
  it('round-trips text and binary through the tenant key', async () => {
    const { keys, db } = t.runtime;
    await db.withTenant(t.tenant.id, async (tx) => {
      const cipher = await keys.forTenant(tx, t.tenant.id);
      const sealed = cipher.encrypt('jane@example.com', context);
      expect(sealed).toMatch(/^c1\.1\./);
      expect(sealed).not.toContain('jane');
      expect(cipher.decryptText(sealed, context)).toBe('jane@example.com');
      const blob = randomBytes(5000);
      expect(cipher.decryptBinary(cipher.encryptBinary(blob, context), context).equals(blob)).toBe(true);
    });
  });

  it('refuses a ciphertext moved to another row, and a tampered one', async () => {
    const { keys, db } = t.runtime;
    await db.withTenant(t.tenant.id, async (tx) => {
      const cipher = await keys.forTenant(tx, t.tenant.id);
      const sealed = cipher.encrypt('secret', context);
      expect(() => cipher.decrypt(sealed, { ...context, rowId: 'row-2' })).toThrow(DecryptionFailed);
      const body = Buffer.from(sealed.split('.')[2] ?? '', 'base64url');
      body[20] = (body[20] ?? 0) ^ 1;
      expect(() => cipher.decrypt(`c1.1.${body.toString('base64url')}`, context)).toThrow(DecryptionFailed);
    });
  });

  it('gives equal blind indexes for equal values and different ones across purposes', async () => {
    const { keys, db } = t.runtime;
    await db.withTenant(t.tenant.id, async (tx) => {
      const a = await keys.blindIndex(tx, t.tenant.id, 'jane@example.com', 'email');
      expect(await keys.blindIndex(tx, t.tenant.id, 'jane@example.com', 'email')).toBe(a);
      expect(await keys.blindIndex(tx, t.tenant.id, 'jane@example.com', 'other')).not.toBe(a);
      expect(a).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  it('keeps decrypting old versions after a rotation and writes with the new one', async () => {
    const { keys, db } = t.runtime;
    const old = await db.withTenant(t.tenant.id, (tx) => keys.encrypt(tx, t.tenant.id, 'before', context));
    const version = await db.withTenant(t.tenant.id, (tx) => keys.rotateDataKey(tx, t.tenant.id, new Date()));
    await db.withTenant(t.tenant.id, async (tx) => {
      const cipher = await keys.forTenant(tx, t.tenant.id);
      expect(cipher.version).toBe(version);
      expect(cipher.encrypt('after', context)).toMatch(new RegExp(`^c1\\.${version}\\.`));
      expect(cipher.decryptText(old, context)).toBe('before');
    });
  });

  it('refuses a wrong master key for this database', async () => {
    const wrong = localMasterKey(randomBytes(32), 'CANDOR_MASTER_KEY');
    await expect(verifyMasterKey(t.runtime.db, wrong)).rejects.toThrow(/is not the key this database was encrypted with/);
    await expect(verifyMasterKey(t.runtime.db, t.runtime.keys.master)).resolves.toBeUndefined();
  });

  it('refuses a wrapped key that was altered in the database, never handing out another key', async () => {
    const { db } = t.runtime;
    const victim = await createTenant(db, { slug: 'altered', name: 'Altered', hosts: ['altered.test'] });
    await db.withTenant(victim.id, (tx) => t.runtime.keys.forTenant(tx, victim.id));
    await db.withSystem((tx) =>
      tx.execute(
        sql`update tenant_keys set wrapped_key = translate(wrapped_key, 'ABCDabcd', 'BADCbadc') where tenant_id = ${victim.id}`,
      ),
    );
    // A fresh keyring has nothing cached: it must unwrap, and unwrapping fails authentication.
    const fresh = createKeyring(t.runtime.keys.master);
    await expect(db.withTenant(victim.id, (tx) => fresh.forTenant(tx, victim.id))).rejects.toThrow(DecryptionFailed);
  });
});

describe('a new master key', () => {
  it('refuses the whole re-wrap when one tenant key cannot be unwrapped, changing nothing', async () => {
    const { keys, db } = t.runtime;
    const next = localMasterKey(randomBytes(32), 'new key file');
    await expect(db.withSystem((tx) => keys.rewrapAll(tx, next))).rejects.toThrow(/data key v1: .*nothing was re-wrapped/);
    await expect(verifyMasterKey(db, keys.master)).resolves.toBeUndefined();
    expect(keys.master.id).toBe(testMasterKey.id);
    const altered = await db.withSystem((tx) => tx.execute(sql`select id from tenants where slug = 'altered'`));
    const id = (altered as unknown as { rows: { id: string }[] }).rows[0]?.id ?? '';
    await db.withSystem((tx) => keys.destroyTenantKeys(tx, id));
  });

  it('re-wraps every tenant key in one transaction; this process switches and keeps decrypting', async () => {
    const { keys, db } = t.runtime;
    const old = await db.withTenant(t.tenant.id, (tx) => keys.encrypt(tx, t.tenant.id, 'kept across re-wrap', context));
    const next = localMasterKey(randomBytes(32), 'new key file');
    const rewrapped = await db.withSystem((tx) => keys.rewrapAll(tx, next));
    keys.useMaster(next);
    expect(rewrapped.find((r) => r.tenantId === t.tenant.id)?.keys).toBeGreaterThanOrEqual(2);
    expect(keys.master.id).toBe(next.id);
    const wrappers = await db.withSystem((tx) => tx.execute(sql`select distinct master_key_id from tenant_keys`));
    expect((wrappers as unknown as { rows: { master_key_id: string }[] }).rows.map((r) => r.master_key_id)).toEqual([next.id]);
    await db.withTenant(t.tenant.id, async (tx) => {
      expect(await keys.decryptText(tx, t.tenant.id, old, context)).toBe('kept across re-wrap');
    });
    // A tenant's first keys are now wrapped by the new master key.
    const later = await createTenant(db, { slug: 'later', name: 'Later', hosts: ['later.test'] });
    await db.withTenant(later.id, (tx) => keys.forTenant(tx, later.id));
    const info = await db.withTenant(later.id, (tx) => keys.describeTenantKeys(tx, later.id));
    expect(info.map((k) => k.masterKeyId)).toEqual([next.id, next.id]);

    await expect(verifyMasterKey(db, next)).resolves.toBeUndefined();
    await expect(verifyMasterKey(db, testMasterKey)).rejects.toThrow(/is not the key this database was encrypted with/);
  });

  it('leaves a process that holds only the old master key unable to unwrap or make keys, with a clear reason', async () => {
    const { db } = t.runtime;
    const stale = createKeyring(testMasterKey);
    await expect(db.withTenant(t.tenant.id, (tx) => stale.forTenant(tx, t.tenant.id))).rejects.toThrow(
      /which this process does not hold .* restart Candor with the new key/,
    );
    const fresh = await createTenant(db, { slug: 'fresh', name: 'Fresh', hosts: ['fresh.test'] });
    await expect(db.withTenant(fresh.id, (tx) => stale.forTenant(tx, fresh.id))).rejects.toThrow(MasterKeyError);
    expect(await db.withTenant(fresh.id, (tx) => stale.describeTenantKeys(tx, fresh.id))).toEqual([]);
  });

  it('refuses to re-wrap under the key already in use', async () => {
    const { keys, db } = t.runtime;
    await expect(db.withSystem((tx) => keys.rewrapAll(tx, keys.master))).rejects.toThrow(/is the current one/);
  });
});
