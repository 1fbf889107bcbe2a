import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../context.ts';
import type { Database } from '../db/client.ts';
import { defineJob, type Jobs, type RegisteredJob, registrable } from '../jobs/jobs.ts';
import type { Mailer, OutgoingMail } from './outbox.ts';
import { insertOutboxMail, lockOutboxMail, type OutboxRow, updateOutboxMail } from './store.ts';

export interface MailSettings {
  /** smtp:// or smtps:// URL; without it, mail is kept as .eml files in `keepDir`. */
  smtpUrl: string | undefined;
  from: string;
  /** Where messages are kept when no SMTP server is configured (under the data directory). */
  keepDir: string;
}

const RETRY = { limit: 6, delaySeconds: 20, backoff: true };

const DeliverPayload = z.object({ tenantId: z.uuid(), id: z.uuid() });

export interface MailSystem {
  mailer: Mailer;
  jobs: RegisteredJob[];
}

/**
 * The outbox: `enqueue` writes the message and its delivery job in the caller's transaction; the
 * `mail.deliver` job then sends it over SMTP (retrying with backoff) or, with no SMTP configured,
 * keeps it as an .eml file a newcomer can open.
 */
export function createMailSystem(db: Database, jobs: Jobs, settings: MailSettings, log: Logger, clock: Clock): MailSystem {
  const transport = settings.smtpUrl ? nodemailer.createTransport(settings.smtpUrl) : undefined;
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  const deliver = defineJob({
    name: 'mail.deliver',
    payload: DeliverPayload,
    retry: RETRY,
    handler: async ({ tenantId, id }) => {
      // System scope: the worker is not acting for a tenant, it delivers whatever the outbox holds.
      const failure = await db.withSystem(async (tx) => {
        const row = await lockOutboxMail(tx, tenantId, id);
        if (row?.status !== 'queued') return undefined; // delivered by an earlier attempt
        const attempts = row.attempts + 1;
        try {
          const outcome = transport ? await sendOverSmtp(row) : await keepAsFile(row);
          await updateOutboxMail(tx, tenantId, id, { ...outcome, attempts, lastError: null, sentAt: clock.now() });
          return undefined;
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          const final = attempts > RETRY.limit;
          log.warn({ tenantId, mailId: id, attempts, err: reason }, 'mail delivery failed');
          await updateOutboxMail(tx, tenantId, id, {
            attempts,
            lastError: reason.slice(0, 1000),
            status: final ? 'failed' : 'queued',
          });
          return final ? undefined : reason;
        }
      });
      // Thrown only after the attempt is recorded, so the queue retries with backoff and the outbox shows why.
      if (failure) throw new Error(`mail ${id} not delivered: ${failure}`);
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
      messageId: `<${row.id}@candor>`,
    };
  }

  async function sendOverSmtp(row: OutboxRow) {
    if (!transport) throw new Error('no SMTP transport');
    const info = await transport.sendMail(message(row));
    return { status: 'sent', messageId: info.messageId };
  }

  async function keepAsFile(row: OutboxRow) {
    const composed = await composer.sendMail(message(row));
    const dir = path.join(settings.keepDir, row.tenantId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${row.id}.eml`);
    const temp = `${file}.tmp`;
    writeFileSync(temp, composed.message as Buffer, { mode: 0o600 });
    renameSync(temp, file);
    return { status: 'kept', messageId: composed.messageId, emlPath: file };
  }

  const mailer: Mailer = {
    async enqueue(tx, tenantId, mail: OutgoingMail) {
      const to = Array.isArray(mail.to) ? mail.to : [mail.to];
      const id = await insertOutboxMail(tx, {
        tenantId,
        to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html ?? null,
        headers: mail.headers ?? {},
      });
      await jobs.enqueue(deliver, { tenantId, id }, { tx });
      return id;
    },
  };

  return { mailer, jobs: [registrable(deliver)] };
}
