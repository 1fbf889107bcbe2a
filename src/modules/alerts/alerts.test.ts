import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personActor } from '../../../test/actors.ts';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { type MailSink, startMailSink } from '../../../test/mail-sink.ts';
import type { AuditInput } from '../../platform/audit/audit.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import type { Actor, RequestContext } from '../../platform/context.ts';
import { listOutboxRows } from '../../platform/mail/store.ts';
import { AccessDenied } from '../access/service.ts';
import { withinBusinessHours } from './rules.ts';
import { defaultAlertSettings } from './schema.ts';
import { getAlertSettings, updateAlertSettings } from './service.ts';

interface AlertJson {
  id: string;
  rule: string;
  key: string;
  status: string;
  severity: string;
  title: string;
  eventSeqs: number[];
  eventCount: number;
  acknowledgedBy: string | null;
  closedBy: string | null;
  closeNote: string | null;
}

const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://acme.test' };
// A Wednesday, mid-morning UTC: inside the default business hours.
const clock = new TestClock(new Date('2030-01-09T10:00:00.000Z'));

let sink: MailSink;
let t: TestApp;
let owner: SignedIn;
let ownerToken: string;
let auditorToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function api<T>(path: string, token = ownerToken, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await t.request(`/api/v1${path}`, { ...init, headers: { ...bearer(token), ...(init.headers ?? {}) } });
  return { status: res.status, body: (await res.json()) as T };
}

async function alertsFor(rule: string, status = 'all'): Promise<AlertJson[]> {
  const { body } = await api<{ items: AlertJson[] }>(`/alerts?status=${status}`);
  return body.items.filter((a) => a.rule === rule);
}

async function events(action: string) {
  return t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, { action }, 1000, 0));
}

/** Alert mail in the outbox (written in the alert's own transaction, so counting it is exact). */
async function alertMail() {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => listOutboxRows(tx, 1000, 0));
  return rows.filter((m) => m.subject.startsWith('[Candor alert]'));
}

async function failSignIn(email: string): Promise<void> {
  // Past the sign-in throttle's delay (1, 2, 4, 8 s after the third failure), well inside the alert window.
  clock.advance(10_000);
  const res = await t.request('/admin/login', {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ email, password: 'not the right password' }).toString(),
  });
  expect(res.status).toBe(401);
}

/** Records an event as a capability would, in its own transaction; the rules judge it as it is written. */
async function record(actor: Actor, input: AuditInput, ip: string | null = '192.0.2.10') {
  return t.runtime.db.withTenant(t.tenant.id, (tx) => t.runtime.audit.record(tx, { tenantId: t.tenant.id, actor, ip }, input));
}

beforeAll(async () => {
  sink = await startMailSink();
  t = await createTestApp({ clock, workJobs: true, config: { smtpUrl: sink.url } });
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
  auditorToken = await t.apiToken('auditor');
});

afterAll(async () => {
  await t.close();
  await sink.close();
});

describe('repeated failed sign-ins for one account', () => {
  let alert: AlertJson;

  it('opens one alert at the fifth failure and mails the security contact over SMTP', async () => {
    for (let i = 0; i < 4; i++) await failSignIn(owner.email);
    expect(await alertsFor('failed-sign-in-account')).toEqual([]);
    await failSignIn(owner.email);

    const alerts = await alertsFor('failed-sign-in-account');
    expect(alerts).toHaveLength(1);
    alert = alerts[0] as AlertJson;
    const failures = (await events('session.sign_in_failed')).map((e) => e.seq).sort((a, b) => a - b);
    expect(alert).toMatchObject({ key: owner.email, status: 'open', severity: 'medium', eventCount: 5 });
    expect(alert.eventSeqs).toEqual(failures);

    const mail = await sink.waitForMail((m) => m.parsed.subject.includes('Repeated failed sign-ins'), 60_000);
    expect(mail.envelope.to).toEqual([owner.email]);
    expect(mail.parsed.subject).toBe(`[Candor alert] Repeated failed sign-ins for ${owner.email}`);
    expect(mail.parsed.text).toContain(`Account:   ${owner.email}`);
    expect(mail.parsed.text).toContain(`http://acme.test/admin/alerts/${alert.id}`);
  });

  it('adds a sixth failure to the same alert without a second mail', async () => {
    await failSignIn(owner.email);
    const alerts = await alertsFor('failed-sign-in-account');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ id: alert.id, eventCount: 6 });
    expect(alerts[0]?.eventSeqs).toHaveLength(6);
    expect(await alertMail()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(sink.messages.filter((m) => m.parsed.subject.startsWith('[Candor alert]'))).toHaveLength(1);
  });

  it('lists the alert and shows its causing events linked to the trail, recording the read', async () => {
    const list = await (await t.request('/admin/alerts', { headers: { cookie: owner.cookie } })).text();
    expect(list).toContain(`href="/admin/alerts/${alert.id}"`);
    expect(list).toContain(`Repeated failed sign-ins for ${owner.email}`);
    const closed = await (await t.request('/admin/alerts?status=closed', { headers: { cookie: owner.cookie } })).text();
    expect(closed).not.toContain(`href="/admin/alerts/${alert.id}"`);

    const page = await t.request(`/admin/alerts/${alert.id}`, { headers: { cookie: owner.cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const { body } = await api<AlertJson>(`/alerts/${alert.id}`);
    for (const seq of body.eventSeqs) expect(html).toContain(`href="/admin/audit/${seq}"`);
    expect(html).toContain('session.sign_in_failed');
    const [viewed] = await events('alert.viewed');
    expect(viewed).toMatchObject({ targetType: 'alert', targetId: alert.id });
  });

  it('lets an auditor read alerts but not acknowledge or close them', async () => {
    expect((await api(`/alerts/${alert.id}`, auditorToken)).status).toBe(200);
    const ack = await api<{ type: string }>(`/alerts/${alert.id}/acknowledge`, auditorToken, { method: 'POST' });
    expect(ack.status).toBe(403);
    expect(ack.body.type).toBe('/problems/forbidden');
    const close = await api(`/alerts/${alert.id}/close`, auditorToken, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'not mine to close' }),
    });
    expect(close.status).toBe(403);
    expect((await alertsFor('failed-sign-in-account'))[0]?.status).toBe('open');
    const denials = await events('access.denied');
    expect(denials.map((d) => [d.details.permission, d.details.path])).toEqual([
      ['alerts.manage', `/api/v1/alerts/${alert.id}/close`],
      ['alerts.manage', `/api/v1/alerts/${alert.id}/acknowledge`],
    ]);
    expect((await api('/alerts', await t.apiToken('employee'))).status).toBe(403);
  });

  it('acknowledges from the back office and records who did', async () => {
    const res = await t.postForm(`/admin/alerts/${alert.id}/acknowledge`, owner, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/alerts/${alert.id}`);
    const [acked] = await alertsFor('failed-sign-in-account');
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedBy: owner.email });
    const [event] = await events('alert.acknowledged');
    expect(event).toMatchObject({ actorLabel: owner.email, targetId: alert.id, details: { rule: 'failed-sign-in-account' } });
  });

  it('refuses to close without a note, explaining it beside the field', async () => {
    const res = await t.postForm(`/admin/alerts/${alert.id}/close`, owner, { note: '   ' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('say why the alert is closed');
    const empty = await api(`/alerts/${alert.id}/close`, ownerToken, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(empty.status).toBe(422);
    expect((await alertsFor('failed-sign-in-account'))[0]?.status).toBe('acknowledged');
  });

  it('closes with a note through the API, records it, and refuses to close twice', async () => {
    const note = 'Olivia forgot her password after the holidays; confirmed by phone.';
    const closed = await api<AlertJson>(`/alerts/${alert.id}/close`, ownerToken, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note }),
    });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', closeNote: note, closedBy: 'token test owner' });
    const [event] = await events('alert.closed');
    expect(event).toMatchObject({ actorType: 'token', targetId: alert.id, details: { note } });
    const again = await api(`/alerts/${alert.id}/close`, ownerToken, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note }),
    });
    expect(again.status).toBe(409);
  });

  it('does not count failures an earlier closed alert already covered', async () => {
    await failSignIn(owner.email);
    expect(await alertsFor('failed-sign-in-account', 'active')).toEqual([]);
    expect(await alertMail()).toHaveLength(1);
  });
});

describe('alert settings', () => {
  it('explains invalid settings beside each field and keeps what was typed', async () => {
    const res = await t.postForm('/admin/alerts/settings', owner, {
      'failed-sign-in-account.count': '0',
      'failed-sign-in-account.window': 'soon',
      businessHoursStart: '18',
      businessHoursEnd: '8',
      timeZone: 'Mars/Olympus_Mons',
      contacts: 'soc@acme.test\nnot-an-address',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('use at least 1');
    expect(html).toContain('enter a whole number');
    expect(html).toContain('value="soon"');
    expect(html).toContain('is not a time zone this server knows');
    expect(html).toContain('not-an-address is not a valid email address');
    expect(await events('alert_settings.updated')).toEqual([]);
  });

  it('can be read by auditors and changed only with alerts.manage', async () => {
    const as = (actor: Actor): RequestContext => ({
      ...t.runtime,
      tenant: { id: t.tenant.id, slug: t.tenant.slug, name: t.tenant.name },
      actor,
      requestId: 'test',
      ip: '127.0.0.1',
      userAgent: 'vitest',
    });
    const someone = { id: '00000000-0000-4000-8000-0000000000aa', email: 'aud@acme.test', name: 'Aud' };
    const auditor = as(personActor(someone, 'auditor'));
    expect((await getAlertSettings(auditor)).settings).toBeDefined();
    await expect(updateAlertSettings(auditor, defaultAlertSettings())).rejects.toBeInstanceOf(AccessDenied);
    await expect(getAlertSettings(as(personActor(someone, 'employee')))).rejects.toBeInstanceOf(AccessDenied);
    const page = await t.request('/admin/alerts/settings', { headers: { cookie: (await t.signInAs('auditor')).cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).not.toContain('Save settings');
  });

  it('show the saved values and who gets mail while no contacts are set', async () => {
    const page = await (await t.request('/admin/alerts/settings', { headers: { cookie: owner.cookie } })).text();
    expect(page).toContain('name="access-denied.count"');
    expect(page).toContain('value="5"');
    expect(page).toContain(`now ${owner.email}`);
  });

  it('honours a changed threshold and mails the configured contacts, recording the change', async () => {
    const denyTwice = async (token: string) => {
      for (let i = 0; i < 2; i++) expect((await api('/alerts', token)).status).toBe(403);
    };
    const before = await t.apiToken('employee');
    await denyTwice(before);
    expect(await alertsFor('access-denied')).toEqual([]);

    const current = await (await t.request('/admin/alerts/settings', { headers: { cookie: owner.cookie } })).text();
    const fields = Object.fromEntries([...current.matchAll(/name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const saved = await t.postForm('/admin/alerts/settings', owner, {
      ...fields,
      'access-denied.count': '2',
      contacts: 'SOC@acme.test, oncall@acme.test',
    });
    expect(saved.status).toBe(303);
    const [change] = await events('alert_settings.updated');
    expect(change?.details).toEqual({
      changes: {
        'access-denied.count': { from: 5, to: 2 },
        contacts: { from: [], to: ['soc@acme.test', 'oncall@acme.test'] },
      },
    });

    const after = await t.apiToken('employee');
    await denyTwice(after);
    const alerts = await alertsFor('access-denied');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ title: 'Repeated permission denials for test employee', eventCount: 2 });
    const mail = await sink.waitForMail((m) => m.parsed.subject.includes('permission denials'), 60_000);
    expect(mail.envelope.to.sort()).toEqual(['oncall@acme.test', 'soc@acme.test']);
  });
});

describe('rules judged as events are recorded', () => {
  const personId = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
  const person = (n: number): Actor =>
    personActor({ id: personId(n), email: `person${n}@acme.test`, name: `Person ${n}` }, 'employee');

  it('raises on twenty failed sign-ins from one address, across accounts', async () => {
    for (let i = 1; i <= 20; i++) {
      if (i === 20) expect(await alertsFor('failed-sign-in-ip')).toEqual([]);
      await record(
        { kind: 'anonymous' },
        { action: 'session.sign_in_failed', outcome: 'failed', details: { email: `guess${i}@acme.test` } },
        '203.0.113.9',
      );
    }
    const [alert] = await alertsFor('failed-sign-in-ip');
    expect(alert).toMatchObject({ key: '203.0.113.9', severity: 'high', eventCount: 20 });
    expect(await alertsFor('failed-sign-in-account', 'active')).toEqual([]);
  });

  it('raises at once on access from outside the allow-list', async () => {
    const event = await record(person(1), { action: 'access.outside_allowlist', outcome: 'denied' }, '198.51.100.7');
    const [alert] = await alertsFor('outside-allowlist');
    expect(alert).toMatchObject({ key: '198.51.100.7', eventSeqs: [event.seq], severity: 'high' });
  });

  it('raises on five MFA failures for one account', async () => {
    const target = { type: 'user', id: personId(2) };
    for (let i = 0; i < 4; i++) await record({ kind: 'anonymous' }, { action: 'mfa.failed', outcome: 'failed', target });
    expect(await alertsFor('mfa-failed')).toEqual([]);
    await record({ kind: 'anonymous' }, { action: 'mfa.failed', outcome: 'failed', target });
    expect(await alertsFor('mfa-failed')).toMatchObject([{ key: target.id, eventCount: 5 }]);
  });

  it('raises on three exports by one actor, not on two', async () => {
    await record(person(3), { action: 'audit.exported' });
    await record(person(4), { action: 'audit.exported' });
    await record(person(3), { action: 'privacy_request.exported' });
    expect(await alertsFor('bulk-export')).toEqual([]);
    await record(person(3), { action: 'audit.exported' });
    await record(person(4), { action: 'audit.exported', outcome: 'denied' });
    expect(await alertsFor('bulk-export')).toMatchObject([{ key: `user:${personId(3)}`, eventCount: 3 }]);
  });

  it('raises on fifty reads of personal data by one actor', async () => {
    for (let i = 0; i < 49; i++) {
      await record(person(5), { action: i % 2 ? 'mail.viewed' : 'mail.downloaded', target: { type: 'mail', id: `m${i}` } });
    }
    expect(await alertsFor('bulk-read')).toEqual([]);
    await record(person(5), { action: 'mail.viewed', target: { type: 'mail', id: 'm49' } });
    expect(await alertsFor('bulk-read')).toMatchObject([
      { eventCount: 50, title: 'Bulk reads of personal data by person5@acme.test' },
    ]);
  });

  it('raises on a privileged role granted outside business hours only', async () => {
    const grant = (role: string, id: string, privileged = false) =>
      record(person(6), {
        action: 'access.role_granted',
        target: { type: 'user', id },
        details: { role, email: `${id}@acme.test`, privileged },
      });
    await grant('owner', 'weekday', true);
    clock.advance((2 * 24 + 17) * 3_600_000); // Saturday 03:00 UTC
    await grant('employee', 'saturday-employee');
    await record(
      { kind: 'system', name: 'setup_link' },
      {
        action: 'access.role_granted',
        target: { type: 'user', id: 'first-owner' },
        details: { role: 'owner', privileged: true },
      },
    );
    expect(await alertsFor('privileged-grant-off-hours')).toEqual([]);
    await grant('security-admin', 'saturday-admin');
    await grant('people-admins', 'saturday-custom', true); // a custom role with user administration
    const raised = (await alertsFor('privileged-grant-off-hours')).sort((a, b) => a.key.localeCompare(b.key));
    expect(raised).toMatchObject([
      { key: 'saturday-admin', title: 'security-admin role granted outside business hours to saturday-admin@acme.test' },
      { key: 'saturday-custom', title: 'people-admins role granted outside business hours to saturday-custom@acme.test' },
    ]);
  });
});

describe('business hours', () => {
  const hours = { start: 8, end: 18, timeZone: 'UTC' };

  it('are Monday to Friday, start included and end excluded', () => {
    expect(withinBusinessHours(new Date('2030-01-07T08:00:00Z'), hours)).toBe(true); // Monday
    expect(withinBusinessHours(new Date('2030-01-07T17:59:59Z'), hours)).toBe(true);
    expect(withinBusinessHours(new Date('2030-01-07T18:00:00Z'), hours)).toBe(false);
    expect(withinBusinessHours(new Date('2030-01-07T07:59:59Z'), hours)).toBe(false);
    expect(withinBusinessHours(new Date('2030-01-12T12:00:00Z'), hours)).toBe(false); // Saturday
  });

  it('are read in the configured time zone', () => {
    // 07:30 UTC on a Monday is 08:30 in Berlin (winter time).
    expect(withinBusinessHours(new Date('2030-01-07T07:30:00Z'), { ...hours, timeZone: 'Europe/Berlin' })).toBe(true);
    // 23:30 UTC on a Friday is already Saturday in Tokyo.
    expect(withinBusinessHours(new Date('2030-01-11T23:30:00Z'), { ...hours, timeZone: 'Asia/Tokyo' })).toBe(false);
  });
});
