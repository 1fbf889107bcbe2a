import { z } from '@hono/zod-openapi';

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1).openapi({ example: 1 }),
});

export const MessageIdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

export const OutboxMessage = z
  .object({
    id: z.uuid(),
    to: z.array(z.string()),
    subject: z.string(),
    status: z.enum(['queued', 'sent', 'kept', 'failed']),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
    sentAt: z.iso.datetime().nullable(),
  })
  .openapi('OutboxMessage');

export const OutboxList = z
  .object({
    items: z.array(OutboxMessage),
    page: z.number().int(),
    pageSize: z.number().int(),
    total: z.number().int(),
  })
  .openapi('OutboxList');
