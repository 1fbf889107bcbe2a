import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personActor } from '../../../test/actors.ts';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import type { RequestContext } from '../../platform/context.ts';
import { AccessDenied, type RoleSlug } from '../access/service.ts';
import { RETENTION_CATEGORIES } from './categories.ts';
import { purgeExpiredData } from './purge.ts';
import { getRetentionRule, listRetentionRules, listRetentionRuns, requestPurge, updateRetentionRule } from './service.ts';

interface RuleJson {
  category: string;
  title: string;
  periodDays: number;
  defaultDays: number;
  isDefault: boolean;
  minimumDays: number;
  minimumReason: string;
  held: boolean;
  holdReason: string | null;
  updatedBy: string | null;
  lastRun: { outcome: string; deleted: number } | null;
}

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Record<string, string>;
}

let t: TestApp;
let owner: SignedIn;
let ownerToken: string;
let auditorToken: string;

const json = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

async function api<T>(
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<{ status: number; type: string; body: T }> {
  const res = await t.request(`/api/v1${path}`, { ...init, headers: json(init.token ?? ownerToken) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as T };
}

async function rule(category: string): Promise<RuleJson> {
  const { body } = await api<{ items: RuleJson[] }>('/retention/rules');
  const found = body.items.find((r) => r.category === category);
  if (!found) throw new Error(`no rule ${category}`);
  return found;
}

async function page(path = '/admin/retention'): Promise<string> {
  const res = await t.request(path, { headers: { cookie: owner.cookie } });
  expect(res.status).toBe(200);
  return res.text();
}

async function events(action: string) {
  return t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, { action }, 100, 0));
}

function contextAs(role: RoleSlug): RequestContext {
  return t.contextOf(personActor({ id: '00000000-0000-4000-8000-0000000000aa', email: `${role}@acme.test`, name: role }, role));
}

beforeAll(async () => {
  t = await createTestApp();
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
  auditorToken = await t.apiToken('auditor');
});

afterAll(async () => {
  await t.close();
});

describe('the retention page', () => {
  it('shows every category with its default period, its minimum and why, before any run', async () => {
    const html = await page();
    for (const category of RETENTION_CATEGORIES) {
      expect(html).toContain(category.title);
      expect(html).toContain(`href="/admin/retention/rules/${category.slug}"`);
    }
    expect(html).toContain('7 years (2557 days)');
    expect(html).toContain('90 days');
    expect(html).toContain('PCI DSS (requirement 10.5.1)');
    expect(html).toContain('not yet');
    expect(html).toContain('No purge has run yet');
    expect(html).toContain('Run purge now');
  });

  it('lists the same rules through the API, all defaults', async () => {
    const { status, body } = await api<{ items: RuleJson[] }>('/retention/rules');
    expect(status).toBe(200);
    expect(body.items.map((r) => r.category)).toEqual(RETENTION_CATEGORIES.map((c) => c.slug));
    expect(body.items.every((r) => r.isDefault && !r.held && r.lastRun === null && r.periodDays === r.defaultDays)).toBe(true);
    expect(await rule('audit-trail')).toMatchObject({ periodDays: 2557, minimumDays: 365, title: 'Audit trail' });
    expect((await rule('audit-trail')).minimumReason).toContain('twelve months');
  });

  it('shows the edit form of one rule with its default and minimum', async () => {
    const html = await page('/admin/retention/rules/outgoing-mail');
    expect(html).toContain('Retention: Copies of outgoing mail');
    expect(html).toContain('name="periodDays"');
    expect(html).toContain('value="90"');
    expect(html).toContain('At least 30. The default is 90.');
    expect(html).toContain('never: the default applies');
    const missing = await t.request('/admin/retention/rules/no-such-data', { headers: { cookie: owner.cookie } });
    expect(missing.status).toBe(404);
  });
});

describe('changing a rule', () => {
  it('refuses a period under the minimum beside the field, naming the minimum and why, and changes nothing', async () => {
    const res = await t.postForm('/admin/retention/rules/audit-trail', owner, {
      periodDays: '100',
      hold: 'purge',
      holdReason: '',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('keep audit trail at least 1 year (365 days)');
    expect(html).toContain('PCI DSS');
    expect(html).toContain('value="100"');
    expect(html).toContain('aria-invalid="true"');
    expect(await rule('audit-trail')).toMatchObject({ periodDays: 2557, isDefault: true });
    expect(await events('retention.rule_updated')).toEqual([]);
  });

  it('refuses a period under the minimum through the API as a problem, and changes nothing', async () => {
    const res = await api<Problem>('/retention/rules/outgoing-mail', {
      method: 'PUT',
      body: JSON.stringify({ periodDays: 7, held: false }),
    });
    expect(res.status).toBe(422);
    expect(res.type).toContain('application/problem+json');
    expect(res.body.type).toBe('/problems/validation-failed');
    expect(res.body.detail).toContain('at least 30 days');
    expect(res.body.errors?.periodDays).toContain('delivery problems');
    expect(await rule('outgoing-mail')).toMatchObject({ periodDays: 90, isDefault: true });
    expect(await events('retention.rule_updated')).toEqual([]);
  });

  it('refuses malformed rules with a clear error for each field', async () => {
    const words = await t.postForm('/admin/retention/rules/sessions', owner, { periodDays: 'ninety', hold: 'purge' });
    expect(words.status).toBe(422);
    expect(await words.text()).toContain('enter a whole number of days');
    const holdWithoutReason = await t.postForm('/admin/retention/rules/sessions', owner, {
      periodDays: '30',
      hold: 'hold',
      holdReason: ' ',
    });
    expect(holdWithoutReason.status).toBe(422);
    expect(await holdWithoutReason.text()).toContain('say why the data is held');
    const huge = await api<Problem>('/retention/rules/sessions', {
      method: 'PUT',
      body: JSON.stringify({ periodDays: 1_000_000, held: false }),
    });
    expect(huge.status).toBe(422);
    expect(huge.body.errors?.periodDays).toContain('at most 36500 days');
    const negative = await api<Problem>('/retention/rules/sessions', {
      method: 'PUT',
      body: JSON.stringify({ periodDays: -1, held: false }),
    });
    expect(negative.status).toBe(422);
    const noReason = await api<Problem>('/retention/rules/sessions', {
      method: 'PUT',
      body: JSON.stringify({ periodDays: 30, held: true }),
    });
    expect(noReason.status).toBe(422);
    expect(noReason.body.errors?.holdReason).toContain('say why');
    const unknown = await api<Problem>('/retention/rules/nothing-here', {
      method: 'PUT',
      body: JSON.stringify({ periodDays: 30, held: false }),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('/problems/not-found');
    expect(await rule('sessions')).toMatchObject({ periodDays: 30, isDefault: true, held: false });
    expect(await events('retention.rule_updated')).toEqual([]);
  });

  it('saves a longer period from the page, records the change and shows who made it', async () => {
    const res = await t.postForm('/admin/retention/rules/audit-trail', owner, {
      periodDays: '3653',
      hold: 'purge',
      holdReason: '',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/retention');
    expect(await rule('audit-trail')).toMatchObject({ periodDays: 3653, isDefault: false, updatedBy: owner.email });
    const [event] = await events('retention.rule_updated');
    expect(event).toMatchObject({ actorLabel: owner.email, targetType: 'retention_rule', targetId: 'audit-trail' });
    expect(event?.details).toEqual({ changes: { periodDays: { from: 2557, to: 3653 } } });
    expect(await page()).toContain('10 years (3653 days)');
    // Saving it again unchanged records nothing more.
    await t.postForm('/admin/retention/rules/audit-trail', owner, { periodDays: '3653', hold: 'purge', holdReason: '' });
    expect(await events('retention.rule_updated')).toHaveLength(1);
  });

  it('places a legal hold through the API, which the page then shows with its reason', async () => {
    const res = await api<RuleJson>('/retention/rules/closed-alerts', {
      method: 'PUT',
      body: JSON.stringify({ periodDays: 730, held: true, holdReason: 'Litigation hold, case 2031-4' }),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ held: true, holdReason: 'Litigation hold, case 2031-4', updatedBy: 'token test owner' });
    const html = await page();
    expect(html).toContain('on hold');
    expect(html).toContain('Litigation hold, case 2031-4');
    expect(html).toContain('Legal hold: nothing is purged from closed security alerts');
    const form = await page('/admin/retention/rules/closed-alerts');
    expect(form).toMatch(/<option value="hold" selected/);
  });

  it('refuses a form without the session’s token or from another site, and changes nothing', async () => {
    const noToken = await t.request('/admin/retention/rules/sessions', {
      method: 'POST',
      headers: { cookie: owner.cookie, origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ periodDays: '400', hold: 'purge' }).toString(),
    });
    expect(noToken.status).toBe(403);
    const crossSite = await t.request('/admin/retention/rules/sessions', {
      method: 'POST',
      headers: { cookie: owner.cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: owner.csrfToken, periodDays: '400', hold: 'purge' }).toString(),
    });
    expect(crossSite.status).toBe(403);
    const runNow = await t.request('/admin/retention/runs', {
      method: 'POST',
      headers: { cookie: owner.cookie, origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(runNow.status).toBe(403);
    expect(await rule('sessions')).toMatchObject({ periodDays: 30, isDefault: true });
  });
});

describe('who may do what', () => {
  it('lets an auditor read rules and deletion records, but not change rules or run the purge', async () => {
    expect((await api('/retention/rules', { token: auditorToken })).status).toBe(200);
    expect((await api('/retention/runs', { token: auditorToken })).status).toBe(200);
    const put = await api<Problem>('/retention/rules/sessions', {
      method: 'PUT',
      token: auditorToken,
      body: JSON.stringify({ periodDays: 400, held: false }),
    });
    expect(put.status).toBe(403);
    expect(put.body.type).toBe('/problems/forbidden');
    expect((await api('/retention/runs', { method: 'POST', token: auditorToken })).status).toBe(403);
    expect(await rule('sessions')).toMatchObject({ periodDays: 30, isDefault: true });
    const denials = await events('access.denied');
    expect(denials.map((d) => [d.details.permission, d.details.method, d.details.path])).toEqual([
      ['retention.manage', 'POST', '/api/v1/retention/runs'],
      ['retention.manage', 'PUT', '/api/v1/retention/rules/sessions'],
    ]);
  });

  it('shows an auditor the page without its controls, refusing the edit form and its posts with a record', async () => {
    const auditor = await t.signInAs('auditor');
    const res = await t.request('/admin/retention', { headers: { cookie: auditor.cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('action="/admin/retention/runs"');
    expect(html).not.toContain('href="/admin/retention/rules/');
    const form = await t.request('/admin/retention/rules/sessions', { headers: { cookie: auditor.cookie } });
    expect(form.status).toBe(403);
    const post = await t.postForm('/admin/retention/rules/sessions', auditor, { periodDays: '400', hold: 'purge' });
    expect(post.status).toBe(403);
    expect((await t.postForm('/admin/retention/runs', auditor, {})).status).toBe(403);
    expect(await rule('sessions')).toMatchObject({ periodDays: 30, isDefault: true });
    const denials = (await events('access.denied')).filter((d) => d.actorLabel === auditor.email);
    expect(denials.map((d) => [d.details.permission, d.details.method, d.details.path])).toEqual([
      ['retention.manage', 'POST', '/admin/retention/runs'],
      ['retention.manage', 'POST', '/admin/retention/rules/sessions'],
      ['retention.manage', 'GET', '/admin/retention/rules/sessions'],
    ]);
  });

  it('keeps everything from other roles, and the services check it too', async () => {
    const employee = await t.apiToken('employee');
    expect((await api('/retention/rules', { token: employee })).status).toBe(403);
    expect((await api('/retention/runs', { token: employee })).status).toBe(403);
    await expect(listRetentionRules(contextAs('employee'))).rejects.toBeInstanceOf(AccessDenied);
    await expect(listRetentionRuns(contextAs('employee'), { page: 1 })).rejects.toBeInstanceOf(AccessDenied);
    await expect(listRetentionRules(contextAs('auditor'))).resolves.toHaveLength(RETENTION_CATEGORIES.length);
    await expect(updateRetentionRule(contextAs('auditor'), 'sessions', { periodDays: 40, held: false })).rejects.toBeInstanceOf(
      AccessDenied,
    );
    await expect(requestPurge(contextAs('auditor'))).rejects.toBeInstanceOf(AccessDenied);
    await expect(getRetentionRule(contextAs('auditor'), 'sessions')).rejects.toBeInstanceOf(AccessDenied);
    await expect(
      updateRetentionRule(contextAs('security-admin'), 'sessions', { periodDays: 40, held: false }),
    ).resolves.toMatchObject({
      periodDays: 40,
    });
  });

  it('needs a token for the API', async () => {
    const res = await t.request('/api/v1/retention/rules');
    expect(res.status).toBe(401);
  });
});

describe('running the purge', () => {
  it('queues one purge from the API and the page, not a second while one waits', async () => {
    const first = await api<{ queued: boolean }>('/retention/runs', { method: 'POST' });
    expect(first).toMatchObject({ status: 202, body: { queued: true } });
    const second = await api<{ queued: boolean }>('/retention/runs', { method: 'POST' });
    expect(second.body).toEqual({ queued: false });
    const fromPage = await t.postForm('/admin/retention/runs', owner, {});
    expect(fromPage.status).toBe(303);
    const after = await t.request('/admin/retention', {
      headers: { cookie: `${owner.cookie}; ${fromPage.headers.get('set-cookie')?.split(';')[0]}` },
    });
    expect(await after.text()).toContain('A purge is already waiting to run.');
    const requested = await events('retention.purge_requested');
    expect(requested.map((e) => e.details.queued)).toEqual([false, false, true]);
  });

  it('pages through the deletion records, newest first, and shows each category’s last run', async () => {
    for (let i = 0; i < 4; i++) await purgeExpiredData(t.runtime, { tenantId: t.tenant.id });
    const total = 4 * RETENTION_CATEGORIES.length;
    const first = await api<{ items: { category: string; outcome: string }[]; total: number; pageSize: number }>(
      '/retention/runs',
    );
    expect(first.body).toMatchObject({ total, pageSize: 25 });
    expect(first.body.items).toHaveLength(25);
    const second = await api<{ items: unknown[] }>('/retention/runs?page=2');
    expect(second.body.items).toHaveLength(Math.min(25, total - 25));
    const sessions = await api<{ items: { category: string }[]; total: number }>('/retention/runs?category=sessions');
    expect(sessions.body.total).toBe(4);
    expect(sessions.body.items.every((r) => r.category === 'sessions')).toBe(true);
    expect((await api('/retention/runs?page=0')).status).toBe(422);

    expect(await rule('closed-alerts')).toMatchObject({ lastRun: { outcome: 'held', deleted: 0 } });
    expect(await rule('sessions')).toMatchObject({ lastRun: { outcome: 'completed', deleted: 0 } });
    const html = await page('/admin/retention?page=2');
    expect(html).toContain(`Showing 26–${Math.min(50, total)} of ${total}`);
    expect(html).toContain('held');
    expect(html).not.toContain('No purge has run yet');
  });

  it('describes the retention endpoints in the OpenAPI document', async () => {
    const doc = (await (await t.request('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/retention/rules'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/retention/rules/{category}'] ?? {})).toEqual(['put']);
    expect(Object.keys(doc.paths['/retention/runs'] ?? {}).sort()).toEqual(['get', 'post']);
  });
});
