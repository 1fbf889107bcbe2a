import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { findCategory, type RetentionCategory } from '../retention/categories.ts';
import { purgeCategory } from '../retention/purge.ts';
import { listRunRows } from '../retention/store.ts';

let t: TestApp;
let token: string;

const ids = {
  refusedLongAgo: crypto.randomUUID(),
  refusedLately: crypto.randomUUID(),
  abandonedLongAgo: crypto.randomUUID(),
  pendingForYears: crypto.randomUUID(),
  grantEndedLongAgo: crypto.randomUUID(),
  grantEndedLately: crypto.randomUUID(),
  revokedLongAgo: crypto.randomUUID(),
  grantStillOpen: crypto.randomUUID(),
  deniedLongAgo: crypto.randomUUID(),
};

/** A request (already sealed or not does not matter to retention) with its state and dates, `days` ago. */
async function seedRequest(
  id: string,
  state: string,
  dates: { createdDays: number; decidedDays?: number; linkExpiredDays?: number },
): Promise<void> {
  await t.runtime.db.query(
    `insert into document_requests (tenant_id, id, name, email, email_domain, company, reason, document_ids, state,
       origin, ip, user_agent, created_at, decided_at, token_hash, token_expires_at)
     values ($1, $2, 'Someone', 'someone@old.test', 'old.test', 'Old Co', '', array[]::uuid[], $3, 'http://acme.test',
       '203.0.113.1', 'Browser', now() - make_interval(days => $4), now() - make_interval(days => $5),
       $6, now() - make_interval(days => $7))`,
    [
      t.tenant.id,
      id,
      state,
      dates.createdDays,
      dates.decidedDays ?? null,
      dates.linkExpiredDays === undefined ? null : `hash-${id}`,
      dates.linkExpiredDays ?? null,
    ],
  );
}

async function seedSignature(requestId: string, signedDays: number): Promise<void> {
  await t.runtime.db.query(
    `insert into nda_signatures (tenant_id, request_id, email, typed_name, nda_version, nda_sha256, ip, user_agent, signed_at)
     values ($1, $2, 'someone@old.test', 'Someone', 1, 'abc', '203.0.113.1', 'Browser', now() - make_interval(days => $3))`,
    [t.tenant.id, requestId, signedDays],
  );
}

/** A grant that ends `endsDays` from now (negative: in the past), revoked `revokedDays` ago when given. */
async function seedGrant(requestId: string, endsDays: number, revokedDays?: number): Promise<void> {
  await t.runtime.db.query(
    `insert into document_grants (tenant_id, request_id, token_hash, versions, expires_at, revoked_at, created_at)
     values ($1, $2, $3, '{}'::jsonb, now() + make_interval(days => $4), now() - make_interval(days => $5),
       now() - make_interval(days => 4000))`,
    [t.tenant.id, requestId, `grant-${crypto.randomUUID()}`, endsDays, revokedDays ?? null],
  );
}

async function remaining(table: 'document_requests' | 'nda_signatures' | 'document_grants'): Promise<string[]> {
  const column = table === 'document_requests' ? 'id' : 'request_id';
  const { rows } = await t.runtime.db.query<{ id: string }>(`select ${column} as id from ${table} where tenant_id = $1`, [
    t.tenant.id,
  ]);
  return rows.map((r) => r.id).sort();
}

function category(slug: string): RetentionCategory {
  const found = findCategory(slug);
  if (!found) throw new Error(`no category ${slug}`);
  return found;
}

beforeAll(async () => {
  t = await createTestApp();
  token = await t.apiToken('security-admin');
  const year = 365;
  // Without a signed NDA (default: 1 year).
  await seedRequest(ids.refusedLongAgo, 'refused', { createdDays: 2 * year, decidedDays: 2 * year });
  await seedRequest(ids.refusedLately, 'refused', { createdDays: 30, decidedDays: 30 });
  await seedRequest(ids.abandonedLongAgo, 'nda', { createdDays: 2 * year, linkExpiredDays: 2 * year - 2 });
  await seedRequest(ids.pendingForYears, 'pending', { createdDays: 10 * year });
  await seedSignature(ids.pendingForYears, 10 * year);
  // With a signed NDA (default: 6 years after the last grant ended).
  for (const [id, grant] of [
    [ids.grantEndedLongAgo, { ends: -7 * year }],
    [ids.grantEndedLately, { ends: -4 * year }],
    [ids.revokedLongAgo, { ends: -3 * year, revoked: 7 * year }],
    [ids.grantStillOpen, { ends: 10 }],
  ] as const) {
    await seedRequest(id, 'approved', { createdDays: 8 * year, decidedDays: 8 * year });
    await seedSignature(id, 8 * year);
    await seedGrant(id, grant.ends, 'revoked' in grant ? grant.revoked : undefined);
  }
  await seedRequest(ids.deniedLongAgo, 'denied', { createdDays: 7 * year, decidedDays: 7 * year });
  await seedSignature(ids.deniedLongAgo, 7 * year);
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('retention of document requests', () => {
  it('purges requests without a signed NDA once closed for a year, keeping recent and pending ones', async () => {
    const outcome = await purgeCategory(t.runtime, t.tenant.id, category('document-requests'), {
      requestedBy: 'test',
      batchSize: 1,
    });
    expect(outcome).toMatchObject({ outcome: 'completed', deleted: 2 });
    const left = await remaining('document_requests');
    expect(left).not.toContain(ids.refusedLongAgo);
    expect(left).not.toContain(ids.abandonedLongAgo);
    expect(left).toContain(ids.refusedLately);
    expect(left).toContain(ids.pendingForYears);
    // Signed requests belong to the other category, however old.
    expect(left).toContain(ids.grantEndedLongAgo);
  });

  it('purges signed requests with their signatures and grants six years after the last grant ended', async () => {
    const outcome = await purgeCategory(t.runtime, t.tenant.id, category('signed-ndas'), {
      requestedBy: 'test',
      batchSize: 2,
    });
    const gone = [ids.grantEndedLongAgo, ids.revokedLongAgo, ids.deniedLongAgo];
    // Three requests, three signatures, two grants.
    expect(outcome).toMatchObject({ outcome: 'completed', deleted: 8 });
    for (const table of ['document_requests', 'nda_signatures', 'document_grants'] as const) {
      const left = await remaining(table);
      for (const id of gone) expect(left, table).not.toContain(id);
    }
    const left = await remaining('document_requests');
    for (const id of [ids.grantEndedLately, ids.grantStillOpen, ids.pendingForYears]) expect(left).toContain(id);
    expect(await remaining('nda_signatures')).toEqual([ids.grantEndedLately, ids.grantStillOpen, ids.pendingForYears].sort());
  });

  it('records each run, and refuses a period for signed NDAs shorter than the limitation period', async () => {
    const records = await t.runtime.db.withTenant(t.tenant.id, (tx) => listRunRows(tx, t.tenant.id, {}, 100, 0));
    const byCategory = Object.fromEntries(records.map((r) => [r.category, r]));
    expect(byCategory['document-requests']).toMatchObject({ outcome: 'completed', deleted: 2, batches: 2, requestedBy: 'test' });
    expect(byCategory['signed-ndas']).toMatchObject({ outcome: 'completed', deleted: 8, periodDays: 6 * 365 });

    const put = (slug: string, periodDays: number) =>
      t.request(`/api/v1/retention/rules/${slug}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ periodDays, held: false }),
      });
    expect((await put('signed-ndas', 365)).status).toBe(422);
    expect((await put('signed-ndas', 3 * 365)).status).toBe(200);
    expect((await put('document-requests', 30)).status).toBe(422);
  });
});
