import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { openTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { type MailSink, startMailSink } from '../../../test/mail-sink.ts';
import { sleep, waitFor } from '../../../test/wait.ts';
import { createTenant } from '../../modules/tenants/service.ts';
import { systemClock } from '../context.ts';
import { defineJob, type Jobs } from '../jobs/jobs.ts';
import { createJobs } from '../jobs/pgboss.ts';
import { createMailSystem } from './mailer.ts';
import type { Mailer, OutgoingMail } from './outbox.ts';
import { findOutboxRow, type OutboxRow } from './store.ts';

const FROM = 'Candor <no-reply@candor.test>';

describe('mail over SMTP', () => {
  let sink: MailSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await startMailSink();
    t = await createTestApp({ workJobs: true, config: { smtpUrl: sink.url, mailFrom: FROM } });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  function enqueue(mail: OutgoingMail): Promise<string> {
    return t.runtime.db.withTenant(t.tenant.id, (tx) => t.runtime.mail.enqueue(tx, t.tenant.id, mail));
  }
  function outboxRow(id: string): Promise<OutboxRow | undefined> {
    return t.runtime.db.withTenant(t.tenant.id, (tx) => findOutboxRow(tx, id));
  }

  it('delivers a mail enqueued in a committed transaction with its recipients, subject and body', async () => {
    const id = await enqueue({
      to: ['ada@example.test', 'grace@example.test'],
      subject: 'Your access to the SOC 2 report — approved',
      text: 'Hello Ada,\n\nyour request was approved. Ünïcödé survives.\n',
      html: '<p>Hello Ada, your request was <b>approved</b>.</p>',
    });
    const mail = await sink.waitForMail((m) => m.parsed.subject.includes('SOC 2'));
    expect(mail.envelope.to).toEqual(['ada@example.test', 'grace@example.test']);
    expect(mail.envelope.from).toBe('no-reply@candor.test');
    expect(mail.parsed.subject).toBe('Your access to the SOC 2 report — approved');
    expect(mail.parsed.to).toBe('ada@example.test, grace@example.test');
    expect(mail.parsed.from).toBe(FROM);
    expect(mail.parsed.text).toBe('Hello Ada,\n\nyour request was approved. Ünïcödé survives.\n');
    expect(mail.parsed.html).toContain('<b>approved</b>');
    expect(mail.parsed.headers.get('message-id')).toBe(`<${id}@candor>`);
    const row = await waitFor(async () => {
      const r = await outboxRow(id);
      return r?.status === 'sent' ? r : undefined;
    });
    expect(row).toMatchObject({ status: 'sent', attempts: 1, lastError: null, messageId: `<${id}@candor>` });
    expect(row.sentAt).toBeInstanceOf(Date);
  });

  it('never sends a mail whose transaction rolls back and leaves no outbox row', async () => {
    let id: string | undefined;
    const attempt = t.runtime.db.withTenant(t.tenant.id, async (tx) => {
      id = await t.runtime.mail.enqueue(tx, t.tenant.id, {
        to: 'mallory@example.test',
        subject: 'Rolled back',
        text: 'This must never arrive.',
      });
      throw new Error('the change that caused the mail failed');
    });
    await expect(attempt).rejects.toThrow('the change that caused the mail failed');
    expect(id).toBeDefined();
    // A mail enqueued afterwards arrives, so the worker was working while the rolled-back one was not sent.
    await enqueue({ to: 'trent@example.test', subject: 'After the rollback', text: 'This one commits.' });
    await sink.waitForMail((m) => m.parsed.subject === 'After the rollback');
    await sleep(1000);
    expect(sink.messages.filter((m) => m.parsed.subject === 'Rolled back')).toEqual([]);
    expect(await outboxRow(id ?? '')).toBeUndefined();
    const { rows } = await t.runtime.db.query<{ n: number }>(
      `select count(*)::int as n from pgboss.job where name = 'mail.deliver' and data->>'id' = $1`,
      [id],
    );
    expect(rows[0]?.n).toBe(0);
  });

  it('keeps the database available to other work while an SMTP server is slow to answer', async () => {
    sink.delayReplies(3000);
    try {
      const before = sink.attempts;
      await enqueue({ to: 'slow@example.test', subject: 'Slow server', text: 'Takes a while.' });
      // The server has the whole message and holds its reply for 3 s.
      await waitFor(async () => sink.attempts > before);
      const started = Date.now();
      const ready = await t.request('/readyz'); // asks the database whether migrations are applied
      const elapsed = Date.now() - started;
      expect(ready.status).toBe(200);
      expect(elapsed).toBeLessThan(1500);
      await sink.waitForMail((m) => m.parsed.subject === 'Slow server');
    } finally {
      sink.delayReplies(0);
    }
  });
});

describe('mail delivery retries', () => {
  let sink: MailSink;
  let database: TestDatabase;
  let jobs: Jobs;
  let mailer: Mailer;
  let tenantId: string;

  beforeAll(async () => {
    sink = await startMailSink();
    database = await openTestDatabase();
    const log = pino({ level: 'silent' });
    jobs = createJobs(database.db, log, { pollingIntervalSeconds: 0.5 });
    const mail = createMailSystem(
      database.db,
      jobs,
      { smtpUrl: sink.url, from: FROM, keepDir: '/nonexistent', retry: { limit: 2, delaySeconds: 1, backoff: false } },
      log,
      systemClock,
    );
    mailer = mail.mailer;
    jobs.register(...mail.jobs);
    await jobs.start({ work: true });
    tenantId = (await createTenant(database.db, { slug: 'retry', name: 'Retry Inc', hosts: ['retry.test'] })).id;
  });
  afterAll(async () => {
    await jobs?.stop();
    await database?.drop();
    await sink?.close();
  });

  function enqueue(mail: OutgoingMail): Promise<string> {
    return database.db.withTenant(tenantId, (tx) => mailer.enqueue(tx, tenantId, mail));
  }
  function outboxRow(id: string): Promise<OutboxRow | undefined> {
    return database.db.withTenant(tenantId, (tx) => findOutboxRow(tx, id));
  }

  it('delivers on a retry after the server refuses the first attempts with 4xx, recording each attempt', async () => {
    sink.rejectNext(2, { code: 451, message: 'Greylisted, try again' });
    const attemptsBefore = sink.attempts;
    const id = await enqueue({ to: 'retry@example.test', subject: 'Third time lucky', text: 'Eventually.' });
    const afterFirst = await waitFor(async () => {
      const r = await outboxRow(id);
      return r?.lastError ? r : undefined;
    });
    // Between attempts the outbox shows the message still queued, with the attempt and the server's reply.
    expect(afterFirst.status).toBe('queued');
    expect(afterFirst.attempts).toBeGreaterThanOrEqual(1);
    expect(afterFirst.lastError).toMatch(/451/);
    const mail = await sink.waitForMail((m) => m.parsed.subject === 'Third time lucky', 20_000);
    expect(mail.envelope.to).toEqual(['retry@example.test']);
    const row = await waitFor(async () => {
      const r = await outboxRow(id);
      return r?.status === 'sent' ? r : undefined;
    });
    expect(row).toMatchObject({ status: 'sent', attempts: 3, lastError: null });
    expect(sink.attempts - attemptsBefore).toBe(3);
    expect(sink.messages.filter((m) => m.parsed.subject === 'Third time lucky')).toHaveLength(1);
  });

  it('marks a mail failed with the reason once the retries are spent', async () => {
    sink.rejectNext(10, { code: 421, message: 'Service not available' });
    try {
      const id = await enqueue({ to: 'never@example.test', subject: 'Never delivered', text: 'No luck.' });
      const row = await waitFor(async () => {
        const r = await outboxRow(id);
        return r?.status === 'failed' ? r : undefined;
      }, 20_000);
      expect(row.attempts).toBe(3);
      expect(row.lastError).toMatch(/421/);
      expect(row.sentAt).toBeNull();
      const { rows } = await database.db.query<{ state: string }>(
        `select state::text from pgboss.job where name = 'mail.deliver' and data->>'id' = $1`,
        [id],
      );
      // The job ends when the outbox says so: no further attempt is queued.
      expect(rows.map((r) => r.state)).toEqual(['completed']);
    } finally {
      sink.rejectNext(0);
    }
  });

  it('does not retry a mail the server refuses permanently (5xx)', async () => {
    sink.rejectNext(1, { code: 550, message: 'No such user here' });
    const before = sink.attempts;
    const id = await enqueue({ to: 'nobody@example.test', subject: 'Bounced', text: 'No such user.' });
    const row = await waitFor(async () => {
      const r = await outboxRow(id);
      return r?.status === 'failed' ? r : undefined;
    }, 20_000);
    expect(row.attempts).toBe(1);
    expect(row.lastError).toMatch(/550/);
    await sleep(2500);
    expect(sink.attempts - before).toBe(1);
  });

  it('sends a message once when a second delivery job for it runs while the first is under way', async () => {
    sink.delayReplies(1500);
    try {
      const before = sink.attempts;
      const id = await enqueue({ to: 'once@example.test', subject: 'Only once', text: 'Exactly one copy.' });
      await waitFor(async () => sink.attempts > before); // the first attempt is talking to the server
      // The same delivery queued again (as a sweeper re-queueing lost work would): it must not send a copy.
      const again = defineJob({
        name: 'mail.deliver',
        payload: z.object({ tenantId: z.uuid(), id: z.uuid() }),
        handler: async () => {},
      });
      await jobs.enqueue(again, { tenantId, id });
      await sink.waitForMail((m) => m.parsed.subject === 'Only once');
      await waitFor(async () => {
        const { rows } = await database.db.query<{ state: string }>(
          `select state::text from pgboss.job where name = 'mail.deliver' and data->>'id' = $1`,
          [id],
        );
        return rows.length === 2 && rows.every((r) => r.state === 'completed');
      });
      expect(sink.messages.filter((m) => m.parsed.subject === 'Only once')).toHaveLength(1);
      expect(await outboxRow(id)).toMatchObject({ status: 'sent', attempts: 1 });
    } finally {
      sink.delayReplies(0);
    }
  });

  it('refuses a mail with no recipient at enqueue', async () => {
    await expect(enqueue({ to: [], subject: 'Nobody', text: 'To no one.' })).rejects.toThrow();
    const { rows } = await database.db.query<{ n: number }>(
      `select count(*)::int as n from mail_outbox where subject = 'Nobody'`,
    );
    expect(rows[0]?.n).toBe(0);
  });
});

describe('lost delivery jobs', () => {
  it('re-queues a message whose delivery job vanished, once it has waited an hour', async () => {
    const sink = await startMailSink();
    const database = await openTestDatabase();
    const log = pino({ level: 'silent' });
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const jobs = createJobs(database.db, log, { pollingIntervalSeconds: 0.5 });
    const mail = createMailSystem(database.db, jobs, { smtpUrl: sink.url, from: FROM, keepDir: '/nonexistent' }, log, clock);
    jobs.register(...mail.jobs);
    try {
      await jobs.start({ work: false });
      const tenantId = (await createTenant(database.db, { slug: 'lost', name: 'Lost Inc', hosts: ['lost.test'] })).id;
      const id = await database.db.withTenant(tenantId, (tx) =>
        mail.mailer.enqueue(tx, tenantId, { to: 'lost@example.test', subject: 'Found again', text: 'Hello.' }),
      );
      // The queue loses the job (a crash, a purge by hand); the outbox row still says "queued".
      await database.db.query(`delete from pgboss.job where name = 'mail.deliver' and data->>'id' = $1`, [id]);
      const sweep = mail.jobs.find((j) => j.name === 'mail.sweep');
      await sweep?.run({}, { id: 'manual' });
      await jobs.stop();
      const { rows: early } = await database.db.query<{ n: number }>(
        `select count(*)::int as n from pgboss.job where name = 'mail.deliver' and data->>'id' = $1`,
        [id],
      );
      expect(early[0]?.n).toBe(0); // not yet: it might only be waiting for a retry
      now += 2 * 60 * 60 * 1000;
      const restarted = createJobs(database.db, log, { pollingIntervalSeconds: 0.5 });
      const again = createMailSystem(
        database.db,
        restarted,
        { smtpUrl: sink.url, from: FROM, keepDir: '/nonexistent' },
        log,
        clock,
      );
      restarted.register(...again.jobs);
      await restarted.start({ work: true });
      try {
        await again.jobs.find((j) => j.name === 'mail.sweep')?.run({}, { id: 'manual' });
        const delivered = await sink.waitForMail((m) => m.parsed.subject === 'Found again');
        expect(delivered.envelope.to).toEqual(['lost@example.test']);
      } finally {
        await restarted.stop();
      }
    } finally {
      await jobs.stop().catch(() => {});
      await database.drop();
      await sink.close();
    }
  });
});
