import { verify as verifySignature } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import type { AuditInput } from '../../platform/audit/audit.ts';
import { Checkpoint, checkpointMessage, eventHash } from '../../platform/audit/event.ts';
import { readHead } from '../../platform/audit/store.ts';
import { EventLine, ed25519PublicKey, verifyLines } from '../../platform/audit/verify.ts';
import type { Actor } from '../../platform/context.ts';
import { createTenant } from '../tenants/service.ts';
import { signMovedHeads } from './service.ts';

// One tenant's trail, recorded at known times: 55 document views on 1 March 2025, a denied sign-in on 2 March,
// and an event whose actor and target are hostile text on 3 March. Whatever other capabilities record (tenant
// creation before, sign-in and tokens after) happens on other days. "Now" is 5 March.
let current = new Date('2025-02-20T10:00:00.000Z');
const clock = { now: () => current };

let t: TestApp;
let owner: SignedIn;
let otherTenantId: string;
/** The head before this file's events: they are base+1 (doc-0) … base+55 (doc-54), base+56 and base+57. */
let base: number;
const MALLORY = () => base + 56;
const HOSTILE = () => base + 57;
const MARCH = 'from=2025-03-01&to=2025-03-03';

const ada: Actor = {
  kind: 'user',
  id: '5f0c7d0e-8a43-4c3e-9d6f-0b1e2a3c4d5e',
  email: 'ada@acme.test',
  name: 'Ada',
  roles: ['owner'],
  permissions: new Set(),
};
const mallory: Actor = {
  kind: 'user',
  id: '0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b',
  email: 'mallory@evil.test',
  name: 'M',
  roles: ['employee'],
  permissions: new Set(),
};
const hostile: Actor = { kind: 'token', id: 'tok-1', name: '=HYPERLINK("http://evil.test")', permissions: new Set() };

async function record(tenantId: string, actor: Actor, input: AuditInput, ip: string | null = '192.0.2.10'): Promise<void> {
  await t.runtime.db.withTenant(tenantId, (tx) => t.runtime.audit.record(tx, { tenantId, actor, ip }, input));
}

const cookie = () => ({ cookie: owner.cookie });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function html(path: string): Promise<{ status: number; body: string }> {
  const res = await t.request(path, { headers: cookie() });
  return { status: res.status, body: await res.text() };
}

async function lines(res: Response): Promise<string[]> {
  return (await res.text()).split('\n').filter((l) => l !== '');
}

function rowsOf(body: string): string[] {
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1] ?? '').slice(1);
}

beforeAll(async () => {
  t = await createTestApp({ clock });
  const acme = t.tenant.id;
  base = (await t.runtime.db.withTenant(acme, (tx) => readHead(tx, acme)))?.seq ?? 0;
  for (let i = 0; i < 55; i++) {
    current = new Date(Date.UTC(2025, 2, 1, 10, 0, i));
    await record(acme, ada, { action: 'document.viewed', target: { type: 'document', id: `doc-${i}` }, details: { n: i } });
  }
  current = new Date('2025-03-02T08:00:00.000Z');
  await record(
    acme,
    mallory,
    { action: 'session.sign_in_failed', outcome: 'denied', details: { reason: 'bad password' } },
    '203.0.113.9',
  );
  current = new Date('2025-03-03T09:00:00.000Z');
  await record(acme, hostile, { action: 'api_token.used', target: { type: 'document', id: '<script>alert(1)</script>' } }, null);
  otherTenantId = (await createTenant(t.runtime.db, { slug: 'other', name: 'Other', hosts: ['other.test'] })).id;
  await record(otherTenantId, ada, { action: 'other.secret_thing', target: { type: 'vault', id: 'other-vault' } });
  await signMovedHeads(t.runtime);
  current = new Date('2025-03-05T12:00:00.000Z');
  owner = await t.signInAsOwner();
});

afterAll(async () => {
  await t.close();
});

describe('the audit trail in the back office', () => {
  it('lists events newest first with UTC time, actor, action, target, outcome and IP', async () => {
    const { status, body } = await html(`/admin/audit?${MARCH}`);
    expect(status).toBe(200);
    const rows = rowsOf(body);
    expect(rows).toHaveLength(50);
    expect(rows[0]).toContain(`href="/admin/audit/${HOSTILE()}"`);
    expect(rows[1]).toContain(`href="/admin/audit/${MALLORY()}"`);
    expect(rows[1]).toContain('2025-03-02 08:00:00 UTC');
    expect(rows[1]).toContain('mallory@evil.test');
    expect(rows[1]).toContain('session.sign_in_failed');
    expect(rows[1]).toContain('denied');
    expect(rows[1]).toContain('203.0.113.9');
    expect(rows[2]).toContain('document doc-54');
    expect(body).toContain('Showing 1–50 of 57');
    expect(body).not.toContain('other.secret_thing');
    const head = await t.runtime.db.withTenant(t.tenant.id, (tx) => readHead(tx, t.tenant.id));
    const unfiltered = rowsOf((await html('/admin/audit')).body);
    expect(unfiltered[0]).toContain(`href="/admin/audit/${head?.seq}"`);
  });

  it('escapes hostile text from the trail', async () => {
    const { body } = await html(`/admin/audit?${MARCH}`);
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).not.toContain('<script>alert(1)</script>');
  });

  it('filters by actor, action prefix, target, outcome and a date range', async () => {
    // Within this file's days: signing in and creating tokens add events of their own on other days.
    const only = async (query: string, range = MARCH) => rowsOf((await html(`/admin/audit?${query}&${range}`)).body);
    const byActor = await only('actor=MALLORY');
    expect(byActor).toHaveLength(1);
    expect(byActor[0]).toContain(`href="/admin/audit/${MALLORY()}"`);
    expect(await only(`actor=${ada.kind === 'user' ? ada.id : ''}`)).toHaveLength(50);
    expect((await html(`/admin/audit?action=document.&${MARCH}`)).body).toContain('Showing 1–50 of 55');
    expect(await only('action=session.')).toHaveLength(1);
    expect(await only('action=ocument')).toHaveLength(0);
    const byTarget = await only('target=doc-7');
    expect(byTarget).toHaveLength(1);
    expect(byTarget[0]).toContain('document doc-7');
    expect(await only('outcome=denied')).toHaveLength(1);
    const march2 = await only('from=2025-03-02&to=2025-03-02', '');
    expect(march2).toHaveLength(1);
    expect(march2[0]).toContain('mallory@evil.test');
    expect(await only('from=2025-03-02&to=2025-03-04', '')).toHaveLength(2);
    expect(await only('to=2025-03-01&actor=mallory', '')).toHaveLength(0);
  });

  it('pages through the filtered events, keeping the filter in the links', async () => {
    const { body } = await html(`/admin/audit?action=document.&${MARCH}&page=2`);
    expect(body).toContain('Showing 51–55 of 55');
    const rows = rowsOf(body);
    expect(rows).toHaveLength(5);
    expect(rows[4]).toContain(`href="/admin/audit/${base + 1}"`);
    expect(body).toContain('href="/admin/audit?action=document.&amp;from=2025-03-01&amp;to=2025-03-03&amp;page=1"');
  });

  it('shows an impossible date next to its field and lists nothing', async () => {
    const { status, body } = await html('/admin/audit?from=2025-02-30&actor=ada');
    expect(status).toBe(422);
    expect(body).toContain('field-from-error');
    expect(body).toContain('use a date like 2025-01-31');
    expect(body).toContain('value="ada"');
    expect(rowsOf(body)).toHaveLength(0);
  });

  it('shows one event with every field, its details, hash and previous hash', async () => {
    const { status, body } = await html(`/admin/audit/${MALLORY()}`);
    expect(status).toBe(200);
    const rows = await t.request(`/api/v1/audit/events/${MALLORY()}`, { headers: bearer(await t.apiToken('auditor')) });
    const event = EventLine.omit({ kind: true }).parse(await rows.json());
    for (const text of [
      'session.sign_in_failed',
      'mallory@evil.test',
      mallory.kind === 'user' ? mallory.id : '',
      '203.0.113.9',
      '2025-03-02 08:00:00.000 UTC',
      '&quot;reason&quot;: &quot;bad password&quot;',
      event.hash,
      event.prev,
      `href="/admin/audit/${MALLORY() - 1}"`,
      `href="/admin/audit/${HOSTILE()}"`,
    ]) {
      expect(body).toContain(text);
    }
  });

  it('answers 404 for an event beyond the head', async () => {
    expect((await html('/admin/audit/999999')).status).toBe(404);
  });

  it('shows the head, the latest checkpoint, the key id and the public checkpoints link', async () => {
    const { body } = await html('/admin/audit');
    const published = (await (await t.request('/.well-known/candor/audit-checkpoints.json')).json()) as {
      keys: { keyId: string }[];
      checkpoints: { seq: number; hash: string }[];
    };
    const checkpoint = published.checkpoints.at(-1);
    expect(checkpoint?.seq).toBe(HOSTILE());
    expect(body).toContain(`seq ${checkpoint?.seq}, <time`);
    const head = await t.runtime.db.withTenant(t.tenant.id, (tx) => readHead(tx, t.tenant.id));
    expect(body).toContain(`seq ${head?.seq} <code>${head?.hash}</code>`);
    expect(body).toContain(`<code>${published.keys[0]?.keyId}</code>`);
    expect(body).toContain('href="http://acme.test/.well-known/candor/audit-checkpoints.json"');
  });

  it('exports the filtered events as CSV, with spreadsheet formulas neutralised, and records the export', async () => {
    const res = await t.request('/admin/audit/export.csv?from=2025-03-02&to=2025-03-04', { headers: cookie() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="audit-acme-2025-03-05.csv"');
    const text = await res.text();
    const csv = text.split('\r\n');
    expect(csv[0]).toBe(
      'seq,time,actor_type,actor_id,actor,action,target_type,target_id,outcome,ip,user_agent,request_id,details,prev_hash,hash',
    );
    expect(csv[1]).toMatch(new RegExp(`^${HOSTILE()},`));
    expect(csv[1]).toMatch(/^\d+,2025-03-03T09:00:00.000Z,token,tok-1,"'=HYPERLINK\(""http:\/\/evil.test""\)",api_token.used,/);
    expect(csv[2]).toMatch(
      /^\d+,2025-03-02T08:00:00.000Z,user,.*,mallory@evil.test,session.sign_in_failed,,,denied,203.0.113.9,/,
    );
    expect(csv[2]).toContain('"{""reason"":""bad password""}"');
    expect(csv.slice(3)).toEqual(['']);
    const exported = rowsOf((await html('/admin/audit?action=audit.exported')).body);
    expect(exported[0]).toContain('owner@acme.test');
  });

  it('exports the whole trail as JSON Lines that verify, ending with its own export record', async () => {
    const res = await t.request('/admin/audit/export.jsonl', { headers: cookie() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jsonl');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const exported = await lines(res);
    const result = await verifyLines(exported);
    expect(result).toMatchObject({ ok: true, anchor: 'genesis', firstSeq: 1 });
    const last = exported.filter((l) => l.includes('"kind":"event"')).at(-1) ?? '{}';
    expect(JSON.parse(last)).toMatchObject({ action: 'audit.exported', details: { format: 'jsonl' } });
    expect(exported.join('\n')).not.toContain('other.secret_thing');
  });

  it('exports a time range that verifies on its own', async () => {
    const res = await t.request('/admin/audit/export.jsonl?from=2025-03-02&to=2025-03-03', { headers: cookie() });
    const exported = await lines(res);
    const result = await verifyLines(exported);
    expect(result).toMatchObject({ ok: true, firstSeq: MALLORY(), lastSeq: HOSTILE(), events: 2 });
  });

  it('verifies the chain on request and shows the result with who ran it', async () => {
    const res = await t.postForm('/admin/audit/verify', owner, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/audit');
    const flash = res.headers.get('set-cookie') ?? '';
    const { body } = await t
      .request('/admin/audit', { headers: { cookie: `${owner.cookie}; ${flash.split(';')[0]}` } })
      .then(async (r) => ({
        body: await r.text(),
      }));
    expect(body).toContain('audit trail intact: events 1–');
    expect(body).toContain('by owner@acme.test');
    const verified = rowsOf((await html('/admin/audit?action=audit.verified')).body);
    expect(verified).toHaveLength(1);
    expect(verified[0]).toContain('success');
  });

  it('refuses "Verify now" without the form token', async () => {
    const res = await t.request('/admin/audit/verify', {
      method: 'POST',
      headers: { ...cookie(), origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(res.status).toBe(403);
  });

  it('sends a visitor who is not signed in to the login page', async () => {
    for (const path of ['/admin/audit', '/admin/audit/1', '/admin/audit/export.csv', '/admin/audit/export.jsonl']) {
      const res = await t.request(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location'), path).toMatch(/^\/admin\/login\?next=/);
    }
  });
});

describe('the audit API', () => {
  it('searches with filters and pages of up to 200', async () => {
    const token = await t.apiToken('auditor');
    const res = await t.request(`/api/v1/audit/events?action=document.&${MARCH}&pageSize=10&page=2`, { headers: bearer(token) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      items: { seq: number; action: string }[];
      page: number;
      pageSize: number;
      total: number;
    };
    expect(body).toMatchObject({ page: 2, pageSize: 10, total: 55 });
    expect(body.items.map((e) => e.seq)).toEqual([45, 44, 43, 42, 41, 40, 39, 38, 37, 36].map((n) => base + n));
    const tooMany = await t.request('/api/v1/audit/events?pageSize=201', { headers: bearer(token) });
    expect(tooMany.status).toBe(422);
    expect(tooMany.headers.get('content-type')).toBe('application/problem+json');
    const badDate = await t.request('/api/v1/audit/events?to=yesterday', { headers: bearer(token) });
    expect(badDate.status).toBe(422);
  });

  it('returns one event exactly as hashed', async () => {
    const res = await t.request(`/api/v1/audit/events/${MALLORY()}`, { headers: bearer(await t.apiToken('security-admin')) });
    expect(res.status).toBe(200);
    const { hash, ...event } = EventLine.omit({ kind: true }).parse(await res.json());
    expect(eventHash(event)).toBe(hash);
    expect(event).toMatchObject({ seq: MALLORY(), ip: '203.0.113.9', outcome: 'denied', tenant: t.tenant.id });
    const missing = await t.request('/api/v1/audit/events/999999', { headers: bearer(await t.apiToken('auditor')) });
    expect(missing.status).toBe(404);
  });

  it('streams the verifiable export', async () => {
    const res = await t.request('/api/v1/audit/export', { headers: bearer(await t.apiToken('auditor')) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jsonl');
    expect((await verifyLines(await lines(res))).ok).toBe(true);
  });

  it('verifies on request and returns the result', async () => {
    const res = await t.request('/api/v1/audit/verify', { method: 'POST', headers: bearer(await t.apiToken('auditor')) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; anchor: string; firstSeq: number; problem: unknown; summary: string };
    expect(body).toMatchObject({ ok: true, anchor: 'genesis', firstSeq: 1, problem: null });
    expect(body.summary).toMatch(/^audit trail intact/);
  });

  it('refuses a role that may not read the trail, on every route', async () => {
    const token = await t.apiToken('employee');
    for (const [method, path] of [
      ['GET', '/api/v1/audit/events'],
      ['GET', '/api/v1/audit/events/1'],
      ['GET', '/api/v1/audit/export'],
      ['POST', '/api/v1/audit/verify'],
    ] as const) {
      const res = await t.request(path, { method, headers: bearer(token) });
      expect(res.status, path).toBe(403);
      expect(res.headers.get('content-type'), path).toBe('application/problem+json');
    }
    const exports = await t.request('/api/v1/audit/events?action=audit.exported&pageSize=200', {
      headers: bearer(await t.apiToken('auditor')),
    });
    const items = ((await exports.json()) as { items: { actor: { label: string } }[] }).items;
    expect(items.map((i) => i.actor.label)).not.toContain('test employee');
  });

  it('describes its routes in the OpenAPI document', async () => {
    const doc = (await (await t.request('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/audit/events'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/audit/events/{seq}'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/audit/export'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/audit/verify'] ?? {})).toEqual(['post']);
  });
});

describe('the published checkpoints', () => {
  interface Published {
    tenant: { slug: string; name: string };
    algorithm: string;
    keys: { keyId: string; publicKey: string; createdAt: string; retiredAt: string | null }[];
    checkpoints: (Checkpoint & { signature: string })[];
    next: string | null;
  }

  it('serves signatures anyone can verify with the listed key, without signing in, cacheable for a minute', async () => {
    const res = await t.request('/.well-known/candor/audit-checkpoints.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const doc = (await res.json()) as Published;
    expect(doc.tenant).toEqual({ slug: 'acme', name: 'Acme Corp' });
    expect(doc.algorithm).toBe('Ed25519');
    expect(doc.keys).toHaveLength(1);
    expect(doc.checkpoints.length).toBeGreaterThan(0);
    const keys = new Map(doc.keys.map((k) => [k.keyId, ed25519PublicKey(k.publicKey)]));
    for (const { signature, ...checkpoint } of doc.checkpoints) {
      const key = keys.get(checkpoint.keyId);
      if (!key) throw new Error(`unknown key ${checkpoint.keyId}`);
      expect(verifySignature(null, checkpointMessage(Checkpoint.parse(checkpoint)), key, Buffer.from(signature, 'base64'))).toBe(
        true,
      );
      expect(checkpoint.tenant).toBe(t.tenant.id);
    }
    // A forged hash does not carry the signature over.
    const [first] = doc.checkpoints;
    if (!first) throw new Error('no checkpoint');
    const { signature, ...forged } = { ...first, hash: 'f'.repeat(64) };
    const key = keys.get(first.keyId);
    if (!key) throw new Error('no key');
    expect(verifySignature(null, checkpointMessage(Checkpoint.parse(forged)), key, Buffer.from(signature, 'base64'))).toBe(false);
  });

  it('pages forward from a sequence number, oldest first', async () => {
    await record(t.tenant.id, ada, { action: 'document.viewed' });
    await signMovedHeads(t.runtime);
    const all = (await (await t.request('/.well-known/candor/audit-checkpoints.json?after=0')).json()) as Published;
    const seqs = all.checkpoints.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.length).toBeGreaterThanOrEqual(2);
    const after = (await (await t.request(`/.well-known/candor/audit-checkpoints.json?after=${seqs[0]}`)).json()) as Published;
    expect(after.checkpoints.map((c) => c.seq)).toEqual(seqs.slice(1));
    expect(after.next).toBeNull();
    const bad = await t.request('/.well-known/candor/audit-checkpoints.json?after=-1');
    expect(bad.status).toBe(422);
  });

  it('shows each host only its own tenant’s checkpoints', async () => {
    const res = await t.app.request('http://other.test/.well-known/candor/audit-checkpoints.json');
    const doc = (await res.json()) as Published;
    expect(doc.tenant.slug).toBe('other');
    expect(doc.checkpoints.map((c) => c.tenant)).toEqual([otherTenantId]);
  });
});
