import { readFile } from 'node:fs/promises';
import type { RequestContext } from '../../platform/context.ts';
import { NotFound } from '../../platform/errors.ts';
import { countOutboxRows, findOutboxRow, listOutboxRows, type OutboxRow } from '../../platform/mail/store.ts';

export const OUTBOX_PAGE_SIZE = 25;

export interface OutboxPage {
  messages: OutboxRow[];
  page: number;
  size: number;
  total: number;
}

/** The tenant's outgoing mail, newest first: what was sent, kept as files, waiting, or failed. */
export function listOutbox(ctx: RequestContext, page: number): Promise<OutboxPage> {
  const size = OUTBOX_PAGE_SIZE;
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => ({
    messages: await listOutboxRows(tx, size, (page - 1) * size),
    total: await countOutboxRows(tx),
    page,
    size,
  }));
}

export async function getOutboxMessage(ctx: RequestContext, id: string): Promise<OutboxRow> {
  const row = await ctx.db.withTenant(ctx.tenant.id, (tx) => findOutboxRow(tx, id));
  if (!row) throw new NotFound('message', id);
  return row;
}

/** The raw RFC 5322 message kept on disk when no SMTP server is configured. */
export async function readKeptMessage(ctx: RequestContext, id: string): Promise<Buffer> {
  const row = await getOutboxMessage(ctx, id);
  if (!row.emlPath) throw new NotFound('kept copy of message', id);
  return readFile(row.emlPath);
}
