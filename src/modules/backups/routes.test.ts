import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { waitFor } from '../../../test/wait.ts';
import { eventsAfter } from '../../platform/audit/store.ts';
import type { Actor } from '../../platform/context.ts';
import { createApiToken } from '../identity/service.ts';
import { createTenant } from '../tenants/service.ts';
import { findBackup } from './store.ts';

let t: TestApp;
let owner: SignedIn;
let ownerToken: string;
let auditorToken: string;
let otherTenantToken: string;
let destination: string;

const bearer = (token: string, host = 'acme.test') => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  host,
});

async function trail(): Promise<string[]> {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => eventsAfter(tx, t.tenant.id, 0, 10_000));
  return rows.map((r) => r.action);
}

/** Refused permission checks as [permission, method, path], newest first. */
async function denials(): Promise<unknown[][]> {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => eventsAfter(tx, t.tenant.id, 0, 10_000));
  return rows
    .filter((r) => r.action === 'access.denied')
    .reverse()
    .map((r) => [r.details.permission, r.details.method, r.details.path]);
}

async function page(): Promise<string> {
  const res = await t.request('/admin/backups', { headers: { cookie: owner.cookie } });
  expect(res.status).toBe(200);
  return res.text();
}

beforeAll(async () => {
  // Workers run: "Back up now" is carried out by the real job.
  t = await createTestApp({ workJobs: true });
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
  auditorToken = await t.apiToken('auditor');
  destination = mkdtempSync(path.join(tmpdir(), 'candor-backup-routes-'));
  const system: Actor = { kind: 'system', name: 'cli' };
  const other = await createTenant(
    t.runtime.db,
    { slug: 'other', name: 'Other Co', hosts: ['other.test'] },
    { audit: t.runtime.audit, actor: system },
  );
  otherTenantToken = (
    await createApiToken(t.runtime, { tenantId: other.id, actor: system }, { name: 'other owner', role: 'owner' })
  ).token;
});

afterAll(async () => {
  await t.close();
  rmSync(destination, { recursive: true, force: true });
});

describe('the backups page', () => {
  it('shows that no backup exists yet, the destination, and the settings form', async () => {
    const html = await page();
    expect(html).toContain('No backup yet');
    expect(html).toContain(path.join(t.dataDir, 'backups'));
    expect(html).toContain('Back up now');
    expect(html).toContain('name="keepDaily" type="text" value="30"');
  });

  it('refuses invalid settings with inline errors and saves nothing', async () => {
    const res = await t.postForm('/admin/backups/settings', owner, {
      ownerEmail: 'not an address',
      destination: 'relative/dir',
      scheduleEnabled: 'on',
      keepDaily: 'many',
      keepMonthly: '12',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('enter a valid email address');
    expect(html).toContain('enter an absolute directory');
    expect(html).toContain('enter the number of daily backups to keep');
    expect(html).toContain('value="relative/dir"');
    expect(await trail()).not.toContain('backup.settings_changed');
  });

  it('saves settings, records them in the trail, and uses the new destination', async () => {
    const res = await t.postForm('/admin/backups/settings', owner, {
      ownerEmail: 'ops@acme.test',
      destination,
      scheduleEnabled: 'off',
      keepDaily: '7',
      keepMonthly: '3',
    });
    expect(res.status).toBe(303);
    expect(await trail()).toContain('backup.settings_changed');
    const html = await page();
    expect(html).toContain('7 daily and 3 monthly backups');
    expect(html).toContain(`<code>${destination}</code>`);
    expect(html).toContain('off (verification still runs daily');
  });

  it('refuses a form without the session’s token, or from another site', async () => {
    const noToken = await t.request('/admin/backups/run', {
      method: 'POST',
      headers: { cookie: owner.cookie, origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(noToken.status).toBe(403);
    const crossSite = await t.request('/admin/backups/run', {
      method: 'POST',
      headers: { cookie: owner.cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: owner.csrfToken }).toString(),
    });
    expect(crossSite.status).toBe(403);
    expect(await trail()).not.toContain('backup.requested');
  });

  it('offers an auditor “Verify now” but neither a backup nor the settings, refusing those with a record', async () => {
    const auditor = await t.signInAs('auditor');
    const html = await (await t.request('/admin/backups', { headers: { cookie: auditor.cookie } })).text();
    expect(html).toContain('action="/admin/backups/verify"');
    expect(html).not.toContain('action="/admin/backups/run"');
    expect(html).not.toContain('name="keepDaily"');
    expect((await t.postForm('/admin/backups/run', auditor, {})).status).toBe(403);
    const settings = { ownerEmail: '', destination: '', scheduleEnabled: 'on', keepDaily: '1', keepMonthly: '0' };
    expect((await t.postForm('/admin/backups/settings', auditor, settings)).status).toBe(403);
    expect(await denials()).toEqual(
      expect.arrayContaining([
        ['backups.manage', 'POST', '/admin/backups/run'],
        ['backups.manage', 'POST', '/admin/backups/settings'],
      ]),
    );
    expect(await trail()).not.toContain('backup.requested');
  });

  it('“Back up now” queues a backup that the job takes, recorded in the trail and shown in the history', async () => {
    const res = await t.postForm('/admin/backups/run', owner, {});
    expect(res.status).toBe(303);
    expect(await trail()).toContain('backup.requested');
    const { body } = await waitFor(async () => {
      const api = await t.request('/api/v1/backups', { headers: bearer(ownerToken) });
      const list = (await api.json()) as { items: { status: string; location: string | null }[] };
      return list.items[0]?.status === 'ok' ? { body: list } : undefined;
    }, 60_000);
    expect(body.items[0]?.location?.startsWith(`${destination}/candor-backup-`)).toBe(true);
    const html = await page();
    expect(html).toContain('Backups are healthy');
    expect(html).toContain('value="ops@acme.test"');
    expect(await trail()).toContain('backup.completed');
  });

  it('“Verify now” queues a verification that records its result', async () => {
    const res = await t.postForm('/admin/backups/verify', owner, {});
    expect(res.status).toBe(303);
    expect(await trail()).toContain('backup.verification_requested');
    await waitFor(async () => {
      const api = await t.request('/api/v1/backups', { headers: bearer(ownerToken) });
      const list = (await api.json()) as { items: { verification: { status: string } | null }[] };
      return list.items[0]?.verification?.status === 'ok';
    }, 60_000);
  });
});

describe('the backups API', () => {
  it('starts a backup and reports it by id', async () => {
    const res = await t.request('/api/v1/backups', { method: 'POST', headers: bearer(ownerToken) });
    expect(res.status).toBe(202);
    const queued = (await res.json()) as { id: string; status: string; trigger: string; requestedBy: string };
    expect(queued).toMatchObject({ status: 'queued', trigger: 'manual', requestedBy: 'token test owner' });
    const done = await waitFor(async () => {
      const one = await t.request(`/api/v1/backups/${queued.id}`, { headers: bearer(ownerToken) });
      const item = (await one.json()) as { status: string; size: number; parts: number; rowCounts: Record<string, number> };
      return item.status === 'ok' ? item : undefined;
    }, 60_000);
    expect(done.size).toBeGreaterThan(0);
    expect(done.rowCounts.tenants).toBe(2);
    const row = await t.runtime.db.withSystem((tx) => findBackup(tx, queued.id));
    expect(row?.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers 404 for an unknown backup and 422 for a malformed id', async () => {
    expect(
      (await t.request('/api/v1/backups/00000000-0000-4000-8000-000000000000', { headers: bearer(ownerToken) })).status,
    ).toBe(404);
    const bad = await t.request('/api/v1/backups/nope', { headers: bearer(ownerToken) });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });

  it('reads and changes the settings, refusing invalid ones', async () => {
    const read = await t.request('/api/v1/backups/settings', { headers: bearer(ownerToken) });
    expect(await read.json()).toMatchObject({ keepDaily: 7, keepMonthly: 3, scheduleEnabled: false });
    const invalid = await t.request('/api/v1/backups/settings', {
      method: 'PUT',
      headers: bearer(ownerToken),
      body: JSON.stringify({ ownerEmail: null, destination: 's3://', scheduleEnabled: true, keepDaily: 0, keepMonthly: 12 }),
    });
    expect(invalid.status).toBe(422);
    const problem = (await invalid.json()) as { errors: Record<string, string> };
    expect(Object.keys(problem.errors).sort()).toEqual(['destination', 'keepDaily']);
    const saved = await t.request('/api/v1/backups/settings', {
      method: 'PUT',
      headers: bearer(ownerToken),
      body: JSON.stringify({ ownerEmail: 'OPS@acme.test', destination, scheduleEnabled: true, keepDaily: 30, keepMonthly: 12 }),
    });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toMatchObject({ ownerEmail: 'ops@acme.test', scheduleEnabled: true });
  });

  it('lets auditors read and verify, but not start backups or change settings, recording each refusal', async () => {
    expect((await t.request('/api/v1/backups', { headers: bearer(auditorToken) })).status).toBe(200);
    expect((await t.request('/api/v1/backups/settings', { headers: bearer(auditorToken) })).status).toBe(200);
    expect((await t.request('/api/v1/backups', { method: 'POST', headers: bearer(auditorToken) })).status).toBe(403);
    expect((await t.request('/api/v1/backups/verify', { method: 'POST', headers: bearer(auditorToken) })).status).toBe(202);
    const put = await t.request('/api/v1/backups/settings', {
      method: 'PUT',
      headers: bearer(auditorToken),
      body: JSON.stringify({ ownerEmail: null, destination: null, scheduleEnabled: true, keepDaily: 1, keepMonthly: 0 }),
    });
    expect(put.status).toBe(403);
    expect(await denials()).toEqual(
      expect.arrayContaining([
        ['backups.manage', 'POST', '/api/v1/backups'],
        ['backups.manage', 'PUT', '/api/v1/backups/settings'],
      ]),
    );
    const settings = (await (await t.request('/api/v1/backups/settings', { headers: bearer(ownerToken) })).json()) as {
      keepDaily: number;
    };
    expect(settings.keepDaily).toBe(30);
  });

  it('refuses backups to other roles', async () => {
    const employee = await t.apiToken('employee');
    expect((await t.request('/api/v1/backups', { headers: bearer(employee) })).status).toBe(403);
    expect((await t.request('/api/v1/backups/verify', { method: 'POST', headers: bearer(employee) })).status).toBe(403);
    expect(await denials()).toEqual(expect.arrayContaining([['backups.verify', 'POST', '/api/v1/backups/verify']]));
  });

  it('shows other workspaces only the health of the installation’s backups', async () => {
    const list = await t.app.request('http://other.test/api/v1/backups', { headers: bearer(otherTenantToken, 'other.test') });
    expect(list.status).toBe(200);
    const body = (await list.json()) as {
      managedHere: boolean;
      managedIn: string;
      items: unknown[];
      destination: string | null;
      health: { state: string };
    };
    expect(body).toMatchObject({ managedHere: false, managedIn: 'Acme Corp', items: [], destination: null });
    expect(body.health.state).toBe('ok');
    const start = await t.app.request('http://other.test/api/v1/backups', {
      method: 'POST',
      headers: bearer(otherTenantToken, 'other.test'),
    });
    expect(start.status).toBe(403);
    expect(((await start.json()) as { detail: string }).detail).toContain('managed in the workspace “Acme Corp”');
  });
});
