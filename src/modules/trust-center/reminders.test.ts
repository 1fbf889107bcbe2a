import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { type MailSink, startMailSink } from '../../../test/mail-sink.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { moduleJobs } from '../jobs.ts';
import { dueThresholds, sendCertificateReminders } from './reminders.ts';

const DAY = 24 * 60 * 60 * 1000;
const clock = new TestClock(new Date('2026-11-21T06:00:00Z'));

let t: TestApp;
let sink: MailSink;
let editor: SignedIn;

beforeAll(async () => {
  sink = await startMailSink();
  t = await createTestApp({ clock, workJobs: true, config: { smtpUrl: sink.url } });
  await t.signInAsOwner();
  editor = await t.signInAs('content-editor', 'editor@acme.test');
  await t.signInAs('employee', 'employee@acme.test');
  await t.postForm('/admin/trust-center/certifications', editor, {
    'items.0.standard': 'ISO/IEC 27001',
    'items.0.issuer': 'Example Cert Ltd',
    'items.0.validFrom': '2024-01-21',
    'items.0.validUntil': '2027-01-21', // 61 days ahead
    'items.1.standard': 'SOC 2 Type 2',
    'items.1.issuer': 'Audit & Co',
    'items.1.validFrom': '2025-12-11',
    'items.1.validUntil': '2026-12-11', // 20 days ahead: the 60- and 30-day marks already passed
    'items.2.standard': 'ISO 22301',
    'items.2.issuer': 'Example Cert Ltd',
    'items.2.validFrom': '2023-11-01',
    'items.2.validUntil': '2026-11-01', // expired
  });
  await t.postForm('/admin/trust-center/certifications/publish', editor, {});
});

afterAll(async () => {
  await t?.close();
  await sink?.close();
});

async function reminderEvents() {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
  return rows.filter((r) => r.action === 'trust_center.certificate_reminder_sent').reverse();
}

describe('certificate expiry reminders', () => {
  it('counts a threshold once reached and never twice', () => {
    expect(dueThresholds(61, new Set())).toEqual([]);
    expect(dueThresholds(60, new Set())).toEqual([60]);
    expect(dueThresholds(29, new Set([60]))).toEqual([30]);
    expect(dueThresholds(5, new Set())).toEqual([60, 30, 7]);
    expect(dueThresholds(5, new Set([60, 30, 7]))).toEqual([]);
    expect(dueThresholds(-1, new Set())).toEqual([]);
  });

  it('runs daily as a registered job', () => {
    const jobs = new Map(moduleJobs(t.runtime).map((j) => [j.name, j.cron]));
    expect(jobs.get('trust-center.certificate-reminders')).toBe('0 6 * * *');
  });

  it('mails the people who can publish at 60, 30 and 7 days, catching up skipped days without duplicates', async () => {
    // Day 0: SOC 2 is 20 days out (one mail covers the passed 60 and 30); ISO 27001 is 61 out; ISO 22301 expired.
    expect(await sendCertificateReminders(t.runtime)).toBe(1);
    expect(await sendCertificateReminders(t.runtime)).toBe(0);
    const soc2 = await sink.waitForMail((m) => m.parsed.subject?.startsWith('SOC 2 Type 2') ?? false);
    expect(soc2.parsed.subject).toBe('SOC 2 Type 2 certification expires in 20 days (2026-12-11)');
    expect(soc2.envelope.to.sort()).toEqual(['editor@acme.test', 'owner@acme.test']);
    expect(soc2.parsed.text).toContain('http://acme.test/admin/trust-center/certifications');

    // Day 1: ISO 27001 reaches 60 days.
    clock.advance(DAY);
    expect(await sendCertificateReminders(t.runtime)).toBe(1);
    // 31 days without a run: the 30-day mark passed meanwhile and is still sent, once.
    clock.advance(31 * DAY);
    expect(await sendCertificateReminders(t.runtime)).toBe(1);
    expect(await sendCertificateReminders(t.runtime)).toBe(0);
    // The 7-day mark, then nothing more.
    clock.advance(22 * DAY);
    expect(await sendCertificateReminders(t.runtime)).toBe(1);
    clock.advance(DAY);
    expect(await sendCertificateReminders(t.runtime)).toBe(0);

    const events = await reminderEvents();
    expect(events.map((e) => [e.targetId, e.details.thresholds, e.details.daysLeft])).toEqual([
      ['SOC 2 Type 2', [60, 30], 20],
      ['ISO/IEC 27001', [60], 60],
      ['ISO/IEC 27001', [30], 29],
      ['ISO/IEC 27001', [7], 7],
    ]);
    await sink.waitForMail((m) => m.parsed.subject === 'ISO/IEC 27001 certification expires in 7 days (2027-01-21)');
    const iso = sink.messages.filter((m) => m.parsed.subject?.startsWith('ISO/IEC 27001'));
    expect(iso.map((m) => m.parsed.subject)).toEqual([
      'ISO/IEC 27001 certification expires in 60 days (2027-01-21)',
      'ISO/IEC 27001 certification expires in 29 days (2027-01-21)',
      'ISO/IEC 27001 certification expires in 7 days (2027-01-21)',
    ]);
    expect(sink.messages.some((m) => m.envelope.to.includes('employee@acme.test'))).toBe(false);
  });

  it('shows certifications to renew in the back office and the API', async () => {
    // Weeks have passed on the clock: the first editor's session has long expired.
    const reader = await t.signInAs('auditor', 'auditor@acme.test');
    const page = await (await t.request('/admin/trust-center', { headers: { cookie: reader.cookie } })).text();
    expect(page).toContain('Certifications to renew');
    expect(page).toContain('expires on 2027-01-21 (in 6 days)');
    expect(page).toContain('expired on 2026-11-01');
    const token = await t.apiToken('auditor');
    const res = await t.request('/api/v1/trust-center/certifications/expiring', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: { standard: string; daysLeft: number }[] }).items).toEqual([
      { standard: 'ISO 22301', validUntil: '2026-11-01', daysLeft: -75 },
      { standard: 'SOC 2 Type 2', validUntil: '2026-12-11', daysLeft: -35 },
      { standard: 'ISO/IEC 27001', validUntil: '2027-01-21', daysLeft: 6 },
    ]);
  });
});
