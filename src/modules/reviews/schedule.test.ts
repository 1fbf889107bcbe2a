import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { type MailSink, startMailSink } from '../../../test/mail-sink.ts';
import { waitFor } from '../../../test/wait.ts';
import { moduleJobs } from '../jobs.ts';
import {
  listCampaigns,
  NOTICE_INTERVAL_DAYS,
  quarterOf,
  sendReviewNotices,
  startScheduledCampaigns,
  updateReviewSettings,
} from './service.ts';

const DAY = 24 * 60 * 60 * 1000;
// The quarterly slot: 06:00 UTC on the first of April.
const clock = new TestClock(new Date('2026-04-01T06:00:00Z'));

let t: TestApp;
let sink: MailSink;
let owner: SignedIn;
let admin: SignedIn;

const system = () => t.contextOf({ kind: 'system', name: 'test' });

beforeAll(async () => {
  sink = await startMailSink();
  t = await createTestApp({ clock, workJobs: true, config: { smtpUrl: sink.url } });
  owner = await t.signInAsOwner();
  admin = await t.signInAs('security-admin', 'admin@acme.test');
  await t.signInAs('employee', 'employee@acme.test');
});

afterAll(async () => {
  await t.close();
  await sink.close();
});

describe('the quarterly schedule', () => {
  it('registers a job on the first day of each quarter and a daily notice job', () => {
    const jobs = new Map(moduleJobs(t.runtime).map((j) => [j.name, j.cron]));
    expect(jobs.get('reviews.quarterly')).toBe('0 6 1 1,4,7,10 *');
    expect(jobs.get('reviews.notices')).toBe('0 7 * * *');
  });

  it('starts one campaign per quarter, however often it runs', async () => {
    expect(quarterOf(clock.now())).toBe('2026-Q2');
    expect(await startScheduledCampaigns(t.runtime)).toBe(1);
    expect(await startScheduledCampaigns(t.runtime)).toBe(0);
    clock.advance(DAY);
    expect(await startScheduledCampaigns(t.runtime)).toBe(0);
    const campaigns = await listCampaigns(system());
    expect(campaigns).toHaveLength(1);
    expect(campaigns[0]).toMatchObject({
      name: 'Access review 2026-Q2',
      period: '2026-Q2',
      trigger: 'schedule',
      startedByLabel: 'access-reviews.schedule',
    });
    expect(campaigns[0]?.dueAt.toISOString()).toBe('2026-04-15T06:00:00.000Z');
    expect(campaigns[0]?.counts.total).toBe(3);
  });

  it('starts nothing for a tenant that turned the schedule off', async () => {
    await updateReviewSettings(system(), { scheduleEnabled: false });
    const inJuly = new TestClock(new Date('2026-07-01T06:00:00Z'));
    expect(await startScheduledCampaigns({ ...t.runtime, clock: inJuly })).toBe(0);
    await updateReviewSettings(system(), { scheduleEnabled: true });
    expect(await startScheduledCampaigns({ ...t.runtime, clock: inJuly })).toBe(1);
  });

  it('turns the schedule off and on from the page', async () => {
    // A fresh session: the clock has moved past the others' idle timeout.
    const manager = await t.signInAs('security-admin', 'schedule-admin@acme.test');
    const off = await t.postForm('/admin/access-reviews/settings', manager, { scheduleEnabled: 'off' });
    expect(off.status).toBe(303);
    const page = await (await t.request('/admin/access-reviews', { headers: { cookie: manager.cookie } })).text();
    expect(page).toContain('The quarterly schedule is off');
    await t.postForm('/admin/access-reviews/settings', manager, { scheduleEnabled: 'on' });
  });
});

describe('reminders and overdue alerts', () => {
  const reminders = () => sink.messages.filter((m) => m.parsed.subject.startsWith('Access review:'));
  const overdue = () => sink.messages.filter((m) => m.parsed.subject.startsWith('Overdue access review'));

  it('mails each reviewer with open items once, and nothing more when run again the same day', async () => {
    const sent = await sendReviewNotices(t.runtime);
    expect(sent.overdue).toBe(0);
    expect(sent.reminders).toBe(2); // the owner and the admin both have items (the July one included)
    const mail = await sink.waitForMail(
      (m) => m.envelope.to.includes(admin.email) && m.parsed.subject.startsWith('Access review:'),
    );
    expect(mail.parsed.text).toContain('http://acme.test/admin/access-reviews/mine');
    expect(mail.parsed.text).toContain('Access review 2026-Q2');
    await sink.waitForMail((m) => m.envelope.to.includes(owner.email));
    expect(await sendReviewNotices(t.runtime)).toEqual({ reminders: 0, overdue: 0 });
    clock.advance(DAY);
    expect((await sendReviewNotices(t.runtime)).reminders).toBe(0);
    clock.advance((NOTICE_INTERVAL_DAYS - 1) * DAY);
    expect((await sendReviewNotices(t.runtime)).reminders).toBe(2);
  });

  it('once past due, alerts the reviewers and the owners, once per interval', async () => {
    clock.advance(14 * DAY); // past the Q2 campaign's due date
    const sent = await sendReviewNotices(t.runtime);
    expect(sent.overdue).toBeGreaterThanOrEqual(2);
    const alert = await sink.waitForMail(
      (m) => m.envelope.to.includes(owner.email) && m.parsed.subject === 'Overdue access review: Access review 2026-Q2',
    );
    expect(alert.parsed.text).toContain('was due on 2026-04-15');
    await sink.waitForMail((m) => m.envelope.to.includes(admin.email) && m.parsed.subject.startsWith('Overdue'));
    // Every notice queued so far has arrived: 2 + 2 reminders before, and this run's.
    const queued = 4 + sent.reminders + sent.overdue;
    await waitFor(() => overdue().length + reminders().length === queued, 20_000);
    const before = overdue().length + reminders().length;
    expect(await sendReviewNotices(t.runtime)).toEqual({ reminders: 0, overdue: 0 });
    // Nothing else arrives for a same-day rerun.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(overdue().length + reminders().length).toBe(before);
  });
});
