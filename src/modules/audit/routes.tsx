import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { fieldErrors } from '../../platform/http/errors.tsx';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import {
  ApiEventQuery,
  AuditEvent,
  AuditEventList,
  EventFilterQuery,
  PublicCheckpointsQuery,
  RangeQuery,
  SeqParam,
  Verification,
} from './schema.ts';
import {
  auditTrailStatus,
  eventView,
  exportAuditEventsCsv,
  exportAuditTrail,
  getAuditEvent,
  getAuditEventWithHead,
  listAuditEvents,
  PUBLIC_CHECKPOINTS_PATH,
  publishedCheckpoints,
  type Verification as VerificationRow,
  verifyAuditTrail,
} from './service.ts';
import { AuditEventView, AuditListView, type FilterValues } from './views/audit.tsx';

const FILTER_KEYS = ['actor', 'action', 'target', 'outcome', 'from', 'to'] as const;
const JSONL = 'application/jsonl';
const CHUNK_CHARS = 64 * 1024;

/** The filter fields as typed, to show them again and to carry them into the pager and the exports. */
function filterValues(query: Record<string, string>): FilterValues {
  const values: FilterValues = {};
  for (const key of FILTER_KEYS) {
    const value = query[key]?.trim();
    if (value) values[key] = value;
  }
  return values;
}

function queryString(values: FilterValues, keys: readonly (keyof FilterValues)[] = FILTER_KEYS): string {
  const params = new URLSearchParams();
  for (const key of keys) {
    const value = values[key];
    if (value) params.set(key, value);
  }
  return params.toString();
}

/**
 * Streams lines as the body, in chunks of about 64 KiB: the trail can be millions of events, and neither the
 * whole export nor one write per line belongs in memory or on the wire. A client that goes away stops the reads.
 */
function linesBody(lines: AsyncGenerator<string>, eol: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk = '';
      while (chunk.length < CHUNK_CHARS) {
        const next = await lines.next();
        if (next.done) {
          if (chunk) controller.enqueue(encoder.encode(chunk));
          controller.close();
          return;
        }
        chunk += next.value + eol;
      }
      controller.enqueue(encoder.encode(chunk));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}

function download(c: AppContext, lines: AsyncGenerator<string>, type: string, extension: string, eol = '\n'): Response {
  const day = c.var.runtime.clock.now().toISOString().slice(0, 10);
  return c.body(linesBody(lines, eol), 200, {
    'content-type': type,
    'content-disposition': `attachment; filename="audit-${c.var.tenant.slug}-${day}.${extension}"`,
    'cache-control': 'no-store',
  });
}

/** Back-office pages (mounted at the root; paths start with /admin). */
export const auditPages = new Hono<AppEnv>();

auditPages.get('/admin/audit', async (c) => {
  const ctx = requestContext(c);
  const raw = c.req.query();
  const values = filterValues(raw);
  const status = await auditTrailStatus(ctx);
  const parsed = EventFilterQuery.safeParse(raw);
  const { page: pageNumber = 1, ...filter } = parsed.success ? parsed.data : {};
  const page = parsed.success ? await listAuditEvents(ctx, filter, pageNumber) : undefined;
  return renderAdmin(
    c,
    'Audit trail',
    <AuditListView
      page={page}
      status={status}
      values={values}
      errors={parsed.success ? {} : fieldErrors(parsed.error)}
      query={queryString(values)}
      rangeQuery={queryString(values, ['from', 'to'])}
      csrfToken={csrfTokenOf(c)}
      checkpointsUrl={`${new URL(c.req.url).origin}${PUBLIC_CHECKPOINTS_PATH}`}
      canExport={can(c.var.actor, 'audit.export')}
      canVerify={can(c.var.actor, 'audit.verify')}
    />,
    parsed.success ? 200 : 422,
  );
});

auditPages.get('/admin/audit/export.csv', async (c) => {
  const { page: _page, ...filter } = EventFilterQuery.parse(c.req.query());
  const lines = await exportAuditEventsCsv(requestContext(c), filter);
  // RFC 4180 ends records with CRLF.
  return download(c, lines, 'text/csv; charset=utf-8', 'csv', '\r\n');
});

auditPages.get('/admin/audit/export.jsonl', async (c) => {
  const range = RangeQuery.parse(c.req.query());
  return download(c, await exportAuditTrail(requestContext(c), range), JSONL, 'jsonl');
});

auditPages.post('/admin/audit/verify', routeRequires('audit.verify'), async (c) => {
  const verification = await verifyAuditTrail(requestContext(c));
  return redirectWithFlash(c, '/admin/audit', verification.summary, verification.ok ? 'success' : 'error');
});

auditPages.get('/admin/audit/:seq{[0-9]+}', async (c) => {
  const { seq } = SeqParam.parse(c.req.param());
  const { event, headSeq } = await getAuditEventWithHead(requestContext(c), seq);
  return renderAdmin(c, `Audit event ${seq}`, <AuditEventView event={event} headSeq={headSeq} />);
});

function verificationJson(v: VerificationRow) {
  return {
    ok: v.ok,
    summary: v.summary,
    checkedAt: v.checkedAt.toISOString(),
    events: v.events,
    checkpoints: v.checkpoints,
    firstSeq: v.firstSeq,
    lastSeq: v.lastSeq,
    lastHash: v.lastHash,
    anchor: v.anchor as 'genesis' | 'checkpoint' | 'none' | 'empty',
    problem: v.problem,
  };
}

/** JSON API routes (mounted under /api/v1). */
export const auditApi = createApi();

auditApi.openapi(
  createRoute({
    method: 'get',
    path: '/audit/events',
    tags: ['Audit'],
    summary: 'Search the audit trail',
    description: 'Events newest first, filtered by actor, action prefix, target, outcome and time. Needs `audit.read`.',
    security: BEARER,
    request: { query: ApiEventQuery },
    responses: {
      200: { description: 'A page of events', content: { 'application/json': { schema: AuditEventList } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const { page, pageSize, ...filter } = c.req.valid('query');
    const result = await listAuditEvents(requestContext(c), filter, page, pageSize);
    return c.json({ items: result.events.map(eventView), page: result.page, pageSize: result.size, total: result.total }, 200);
  },
);

auditApi.openapi(
  createRoute({
    method: 'get',
    path: '/audit/events/{seq}',
    tags: ['Audit'],
    summary: 'One audit event',
    security: BEARER,
    request: { params: SeqParam },
    responses: {
      200: { description: 'The event as hashed, with its hash', content: { 'application/json': { schema: AuditEvent } } },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const { seq } = c.req.valid('param');
    return c.json(eventView(await getAuditEvent(requestContext(c), seq)), 200);
  },
);

// Declared for the OpenAPI document, served by a plain route: the typed handlers of @hono/zod-openapi only
// return JSON or text, and this answer is a stream of lines.
const exportRoute = createRoute({
  method: 'get',
  path: '/audit/export',
  tags: ['Audit'],
  summary: 'Export the verifiable trail',
  description:
    'JSON Lines: the signing keys, every event with its hash and the signed checkpoints between them, then an end line. Check it with `candor audit verify --file`. The export is recorded in the trail. Needs `audit.export`.',
  security: BEARER,
  request: { query: RangeQuery },
  responses: {
    200: { description: 'The trail, one JSON object a line', content: { [JSONL]: { schema: z.string() } } },
    ...commonErrors,
    ...validationErrors,
  },
});
auditApi.openAPIRegistry.registerPath(exportRoute);
auditApi.get(exportRoute.path, async (c) => {
  const range = RangeQuery.parse(c.req.query());
  return download(c, await exportAuditTrail(requestContext(c), range), JSONL, 'jsonl');
});

auditApi.openapi(
  createRoute({
    method: 'post',
    path: '/audit/verify',
    tags: ['Audit'],
    summary: 'Verify the whole trail now',
    description:
      'Re-hashes every stored event, checks the links and the checkpoint signatures, and keeps the result. Needs `audit.verify`.',
    middleware: [routeRequires('audit.verify')],
    security: BEARER,
    responses: {
      200: { description: 'The verification result', content: { 'application/json': { schema: Verification } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json(verificationJson(await verifyAuditTrail(requestContext(c))), 200),
);

/** Public, tenant-scoped pages that need no sign-in (the published checkpoints). */
export const auditPublicPages = new Hono<AppEnv>();

auditPublicPages.get(PUBLIC_CHECKPOINTS_PATH, async (c) => {
  const { after } = PublicCheckpointsQuery.parse(c.req.query());
  const document = await publishedCheckpoints(c.var.runtime, c.var.tenant, after);
  // Shared caches may keep it briefly: checkpoints only ever get added, at most every few minutes.
  c.header('cache-control', 'public, max-age=60');
  return c.json(document);
});
