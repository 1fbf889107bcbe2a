import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The outbox: a mail is a row written in the same transaction as the change that causes it, so a mail
 * is sent if and only if its cause committed. The deliver job sends (or keeps) it afterwards.
 * `tenant_id` has no foreign key: platform code knows no module, so it cannot reference `tenants`.
 */
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    to: text('to').array().notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html'),
    headers: jsonb('headers').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    /** Files sent with the mail: name, type and base64 content each. */
    attachments: jsonb('attachments')
      .$type<{ filename: string; contentType: string; base64: string }[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    /** queued → sent | kept (no SMTP: written as .eml) | failed (retries exhausted) */
    status: text('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    messageId: text('message_id'),
    emlPath: text('eml_path'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('mail_outbox_created_idx').on(t.tenantId, t.createdAt),
    index('mail_outbox_due_idx').on(t.nextAttemptAt).where(sql`status = 'queued'`),
  ],
);
