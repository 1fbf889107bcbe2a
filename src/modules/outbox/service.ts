import { readFile } from 'node:fs/promises';
import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import { NotFound } from '../../platform/errors.ts';
import { keptMailPath } from '../../platform/mail/mailer.ts';
import { countOutboxRows, findOutboxRow, listOutboxRows, type OutboxRow } from '../../platform/mail/store.ts';
import { requirePermission } from '../access/service.ts';

// Outgoing mail carries personal data and one-time links (setup, invitations): reading it takes `outbox.read`.

export const OUTBOX_PAGE_SIZE = 25;

export interface OutboxPage {
  messages: OutboxRow[];
  page: number;
  size: number;
  total: number;
}

/** The tenant's outgoing mail, newest first: what was sent, kept as files, waiting, or failed. */
export function listOutbox(ctx: RequestContext, page: number): Promise<OutboxPage> {
  requirePermission(ctx.actor, 'outbox.read');
  const size = OUTBOX_PAGE_SIZE;
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => ({
    messages: await listOutboxRows(tx, size, (page - 1) * size),
    total: await countOutboxRows(tx),
    page,
    size,
  }));
}

/**
 * One message. Mail carries personal data (recipients, bodies), so opening it is a read the trail records
 * (`mail.viewed`), in the same transaction as the read.
 */
export async function getOutboxMessage(ctx: RequestContext, id: string): Promise<OutboxRow> {
  requirePermission(ctx.actor, 'outbox.read');
  const row = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const found = await findOutboxRow(tx, id);
    if (found) await ctx.audit.record(tx, auditScope(ctx), { action: 'mail.viewed', target: { type: 'mail', id } });
    return found;
  });
  if (!row) throw new NotFound('message', id);
  return row;
}

/**
 * The raw RFC 5322 message kept on disk when no SMTP server is configured, recorded as `mail.downloaded`.
 * The file is read inside the transaction so that only a download that happened is recorded.
 */
export async function readKeptMessage(ctx: RequestContext, id: string): Promise<Buffer> {
  requirePermission(ctx.actor, 'outbox.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await findOutboxRow(tx, id);
    if (!row) throw new NotFound('message', id);
    if (!row.emlPath) throw new NotFound('kept copy of message', id);
    const raw = await readFile(keptMailPath(ctx.config.dataDir, row.emlPath));
    await ctx.audit.record(tx, auditScope(ctx), { action: 'mail.downloaded', target: { type: 'mail', id } });
    return raw;
  });
}
