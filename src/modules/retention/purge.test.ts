import { existsSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personActor } from '../../../test/actors.ts';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { waitFor } from '../../../test/wait.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import type { Actor, RequestContext } from '../../platform/context.ts';
import { listOutboxRows } from '../../platform/mail/store.ts';
import { closeAlert, listAlerts } from '../alerts/service.ts';
import { systemContext } from '../audit/service.ts';
import { invitePerson } from '../identity/invitations.ts';
import { requestPasswordReset } from '../identity/reset.ts';
import { createApiToken, listApiTokens, resolveSession, revokeApiToken, signIn } from '../identity/service.ts';
import { invitations, loginThrottle, passwordResets, sessions, setupTokens } from '../identity/tables.ts';
import { RETENTION_CATEGORIES, type RetentionCategory } from './categories.ts';
import { retentionJobs } from './jobs.ts';
import { purgeCategory, purgeExpiredData } from './purge.ts';
import { listRetentionRules, updateRetentionRule } from './service.ts';
import { claimRun, finishRun, listRunRows, type RunRow, writeRuleRow } from './store.ts';

const DAY = 86_400_000;
const T0 = new Date('2030-01-09T10:00:00.000Z');
const clock = new TestClock(T0);
const PASSWORD = 'correct horse battery staple';

let t: TestApp;
let owner: SignedIn;
let admin: RequestContext;
let tenantId: string;

const person = personActor({ id: '00000000-0000-4000-8000-000000000001', email: 'p@acme.test', name: 'P' }, 'employee');

async function sendMail(subject: string): Promise<void> {
  await t.runtime.db.withTenant(tenantId, (tx) =>
    t.runtime.mail.enqueue(tx, tenantId, { to: 'board@acme.test', subject, text: `${subject}: the body nobody may keep.` }),
  );
}

async function outbox() {
  return t.runtime.db.withTenant(tenantId, (tx) => listOutboxRows(tx, 1000, 0));
}

/** Mail is delivered by the worker (kept as .eml files: no SMTP here); wait until none is queued. */
async function allMailDelivered(): Promise<void> {
  await waitFor(async () => (await outbox()).every((m) => m.status !== 'queued'), 30_000);
}

async function sessionRows() {
  return t.runtime.db.withTenant(tenantId, (tx) => tx.select().from(sessions).where(eq(sessions.tenantId, tenantId)));
}

async function setupLinkRows() {
  return t.runtime.db.withTenant(tenantId, (tx) => tx.select().from(setupTokens).where(eq(setupTokens.tenantId, tenantId)));
}

/** Open invitation and reset links, and failed-sign-in counters: how many rows of each are left. */
async function accountRows() {
  return t.runtime.db.withTenant(tenantId, async (tx) => ({
    links: (await tx.select().from(invitations)).length + (await tx.select().from(passwordResets)).length,
    counters: (await tx.select().from(loginThrottle)).length,
  }));
}

async function tokenNames(): Promise<string[]> {
  return (await listApiTokens(admin)).map((token) => token.name).sort();
}

async function alertKeys(): Promise<string[]> {
  return (await listAlerts(admin, 'all', 1)).alerts.map((a) => a.key).sort();
}

async function runs(filter: { category?: string } = {}): Promise<RunRow[]> {
  return t.runtime.db.withTenant(tenantId, (tx) => listRunRows(tx, tenantId, filter, 1000, 0));
}

/** The runs of the purge that started at `at`, by category. */
async function runsAt(at: Date): Promise<Record<string, RunRow>> {
  const rows = (await runs()).filter((r) => r.startedAt.getTime() === at.getTime());
  return Object.fromEntries(rows.map((r) => [r.category, r]));
}

async function purgedEvents() {
  return t.runtime.db.withTenant(tenantId, (tx) => searchEvents(tx, { action: 'retention.purged' }, 100, 0));
}

async function createToken(name: string, expiresInMs?: number) {
  const scope = { tenantId, actor: { kind: 'system', name: 'cli' } as Actor };
  const { info } = await createApiToken(t.runtime, scope, { name, role: 'auditor', ...(expiresInMs ? { expiresInMs } : {}) });
  return { id: info.id, revoke: () => revokeApiToken(t.runtime, scope, info.id) };
}

async function alertFrom(ip: string): Promise<string> {
  await t.runtime.db.withTenant(tenantId, (tx) =>
    t.runtime.audit.record(tx, { tenantId, actor: person, ip }, { action: 'access.outside_allowlist', outcome: 'denied' }),
  );
  const alert = (await listAlerts(admin, 'all', 1)).alerts.find((a) => a.key === ip);
  if (!alert) throw new Error(`no alert for ${ip}`);
  return alert.id;
}

const keptFile = (emlPath: string) => path.join(t.dataDir, 'mail', emlPath);

let oldMailFiles: string[] = [];
let T1: Date;

beforeAll(async () => {
  // The owner signs in again with the password below: no second step (MFA is tested in its own module).
  t = await createTestApp({ clock, workJobs: true, mfaRoles: [] });
  tenantId = t.tenant.id;
  admin = systemContext(t.runtime, t.tenant, 'test');
  // At T0: a session and a spent setup link (the owner's), tokens, alerts, mail.
  owner = await t.signInAsOwner();
  await (await createToken('Old integration')).revoke();
  await createToken('Short-lived', DAY);
  await t.apiToken('owner');
  const closedEarly = [await alertFrom('198.51.100.1'), await alertFrom('198.51.100.2')];
  await alertFrom('198.51.100.3');
  for (const id of closedEarly) await closeAlert(admin, id, { note: 'Known office address.' });
  for (let i = 1; i <= 3; i++) await sendMail(`Quarterly notice ${i}`);
  // Account links that expire unused (each mails its link) and a failed sign-in (two counters: email and IP).
  const asOwner = t.contextOf({ kind: 'system', name: 'cli' });
  await invitePerson(asOwner, { email: 'late@acme.test', name: 'Late Joiner', role: 'employee' }, 'http://acme.test');
  await requestPasswordReset(asOwner, owner.email, 'http://acme.test');
  await expect(
    signIn({ ...admin, ip: '192.0.2.9', userAgent: 'vitest' }, { email: 'nobody@acme.test', password: 'not a password at all' }),
  ).rejects.toThrow();
  await allMailDelivered();
  oldMailFiles = (await outbox()).map((m) => keptFile(m.emlPath ?? 'missing'));

  // 800 days later (T1), past every default but the audit trail's: young data of each kind.
  clock.advance(800 * DAY);
  T1 = clock.now();
  const third = (await listAlerts(admin, 'all', 1)).alerts.find((a) => a.key === '198.51.100.3');
  await closeAlert(admin, third?.id ?? '', { note: 'Travelling engineer.' });
  await sendMail('Fresh notice');
  await signIn({ ...admin, ip: '192.0.2.44', userAgent: 'vitest' }, { email: owner.email, password: PASSWORD });
  await (await createToken('Recent integration')).revoke();
  await allMailDelivered();
});

afterAll(async () => {
  await t.close();
});

describe('retention rules', () => {
  it('apply each category’s default while the tenant has set none', async () => {
    const rules = await listRetentionRules(admin);
    expect(rules.map((r) => r.category.slug)).toEqual(RETENTION_CATEGORIES.map((c) => c.slug));
    for (const rule of rules) {
      expect(rule).toMatchObject({ periodDays: rule.category.defaultDays, isDefault: true, held: false });
      expect(rule.category.minimum.days).toBeLessThanOrEqual(rule.category.defaultDays);
      expect(rule.category.minimum.reason.length).toBeGreaterThan(20);
    }
    expect(rules.find((r) => r.category.slug === 'audit-trail')?.periodDays).toBe(2557);
    expect(rules.find((r) => r.category.slug === 'outgoing-mail')?.periodDays).toBe(90);
  });
});

describe('the daily purge', () => {
  it('deletes what is older than each category’s period, in batches, and keeps the rest', async () => {
    expect(oldMailFiles.every((f) => existsSync(f))).toBe(true);
    expect(await sessionRows()).toHaveLength(2);
    expect(await accountRows()).toEqual({ links: 2, counters: 2 });

    await purgeExpiredData(t.runtime, { tenantId, batchSize: 2 });

    const byCategory = await runsAt(T1);
    const counts = Object.fromEntries(Object.entries(byCategory).map(([c, r]) => [c, [r.deleted, r.batches, r.outcome]]));
    expect(counts).toEqual({
      'audit-trail': [0, 0, 'completed'],
      'closed-alerts': [2, 1, 'completed'],
      'api-tokens': [2, 1, 'completed'],
      sessions: [1, 1, 'completed'],
      'setup-links': [1, 1, 'completed'],
      'account-links': [2, 1, 'completed'],
      'sign-in-throttle': [2, 1, 'completed'],
      // Nothing seeded here; subscriptions.test.ts and contact.test.ts cover their purges.
      'stale-subscribers': [0, 0, 'completed'],
      'contact-messages': [0, 0, 'completed'],
      'document-requests': [0, 0, 'completed'],
      'signed-ndas': [0, 0, 'completed'],
      // Three notices, the three alert mails, the invitation and the reset mail of T0, two a transaction.
      'outgoing-mail': [8, 4, 'completed'],
      'deletion-records': [0, 0, 'completed'],
    });
    expect((await outbox()).map((m) => m.subject)).toEqual(['Fresh notice']);
    expect(oldMailFiles.some((f) => existsSync(f))).toBe(false);
    const [fresh] = await outbox();
    expect(existsSync(keptFile(fresh?.emlPath ?? 'missing'))).toBe(true);
    expect(await tokenNames()).toEqual(['Recent integration', 'test owner']);
    expect(await alertKeys()).toEqual(['198.51.100.3']);
    expect((await sessionRows()).map((s) => s.ip)).toEqual(['192.0.2.44']);
    expect(await setupLinkRows()).toHaveLength(0);
    expect(await accountRows()).toEqual({ links: 0, counters: 0 });

    const [event] = await purgedEvents();
    expect(event).toMatchObject({ actorLabel: 'retention.purge', outcome: 'success', targetType: 'retention' });
    expect(event?.details).toEqual({
      requestedBy: 'schedule',
      total: 18,
      deleted: {
        'audit-trail': 0,
        'closed-alerts': 2,
        'api-tokens': 2,
        sessions: 1,
        'setup-links': 1,
        'account-links': 2,
        'sign-in-throttle': 2,
        'stale-subscribers': 0,
        'contact-messages': 0,
        'document-requests': 0,
        'signed-ndas': 0,
        'outgoing-mail': 8,
        'deletion-records': 0,
      },
      held: [],
      busy: [],
      failed: {},
    });
  });

  it('keeps deletion records of counts and rules, never what was deleted', async () => {
    const records = await runs();
    expect(Object.keys(records[0] ?? {}).sort()).toEqual(
      [
        'tenantId',
        'id',
        'category',
        'periodDays',
        'cutoff',
        'deleted',
        'batches',
        'outcome',
        'error',
        'requestedBy',
        'startedAt',
        'finishedAt',
        'leaseUntil',
      ].sort(),
    );
    const mail = (await runsAt(T1))['outgoing-mail'];
    expect(mail).toMatchObject({ periodDays: 90, requestedBy: 'schedule', error: null, leaseUntil: null });
    expect(mail?.cutoff.getTime()).toBe(T1.getTime() - 90 * DAY);
    expect(mail?.finishedAt?.getTime()).toBe(T1.getTime());
    const everything = JSON.stringify({ records, events: await purgedEvents() });
    for (const content of [
      'Quarterly notice',
      'board@acme.test',
      'Old integration',
      'Short-lived',
      '198.51.100.1',
      'Known office',
    ]) {
      expect(everything).not.toContain(content);
    }
  });

  it('runs again without deleting anything twice', async () => {
    clock.advance(1000);
    const at = clock.now();
    await purgeExpiredData(t.runtime, { tenantId });
    const again = Object.values(await runsAt(at));
    expect(again).toHaveLength(RETENTION_CATEGORIES.length);
    expect(again.every((r) => r.deleted === 0 && r.outcome === 'completed')).toBe(true);
  });
});

describe('rules the purge follows', () => {
  it('stops purging a category on legal hold, records the hold, and resumes once it is lifted', async () => {
    await updateRetentionRule(admin, 'outgoing-mail', { periodDays: 90, held: true, holdReason: 'Litigation hold, case 2031-4' });
    clock.advance(100 * DAY);
    const heldAt = clock.now();
    await purgeExpiredData(t.runtime, { tenantId });

    expect((await outbox()).map((m) => m.subject)).toEqual(['Fresh notice']);
    expect((await runsAt(heldAt))['outgoing-mail']).toMatchObject({ outcome: 'held', deleted: 0, batches: 0 });
    const [held] = await purgedEvents();
    expect(held?.details).toMatchObject({ held: ['outgoing-mail'] });

    await updateRetentionRule(admin, 'outgoing-mail', { periodDays: 90, held: false });
    clock.advance(1000);
    const liftedAt = clock.now();
    await purgeExpiredData(t.runtime, { tenantId });
    expect(await outbox()).toEqual([]);
    expect((await runsAt(liftedAt))['outgoing-mail']).toMatchObject({ outcome: 'completed', deleted: 1 });
  });

  it('follows a shorter rule, but never one below the category’s minimum', async () => {
    // "Recent integration" was revoked 100 days ago: kept under the default year, due under 90 days.
    expect(await tokenNames()).toContain('Recent integration');
    await updateRetentionRule(admin, 'api-tokens', { periodDays: 90, held: false });
    // A rule saved below a minimum raised since (written as an older version would have): the minimum wins.
    await t.runtime.db.withTenant(tenantId, (tx) =>
      writeRuleRow(tx, {
        tenantId,
        category: 'closed-alerts',
        periodDays: 10,
        held: false,
        holdReason: null,
        updatedAt: clock.now(),
        updatedBy: 'an older version',
      }),
    );
    clock.advance(1000);
    const at = clock.now();
    await purgeExpiredData(t.runtime, { tenantId });

    expect(await tokenNames()).toEqual(['test owner']);
    expect((await runsAt(at))['api-tokens']).toMatchObject({ periodDays: 90, deleted: 1 });
    expect(await alertKeys()).toEqual(['198.51.100.3']);
    expect((await runsAt(at))['closed-alerts']).toMatchObject({ periodDays: 365, deleted: 0 });
  });

  it('lets two purges run at once and deletes each row once', async () => {
    for (let i = 1; i <= 5; i++) await sendMail(`Batch mail ${i}`);
    await allMailDelivered();
    clock.advance(91 * DAY);
    const at = clock.now();

    await Promise.all([
      purgeExpiredData(t.runtime, { tenantId, batchSize: 1 }),
      purgeExpiredData(t.runtime, { tenantId, batchSize: 1 }),
    ]);

    expect(await outbox()).toEqual([]);
    const mailRuns = (await runs({ category: 'outgoing-mail' })).filter((r) => r.startedAt.getTime() === at.getTime());
    expect(mailRuns.reduce((sum, r) => sum + r.deleted, 0)).toBe(5);
    expect((await runs()).filter((r) => r.outcome === 'running')).toEqual([]);
  });
});

describe('a run that stops half-way', () => {
  async function claimMailCategory(leaseSeconds: number): Promise<RunRow> {
    const now = clock.now();
    const run = await t.runtime.db.withTenant(tenantId, (tx) =>
      claimRun(
        tx,
        {
          tenantId,
          category: 'outgoing-mail',
          periodDays: 90,
          cutoff: new Date(now.getTime() - 90 * DAY),
          requestedBy: 'schedule',
          startedAt: now,
        },
        leaseSeconds,
      ),
    );
    if (!run) throw new Error('category already claimed');
    return run;
  }

  it('is taken over once its lease ran out: marked interrupted, and the rest is deleted', async () => {
    for (let i = 1; i <= 3; i++) await sendMail(`Leftover ${i}`);
    await allMailDelivered();
    clock.advance(91 * DAY);
    // What a process that died mid-run leaves behind: a running record whose lease has run out.
    const dead = await claimMailCategory(-60);
    clock.advance(1000);
    const at = clock.now();

    await purgeExpiredData(t.runtime, { tenantId });

    const [resumed, interrupted] = await runs({ category: 'outgoing-mail' });
    expect(interrupted).toMatchObject({ id: dead.id, outcome: 'interrupted', deleted: 0, leaseUntil: null });
    expect(interrupted?.error).toContain('stopped before it finished');
    expect(resumed).toMatchObject({ outcome: 'completed', deleted: 3 });
    expect(resumed?.startedAt.getTime()).toBe(at.getTime());
    expect(await outbox()).toEqual([]);
  });

  it('is left alone while its lease runs: the category is skipped, not purged twice', async () => {
    await sendMail('Still owned');
    await allMailDelivered();
    clock.advance(91 * DAY);
    const live = await claimMailCategory(600);

    await purgeExpiredData(t.runtime, { tenantId });

    expect((await outbox()).map((m) => m.subject)).toEqual(['Still owned']);
    const [newest] = await runs({ category: 'outgoing-mail' });
    expect(newest).toMatchObject({ id: live.id, outcome: 'running' });
    const [event] = await purgedEvents();
    expect(event?.details).toMatchObject({ busy: ['outgoing-mail'] });
    await t.runtime.db.withTenant(tenantId, (tx) =>
      finishRun(tx, tenantId, live.id, { outcome: 'failed', error: 'test over', at: clock.now() }),
    );
  });

  it('records a failing category with its error and what it committed, and still runs the others', async () => {
    // A category as a capability would register it, whose storage fails after one good batch.
    let calls = 0;
    const flaky: RetentionCategory = {
      ...(RETENTION_CATEGORIES.find((c) => c.slug === 'outgoing-mail') as RetentionCategory),
      purge: async (tx, id, cutoff, _batchSize, runtime) => {
        calls += 1;
        if (calls > 1) throw new Error('mail folder is not writable');
        return runtime.mail.purgeFinished(tx, id, cutoff, 1);
      },
    };
    await sendMail('Second copy');
    await allMailDelivered();
    clock.advance(91 * DAY);
    await t.runtime.db.withTenant(tenantId, (tx) =>
      writeRuleRow(tx, {
        tenantId,
        category: 'outgoing-mail',
        periodDays: 90,
        held: false,
        holdReason: null,
        updatedAt: clock.now(),
        updatedBy: 'test',
      }),
    );

    const outcome = await purgeCategory(t.runtime, tenantId, flaky, { requestedBy: 'schedule', batchSize: 1 });

    expect(outcome).toMatchObject({ outcome: 'failed', deleted: 1, error: 'mail folder is not writable' });
    const [failed] = await runs({ category: 'outgoing-mail' });
    expect(failed).toMatchObject({
      outcome: 'failed',
      deleted: 1,
      batches: 1,
      error: 'mail folder is not writable',
      leaseUntil: null,
    });
    expect(await outbox()).toHaveLength(1);
    // The next run starts afresh and finishes the category.
    await purgeExpiredData(t.runtime, { tenantId });
    expect(await outbox()).toEqual([]);
  });
});

describe('the deletion records category', () => {
  it('purges deletion records older than seven years, and only those', async () => {
    const before = await runs();
    clock.advance(8 * 366 * DAY);
    const at = clock.now();
    await purgeExpiredData(t.runtime, { tenantId });
    const after = await runs();
    expect((await runsAt(at))['deletion-records']).toMatchObject({ deleted: before.length, outcome: 'completed' });
    expect(after).toHaveLength(RETENTION_CATEGORIES.length);
    expect(after.every((r) => r.startedAt.getTime() === at.getTime())).toBe(true);
  });
});

describe('the purge job', () => {
  it('runs daily at 03:15 UTC', () => {
    const [job] = retentionJobs(t.runtime);
    expect(job).toMatchObject({ name: 'retention.purge', cron: '15 3 * * *', cronPayload: {} });
  });

  it('runs from “Run purge now” on the page through the worker, recording who asked', async () => {
    clock.advance(1000);
    const session = await signIn({ ...admin, ip: '192.0.2.45', userAgent: 'vitest' }, { email: owner.email, password: PASSWORD });
    const active = await resolveSession(t.runtime.db, clock, tenantId, session.sessionId);
    const signedIn: SignedIn = {
      cookie: `candor_session=${session.sessionId}`,
      csrfToken: active?.csrfToken ?? '',
      email: owner.email,
      userId: owner.userId,
    };
    const res = await t.postForm('/admin/retention/runs', signedIn, {});
    expect(res.status).toBe(303);
    const asked = await waitFor(async () => {
      const rows = (await runs()).filter((r) => r.requestedBy === owner.email);
      return rows.length === RETENTION_CATEGORIES.length && rows.every((r) => r.outcome !== 'running') && rows;
    }, 30_000);
    expect(asked.every((r) => r.outcome === 'completed')).toBe(true);
    const requested = await t.runtime.db.withTenant(tenantId, (tx) =>
      searchEvents(tx, { action: 'retention.purge_requested' }, 10, 0),
    );
    expect(requested[0]).toMatchObject({ actorLabel: owner.email, details: { queued: true } });
  });
});
