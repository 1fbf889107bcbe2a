import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { waitFor } from '../../../test/wait.ts';
import { signingKeyColumn } from '../../platform/audit/audit.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { auditSigningKeys } from '../../platform/audit/tables.ts';
import type { RequestContext, TenantRef } from '../../platform/context.ts';
import { DecryptionFailed } from '../../platform/crypto/envelope.ts';
import { addDestination, setDestinationEnabled } from '../siem/service.ts';
import { siemDestinations } from '../siem/tables.ts';
import { createTenant, deleteTenant } from '../tenants/service.ts';
import { queueStaleTenants } from './service.ts';

let t: TestApp;
let owner: SignedIn;
let ownerToken: string;
let auditorToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function contextFor(tenant: TenantRef): RequestContext {
  return { ...t.runtime, tenant, actor: { kind: 'system', name: 'test' }, requestId: 'test', ip: '127.0.0.1', userAgent: '' };
}

interface OverviewJson {
  master: { id: string; source: string };
  activeVersion: number | null;
  keys: { purpose: string; version: number; state: string; retiredAt: string | null }[];
  holders: { name: string; stale: number; total: number }[];
  stale: number;
}

async function overview(token = ownerToken): Promise<OverviewJson> {
  const res = await t.request('/api/v1/keys', { headers: bearer(token) });
  expect(res.status).toBe(200);
  return (await res.json()) as OverviewJson;
}

async function events(action: string) {
  return t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, { action }, 1000, 0));
}

/** A disabled webhook (nothing is sent) whose secret is stored encrypted. */
async function webhookWithSecret(tenant: TenantRef, secret: string): Promise<string> {
  const ctx = contextFor(tenant);
  const { destination } = await addDestination(ctx, {
    kind: 'webhook',
    name: `hook ${secret.slice(0, 4)}`,
    url: 'https://siem.example.com/in',
    secret,
  });
  await setDestinationEnabled(ctx, destination.id, false);
  return destination.id;
}

async function storedSecret(tenantId: string, id: string): Promise<string> {
  const [row] = await t.runtime.db.withTenant(tenantId, (tx) =>
    tx.select({ secret: siemDestinations.secret }).from(siemDestinations).where(eq(siemDestinations.id, id)),
  );
  return row?.secret ?? '';
}

async function openSecret(tenantId: string, id: string): Promise<string> {
  const stored = await storedSecret(tenantId, id);
  return t.runtime.db.withTenant(tenantId, (tx) =>
    t.runtime.keys.decryptText(tx, tenantId, stored, { table: 'siem_destinations', column: 'secret', rowId: id }),
  );
}

/** The tenant's checkpoint signing keys, as stored and as opened with the tenant's current keys. */
async function signingKeys(tenantId: string): Promise<{ keyId: string; stored: string; opened: string }[]> {
  return t.runtime.db.withTenant(tenantId, async (tx) => {
    const cipher = await t.runtime.keys.forTenant(tx, tenantId);
    const rows = await tx.select().from(auditSigningKeys).where(eq(auditSigningKeys.tenantId, tenantId));
    return rows.map((r) => ({
      keyId: r.keyId,
      stored: r.privateKey,
      opened: signingKeyColumn.open(cipher, r.keyId, r.privateKey),
    }));
  });
}

beforeAll(async () => {
  t = await createTestApp({ workJobs: true });
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
  auditorToken = await t.apiToken('auditor');
  // Something encrypted of each registered kind: a webhook secret and the audit checkpoint signing key.
  await webhookWithSecret(t.tenant, 'first webhook secret of enough length');
  await t.runtime.db.withTenant(t.tenant.id, (tx) => t.runtime.audit.checkpoint(tx, t.tenant.id));
});

afterAll(async () => {
  await t.close();
});

describe('the encryption keys page', () => {
  it('shows the master key id and source, never the key, with the tenant’s key versions and encrypted data', async () => {
    const res = await t.request('/admin/keys', { headers: { cookie: owner.cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(t.runtime.keys.master.id);
    expect(html).toContain('test master key');
    expect(html).not.toContain(Buffer.alloc(32, 7).toString('base64'));
    expect(html).toContain('siem_destinations.secret');
    expect(html).toContain('audit_signing_keys.private_key');
    expect(html).toMatch(/Data \(fields and files\)/);
    expect(html).toContain('Rotate data key');
    expect(html).toContain('up to date');
  });

  it('refuses a rotation without the form token or from another site, rotating nothing', async () => {
    const noToken = await t.request('/admin/keys/rotate', {
      method: 'POST',
      headers: { cookie: owner.cookie, origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(noToken.status).toBe(403);
    const crossSite = await t.request('/admin/keys/rotate', {
      method: 'POST',
      headers: { cookie: owner.cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: owner.csrfToken }).toString(),
    });
    expect(crossSite.status).toBe(403);
    expect((await overview()).activeVersion).toBe(1);
    expect(await events('keys.rotated')).toHaveLength(0);
  });

  it('shows an auditor the keys without the rotation, refusing and recording theirs; offers it to a security admin', async () => {
    const auditor = await t.signInAs('auditor');
    const page = await (await t.request('/admin/keys', { headers: { cookie: auditor.cookie } })).text();
    expect(page).toContain('audit_signing_keys.private_key');
    expect(page).not.toContain('Rotate data key');
    const refused = await t.postForm('/admin/keys/rotate', auditor, {});
    expect(refused.status).toBe(403);
    expect(
      (await events('access.denied')).some(
        (e) => e.details.permission === 'keys.manage' && e.details.path === '/admin/keys/rotate',
      ),
    ).toBe(true);
    const admin = await t.signInAs('security-admin');
    expect(await (await t.request('/admin/keys', { headers: { cookie: admin.cookie } })).text()).toContain('Rotate data key');
    expect((await overview()).activeVersion).toBe(1);
    expect(await events('keys.rotated')).toHaveLength(0);
  });

  it('rotates the data key from the page, records it, and the job re-encrypts everything under the new version', async () => {
    const hook = (await events('siem.destination_added'))[0]?.targetId ?? '';
    const keysBefore = await signingKeys(t.tenant.id);
    expect(await storedSecret(t.tenant.id, hook)).toMatch(/^c1\.1\./);

    const res = await t.postForm('/admin/keys/rotate', owner, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/keys');
    const [rotated] = await events('keys.rotated');
    expect(rotated).toMatchObject({ actorLabel: owner.email, targetId: 'data/2' });
    // The TOTP secrets the sign-in helpers enrolled (owner, security admin) are among the values re-encrypted.
    expect(rotated?.details).toEqual({ purpose: 'data', version: 2, previousVersion: 1, staleValues: 4 });

    // The job records its event in a transaction after its last batch: wait for both.
    const done = await waitFor(async () => {
      const o = await overview();
      return o.stale === 0 && (await events('keys.reencrypted')).length > 0 && o;
    });
    expect(done.activeVersion).toBe(2);
    expect(done.keys.filter((k) => k.purpose === 'data').map((k) => [k.version, k.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    expect(await storedSecret(t.tenant.id, hook)).toMatch(/^c1\.2\./);
    expect(await openSecret(t.tenant.id, hook)).toBe('first webhook secret of enough length');
    const keysAfter = await signingKeys(t.tenant.id);
    expect(keysAfter.map((k) => k.stored.slice(0, 5))).toEqual(['c1.2.']);
    expect(keysAfter.map((k) => k.opened)).toEqual(keysBefore.map((k) => k.opened));
    expect((await events('keys.reencrypted'))[0]?.details).toMatchObject({ version: 2, values: 4, remaining: 0 });
    // New writes use the new version.
    const next = await webhookWithSecret(t.tenant, 'second webhook secret of enough length');
    expect(await storedSecret(t.tenant.id, next)).toMatch(/^c1\.2\./);
  });

  it('shows the retired version beside the active one', async () => {
    const html = await (await t.request('/admin/keys', { headers: { cookie: owner.cookie } })).text();
    expect(html).toContain('retired, decrypt only');
    expect(html).toContain('version 2');
  });
});

describe('the keys API', () => {
  it('lets auditors read the key status but not rotate, recording the refusal', async () => {
    const status = await overview(auditorToken);
    expect(status.master).toEqual({ id: t.runtime.keys.master.id, source: 'test master key' });
    expect(status.holders.map((h) => h.name)).toEqual(
      expect.arrayContaining(['audit_signing_keys.private_key', 'siem_destinations.secret']),
    );
    const refused = await t.request('/api/v1/keys/rotate', { method: 'POST', headers: bearer(auditorToken) });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(
      (await events('access.denied')).some(
        (e) => e.details.permission === 'keys.manage' && e.details.path === '/api/v1/keys/rotate',
      ),
    ).toBe(true);
    expect((await overview()).activeVersion).toBe(2);
  });

  it('refuses roles that may not see keys, and requests without a token', async () => {
    expect((await t.request('/api/v1/keys', { headers: bearer(await t.apiToken('employee')) })).status).toBe(403);
    expect((await t.request('/api/v1/keys')).status).toBe(401);
  });

  it('rotates with an owner token and answers with the new version', async () => {
    const res = await t.request('/api/v1/keys/rotate', { method: 'POST', headers: bearer(ownerToken) });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ version: 3, previousVersion: 2 });
    await waitFor(async () => (await overview()).stale === 0);
  });

  it('describes its routes in the OpenAPI document', async () => {
    const doc = (await (await t.request('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/keys', '/keys/rotate']));
  });
});

describe('values stored in clear before encryption existed', () => {
  it('are read as they are, then encrypted by the sweep’s job without losing a key', async () => {
    const legacy = await createTenant(t.runtime.db, { slug: 'legacy', name: 'Legacy', hosts: ['legacy.test'] });
    const hook = await webhookWithSecret(legacy, 'legacy webhook secret of enough length');
    await t.runtime.db.withTenant(legacy.id, (tx) => t.runtime.audit.checkpoint(tx, legacy.id));
    const [key] = await signingKeys(legacy.id);
    // Put both back the way an older Candor stored them: in clear.
    await t.runtime.db.withSystem(async (tx) => {
      await tx.execute(sql`update siem_destinations set secret = 'legacy webhook secret of enough length' where id = ${hook}`);
      await tx.execute(sql`update audit_signing_keys set private_key = ${key?.opened ?? ''} where tenant_id = ${legacy.id}`);
    });
    expect((await signingKeys(legacy.id))[0]?.opened).toBe(key?.opened);

    expect(await queueStaleTenants(t.runtime)).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await storedSecret(legacy.id, hook)).startsWith('c1.'));
    await waitFor(async () => (await signingKeys(legacy.id))[0]?.stored.startsWith('c1.'));
    expect(await openSecret(legacy.id, hook)).toBe('legacy webhook secret of enough length');
    expect((await signingKeys(legacy.id))[0]?.opened).toBe(key?.opened);
  });
});

describe('deleting a tenant', () => {
  it('destroys its keys in the same transaction: ciphertexts copied out before can never be decrypted again', async () => {
    const doomed = await createTenant(t.runtime.db, { slug: 'doomed', name: 'Doomed', hosts: ['doomed.test'] });
    const hook = await webhookWithSecret(doomed, 'doomed webhook secret of enough length');
    const context = { table: 'notes', column: 'body', rowId: 'r1' };
    const copied = {
      secret: await storedSecret(doomed.id, hook),
      note: await t.runtime.db.withTenant(doomed.id, (tx) => t.runtime.keys.encrypt(tx, doomed.id, 'confidential', context)),
    };
    expect(await openSecret(doomed.id, hook)).toBe('doomed webhook secret of enough length');

    await deleteTenant(t.runtime, 'doomed');
    const left = await t.runtime.db.withSystem((tx) =>
      tx.execute(sql`select count(*)::int as n from tenant_keys where tenant_id = ${doomed.id}`),
    );
    expect((left as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(0);

    // A tenant with the very same id gets new keys; the old ciphertexts fail authentication under them.
    await t.runtime.db.withSystem((tx) =>
      tx.execute(
        sql`insert into tenants (id, slug, name, hosts) values (${doomed.id}, 'reborn', 'Reborn', array['reborn.test'])`,
      ),
    );
    await t.runtime.db.withTenant(doomed.id, async (tx) => {
      const cipher = await t.runtime.keys.forTenant(tx, doomed.id);
      expect(cipher.version).toBe(1);
      expect(() => cipher.decryptText(copied.note, context)).toThrow(DecryptionFailed);
      expect(() => cipher.decryptText(copied.secret, { table: 'siem_destinations', column: 'secret', rowId: hook })).toThrow(
        DecryptionFailed,
      );
    });
  });
});
