import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { InvalidInput, NotFound } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, ProblemSchema, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { routeRequires } from '../access/service.ts';
import { DEFAULT_PERIOD_DAYS, documentAnalytics, exportAnalyticsCsv, lastDays, PERIOD_CHOICES, periodOf } from './analytics.ts';
import { AnalyticsJson, AnalyticsQuery, IdParam, TraceJson, TraceUpload } from './schema.ts';
import { type GrantTrace, traceGrant, traceLeakedPdf } from './trace.ts';
import { AnalyticsPage } from './views/analytics.tsx';
import { TracePage } from './views/trace.tsx';

/** The leak lookup's PDF uploads: a leaked copy is as large as the documents (the app's 1 MiB would refuse it). */
export function isTraceUpload(method: string, path: string): boolean {
  return method === 'POST' && (path === '/admin/documents/trace' || path === '/api/v1/document-traces');
}

async function uploadedFile(c: AppContext): Promise<Uint8Array> {
  const file = (await c.req.parseBody()).file;
  if (!(file instanceof File) || file.size === 0)
    throw new InvalidInput('choose a file', { file: 'choose the PDF copy to trace' });
  return new Uint8Array(await file.arrayBuffer());
}

// --- back office ------------------------------------------------------------------------------------------

export const documentInsightPages = new Hono<AppEnv>();

/** Runs a lookup and shows its result, or the one clear message an unknown or malformed id or file earns. */
async function renderTrace(c: AppContext, grantId: string, lookup: () => Promise<GrantTrace>) {
  const page = (props: { trace?: GrantTrace; notFound?: boolean; errors?: Record<string, string> }, status: 200 | 404 | 422) =>
    renderAdmin(
      c,
      'Trace a copy',
      <TracePage csrfToken={csrfTokenOf(c)} grantId={grantId} now={new Date()} {...props} />,
      status,
    );
  try {
    return await page({ trace: await lookup() }, 200);
  } catch (error) {
    if (error instanceof InvalidInput) return page({ errors: error.fields }, 422);
    if (error instanceof NotFound) return page({ notFound: true }, 404);
    throw error;
  }
}

documentInsightPages.get('/admin/documents/trace', routeRequires('documents.read'), async (c) => {
  c.header('cache-control', 'no-store');
  const grantId = c.req.query('grant')?.trim() ?? '';
  if (!grantId) return renderAdmin(c, 'Trace a copy', <TracePage csrfToken={csrfTokenOf(c)} now={new Date()} />);
  return renderTrace(c, grantId, () => traceGrant(requestContext(c), grantId));
});

documentInsightPages.post('/admin/documents/trace', routeRequires('documents.read'), async (c) => {
  c.header('cache-control', 'no-store');
  return renderTrace(c, '', async () => traceLeakedPdf(requestContext(c), await uploadedFile(c)));
});

function chosenDays(text: string | undefined): number {
  const days = Number(text);
  return (PERIOD_CHOICES as readonly number[]).includes(days) ? days : DEFAULT_PERIOD_DAYS;
}

documentInsightPages.get('/admin/documents/analytics', routeRequires('documents.read'), async (c) => {
  const days = chosenDays(c.req.query('days'));
  const analytics = await documentAnalytics(requestContext(c), lastDays(days, c.var.runtime.clock.now()));
  return renderAdmin(c, 'Document analytics', <AnalyticsPage analytics={analytics} days={days} />);
});

function csvResponse(c: AppContext, lines: string[], period: { from: string; to: string }): Response {
  return c.body(`${lines.join('\r\n')}\r\n`, 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="document-analytics-${period.from}-${period.to}.csv"`,
    'cache-control': 'no-store',
  });
}

documentInsightPages.get('/admin/documents/analytics/export.csv', routeRequires('documents.read'), async (c) => {
  const period = periodOf({ from: c.req.query('from'), to: c.req.query('to') }, c.var.runtime.clock.now());
  return csvResponse(c, await exportAnalyticsCsv(requestContext(c), period), period);
});

// --- JSON API ---------------------------------------------------------------------------------------------

export const documentInsightApi = createApi();
const TAGS = ['Document requests'];
const json = <S,>(schema: S) => ({ 'application/json': { schema } });

function traceJson(t: GrantTrace) {
  const { grant: g, request: r, signature: s } = t;
  return {
    grant: {
      id: g.id,
      requestId: g.requestId,
      versions: g.versions,
      expiresAt: g.expiresAt.toISOString(),
      revokedAt: g.revokedAt?.toISOString() ?? null,
      revokedBy: g.revokedBy,
      createdAt: g.createdAt.toISOString(),
    },
    requester: { name: r.name, email: r.email, company: r.company },
    request: {
      id: r.id,
      state: r.state,
      reason: r.reason,
      createdAt: r.createdAt.toISOString(),
      ip: r.ip,
      decidedAt: r.decidedAt?.toISOString() ?? null,
      decidedBy: r.decidedBy,
      rule: r.rule,
      decisionReason: r.decisionReason,
    },
    nda: s
      ? {
          version: s.ndaVersion,
          sha256: s.ndaSha256,
          typedName: s.typedName,
          signedAt: s.signedAt.toISOString(),
          ip: s.ip,
          userAgent: s.userAgent,
        }
      : null,
    documents: t.documents,
    accesses: t.accesses.map((a) => ({ ...a, at: a.at.toISOString() })),
  };
}

const TRACE_DESCRIPTION =
  'Who received the grant (name, email, company), the request and its decision, the NDA signature, the documents and ' +
  'versions granted, when it was granted, expires or was revoked, and every view and download (time, documents, ' +
  'version, IP address, user agent). Needs `documents.read`. Recorded as `document_grant.traced`.';

documentInsightApi.openapi(
  createRoute({
    method: 'get',
    path: '/document-grants/{id}/trace',
    tags: TAGS,
    summary: 'Trace a grant (leak lookup)',
    description: `${TRACE_DESCRIPTION} An unknown id is a 404, a malformed one a 422.`,
    middleware: [routeRequires('documents.read')],
    security: BEARER,
    request: { params: IdParam },
    responses: {
      200: { description: 'The trace', content: json(TraceJson) },
      ...commonErrors,
      ...notFoundError,
      ...validationErrors,
    },
  }),
  async (c) => c.json(traceJson(await traceGrant(requestContext(c), c.req.valid('param').id)), 200),
);

documentInsightApi.openapi(
  createRoute({
    method: 'post',
    path: '/document-traces',
    tags: TAGS,
    summary: 'Trace a leaked PDF',
    description: `Multipart form with \`file\`: the grant id is read from the PDF's metadata (\`CandorGrantId\`, Keywords \`grant:<id>\`, Subject). ${TRACE_DESCRIPTION} A file that is not a readable PDF or carries no grant id is a 422; the file is not kept.`,
    middleware: [routeRequires('documents.read')],
    security: BEARER,
    request: { body: { required: true, content: { 'multipart/form-data': { schema: TraceUpload } } } },
    responses: {
      200: { description: 'The trace', content: json(TraceJson) },
      ...commonErrors,
      ...notFoundError,
      ...validationErrors,
      413: { description: 'The file is larger than 25 MiB', content: { 'application/problem+json': { schema: ProblemSchema } } },
    },
  }),
  async (c) => c.json(traceJson(await traceLeakedPdf(requestContext(c), await uploadedFile(c))), 200),
);

documentInsightApi.openapi(
  createRoute({
    method: 'get',
    path: '/document-analytics',
    tags: TAGS,
    summary: 'Requests, approvals, views and downloads per document, domain and week',
    description:
      'Whole UTC days from `from` to `to` (inclusive; the last 90 days by default, at most three years). Weeks start on ' +
      'Monday (UTC). `format=csv` gives one file with columns table (document | domain | week), key, name, requests, ' +
      'approvals, denials, views, downloads (RFC 4180; cells starting with = + - @ are prefixed with an apostrophe), ' +
      'recorded as `document_analytics.exported`. Needs `documents.read`.',
    middleware: [routeRequires('documents.read')],
    security: BEARER,
    request: { query: AnalyticsQuery },
    responses: {
      200: {
        description: 'The counts',
        content: { ...json(AnalyticsJson), 'text/csv': { schema: z.string() } },
      },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const query = c.req.valid('query');
    const ctx = requestContext(c);
    const period = periodOf(query, ctx.clock.now());
    if (query.format === 'csv') return csvResponse(c, await exportAnalyticsCsv(ctx, period), period);
    return c.json(await documentAnalytics(ctx, period), 200);
  },
);
