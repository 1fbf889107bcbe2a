import { createRoute } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppEnv, requestContext } from '../../platform/http/env.ts';
import { renderAdmin } from '../../platform/http/render.tsx';
import type { OutboxRow } from '../../platform/mail/store.ts';
import { MessageIdParam, OutboxList, OutboxMessage, PageQuery } from './schema.ts';
import { getOutboxMessage, listOutbox, readKeptMessage } from './service.ts';
import { OutboxListView, OutboxMessageView } from './views/outbox.tsx';

export const outboxPages = new Hono<AppEnv>();

outboxPages.get('/admin/outbox', async (c) => {
  const { page } = PageQuery.parse(c.req.query());
  const result = await listOutbox(requestContext(c), page);
  return renderAdmin(c, 'Outbox', <OutboxListView page={result} smtpConfigured={Boolean(c.var.runtime.config.smtpUrl)} />);
});

outboxPages.get('/admin/outbox/:id', async (c) => {
  const { id } = MessageIdParam.parse(c.req.param());
  const message = await getOutboxMessage(requestContext(c), id);
  return renderAdmin(c, message.subject, <OutboxMessageView message={message} />);
});

outboxPages.get('/admin/outbox/:id/raw', async (c) => {
  const { id } = MessageIdParam.parse(c.req.param());
  const raw = await readKeptMessage(requestContext(c), id);
  c.header('content-type', 'message/rfc822');
  c.header('content-disposition', `attachment; filename="${id}.eml"`);
  c.header('cache-control', 'no-store');
  return c.body(new Uint8Array(raw));
});

function toApi(row: OutboxRow) {
  return {
    id: row.id,
    to: row.to,
    subject: row.subject,
    status: row.status as 'queued' | 'sent' | 'kept' | 'failed',
    attempts: row.attempts,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    sentAt: row.sentAt?.toISOString() ?? null,
  };
}

export const outboxApi = createApi();

outboxApi.openapi(
  createRoute({
    method: 'get',
    path: '/outbox',
    tags: ['Mail'],
    summary: 'List outgoing mail',
    description: 'The tenant’s outbox, newest first, with delivery status. Bodies are not included.',
    security: BEARER,
    request: { query: PageQuery },
    responses: {
      200: { description: 'A page of messages', content: { 'application/json': { schema: OutboxList } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const { page } = c.req.valid('query');
    const result = await listOutbox(requestContext(c), page);
    return c.json({ items: result.messages.map(toApi), page: result.page, pageSize: result.size, total: result.total }, 200);
  },
);

outboxApi.openapi(
  createRoute({
    method: 'get',
    path: '/outbox/{id}',
    tags: ['Mail'],
    summary: 'One outgoing message',
    security: BEARER,
    request: { params: MessageIdParam },
    responses: {
      200: { description: 'The message', content: { 'application/json': { schema: OutboxMessage } } },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    return c.json(toApi(await getOutboxMessage(requestContext(c), id)), 200);
  },
);
