import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../context.ts';
import type { Database } from '../db/client.ts';
import { defineJob, type Jobs, type RegisteredJob, registrable } from '../jobs/jobs.ts';
import type { Mailer, OutgoingMail } from './outbox.ts';
import {
  claimOutboxMail,
  deleteFinishedMail,
  insertOutboxMail,
  type OutboxRow,
  recordFailedAttempt,
  staleQueuedMail,
  updateOutboxMail,
} from './store.ts';

export interface MailSettings {
  /** smtp:// or smtps:// URL; without it, mail is kept as .eml files in `keepDir`. */
  smtpUrl: string | undefined;
  from: string;
  /** Where messages are kept when no SMTP server is configured (`<data>/mail`; see keptMailPath). */
  keepDir: string;
  /** Delivery retries after a failed attempt; DEFAULT_MAIL_RETRY unless set (tests use short delays). */
  retry?: MailRetry;
}

export interface MailRetry {
  /** Retries after the first attempt; the message is marked failed when they are spent. */
  limit: number;
  delaySeconds: number;
  /** Double the delay on each retry (with jitter). */
  backoff: boolean;
}

/** Seven attempts over about 20 to 40 minutes (20 s, doubling, with jitter). */
export const DEFAULT_MAIL_RETRY: MailRetry = { limit: 6, delaySeconds: 20, backoff: true };

/**
 * How long one attempt may keep a message to itself. It must outlast the SMTP timeouts below (so two
 * attempts never overlap) and stay under the queue's job expiry (15 min), so that the retry of an
 * attempt whose process died finds the lease over.
 */
const LEASE_SECONDS = 5 * 60;
const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };

const DeliverPayload = z.object({ tenantId: z.uuid(), id: z.uuid() });

const Recipient = z.email().max(320);
const Mail = z.object({
  to: z
    .union([Recipient, z.array(Recipient)])
    .transform((to) => (Array.isArray(to) ? to : [to]))
    .pipe(z.array(Recipient).min(1, 'a mail needs at least one recipient').max(100)),
  subject: z.string().trim().min(1).max(998),
  text: z.string(),
  html: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  attachments: z
    .array(z.object({ filename: z.string().min(1).max(200), contentType: z.string().min(1), content: z.instanceof(Uint8Array) }))
    .max(5)
    .optional(),
});

export interface MailSystem {
  mailer: Mailer;
  jobs: RegisteredJob[];
}

/** The SMTP reply code of a refused delivery (nodemailer sets `responseCode`), if there was one. */
function smtpReplyCode(error: unknown): number | undefined {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' ? code : undefined;
}

/** nodemailer (some 40 modules) is loaded with the first message delivered, not at every start. */
async function createTransports(smtpUrl: string | undefined) {
  const { default: nodemailer } = await import('nodemailer');
  return {
    smtp: smtpUrl ? nodemailer.createTransport({ url: smtpUrl, ...SMTP_TIMEOUTS }) : undefined,
    composer: nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }),
  };
}

/**
 * The outbox: `enqueue` writes the message and its delivery job in the caller's transaction; the
 * `mail.deliver` job then sends it over SMTP (retrying with backoff) or, with no SMTP configured,
 * keeps it as an .eml file a newcomer can open.
 */
export function createMailSystem(db: Database, jobs: Jobs, settings: MailSettings, log: Logger, clock: Clock): MailSystem {
  const retry = settings.retry ?? DEFAULT_MAIL_RETRY;
  let transports: ReturnType<typeof createTransports> | undefined;
  const loadedTransports = () => {
    transports ??= createTransports(settings.smtpUrl);
    return transports;
  };

  const deliver = defineJob({
    name: 'mail.deliver',
    payload: DeliverPayload,
    retry,
    handler: async ({ tenantId, id }) => {
      // System scope: the worker is not acting for a tenant, it delivers whatever the outbox holds.
      // The claim, the delivery and its record are separate steps: no transaction (on PGlite, the one
      // connection every request needs) stays open while an SMTP server takes its time.
      const row = await db.withSystem((tx) => claimOutboxMail(tx, tenantId, id, LEASE_SECONDS));
      if (!row) return; // sent, kept or failed by an earlier attempt
      if ('busy' in row) throw new Error(`mail ${id} is being delivered by another attempt; trying again later`);
      let outcome: { status: string; messageId: string; emlPath?: string };
      try {
        outcome = settings.smtpUrl ? await sendOverSmtp(row) : await keepAsFile(row);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const code = smtpReplyCode(error);
        // A 5xx reply is the server's final word (no such mailbox, refused content): retrying cannot help.
        const permanent = code !== undefined && code >= 500 && code < 600;
        const final = permanent || row.attempts > retry.limit;
        log.warn({ tenantId, mailId: id, attempts: row.attempts, smtpCode: code, err: reason }, 'mail delivery failed');
        await db.withSystem((tx) => recordFailedAttempt(tx, tenantId, id, { lastError: reason.slice(0, 1000), final }));
        // Thrown only after the attempt is recorded, so the queue retries with backoff and the outbox shows why.
        if (!final) throw new Error(`mail ${id} not delivered: ${reason}`);
        return;
      }
      await db.withSystem((tx) => updateOutboxMail(tx, tenantId, id, { ...outcome, lastError: null, sentAt: clock.now() }));
    },
  });

  // Longer than the longest retry backoff, so a message whose retry is merely waiting is left alone.
  const STALE_AFTER_MS = 60 * 60 * 1000;

  /**
   * A safety net: a message still queued an hour after its last attempt lost its delivery job (a queue
   * purged by hand, a job archived by a crash); queue it again. The claim's lease prevents double sends.
   */
  const sweep = defineJob({
    name: 'mail.sweep',
    payload: z.object({}),
    cron: '*/10 * * * *',
    cronPayload: {},
    handler: async () => {
      const stale = await db.withSystem((tx) => staleQueuedMail(tx, new Date(clock.now().getTime() - STALE_AFTER_MS)));
      for (const mail of stale) await jobs.enqueue(deliver, mail, { singletonKey: `mail:${mail.id}` });
      if (stale.length > 0) log.warn({ count: stale.length }, 're-queued mail whose delivery job was lost');
    },
  });

  function message(row: OutboxRow) {
    return {
      from: settings.from,
      to: row.to,
      subject: row.subject,
      text: row.text,
      ...(row.html ? { html: row.html } : {}),
      headers: row.headers,
      attachments: row.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        content: Buffer.from(a.base64, 'base64'),
      })),
      messageId: `<${row.id}@candor>`,
    };
  }

  async function sendOverSmtp(row: OutboxRow) {
    const { smtp } = await loadedTransports();
    if (!smtp) throw new Error('no SMTP transport');
    const info = await smtp.sendMail(message(row));
    return { status: 'sent', messageId: info.messageId };
  }

  async function keepAsFile(row: OutboxRow) {
    const { composer } = await loadedTransports();
    const composed = await composer.sendMail(message(row));
    const dir = path.join(settings.keepDir, row.tenantId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${row.id}.eml`);
    const temp = `${file}.tmp`;
    writeFileSync(temp, composed.message as Buffer, { mode: 0o600 });
    renameSync(temp, file);
    // Relative to the mail folder, so a data directory restored elsewhere still finds its messages.
    return { status: 'kept', messageId: composed.messageId, emlPath: path.relative(settings.keepDir, file) };
  }

  const mailer: Mailer = {
    async enqueue(tx, tenantId, input: OutgoingMail) {
      const mail = Mail.parse(input);
      const id = await insertOutboxMail(tx, {
        tenantId,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html ?? null,
        headers: mail.headers ?? {},
        attachments: (mail.attachments ?? []).map((a) => ({
          filename: a.filename,
          contentType: a.contentType,
          base64: Buffer.from(a.content).toString('base64'),
        })),
      });
      await jobs.enqueue(deliver, { tenantId, id }, { tx });
      return id;
    },

    async purgeFinished(tx, tenantId, cutoff, batchSize) {
      const removed = await deleteFinishedMail(tx, tenantId, cutoff, batchSize);
      // The files go before the rows' transaction commits: should it roll back, a row points at a file that
      // was due for deletion anyway, whereas the other order could leave copies nobody knows about.
      for (const { emlPath } of removed) if (emlPath) removeKeptFile(emlPath);
      return removed.length;
    },
  };

  function removeKeptFile(emlPath: string): void {
    const file = path.resolve(settings.keepDir, emlPath);
    if (!file.startsWith(`${path.resolve(settings.keepDir)}${path.sep}`)) {
      log.warn({ emlPath }, 'kept mail path leaves the mail folder; file left alone');
      return;
    }
    rmSync(file, { force: true });
  }

  return { mailer, jobs: [registrable(deliver), registrable(sweep)] };
}

/** The file of a kept message: its stored path is relative to `<data>/mail` and may not leave it. */
export function keptMailPath(dataDir: string, emlPath: string): string {
  const root = path.join(dataDir, 'mail');
  const file = path.resolve(root, emlPath);
  if (!file.startsWith(`${root}${path.sep}`)) throw new Error('kept mail path leaves the mail folder');
  return file;
}
