import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { RateLimiter } from '../../platform/http/rate-limit.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import type { FieldErrors } from '../../platform/ui/components.tsx';
import { can, routeRequires } from '../access/service.ts';
import { localHref, localizedRoute, visitorLocale } from '../trust-center/visitor.ts';
import {
  AccessSettingsInput,
  AccessSettingsJson,
  Denial,
  GrantJson,
  IdParam,
  NdaForm,
  NdaJson,
  NdaText,
  RequestForm,
  RequestJson,
} from './schema.ts';
import {
  accessSettings,
  approveRequest,
  denyRequest,
  getRequestDetail,
  grantDownload,
  grantViewer,
  grantViewPdf,
  linkState,
  listAllGrants,
  listGrantsWithRequesters,
  listRequestDetails,
  ndaToSign,
  ndaVersions,
  publicDownload,
  publishedDocuments,
  publishNda,
  type RequestDetail,
  revokeGrant,
  type SentFile,
  saveAccessSettings,
  signNda,
  submitRequest,
  ViewOnlyDocument,
  verifyRequest,
  viewGrant,
} from './service.ts';
import type { GrantRow, NdaVersionRow } from './store.ts';
import { AccessDomainsPage, GrantsPage, NdaAdminPage, RequestDetailPage, RequestsPage } from './views/admin.tsx';
import {
  DocumentsListPage,
  DocumentViewerPage,
  GrantPage,
  NdaPage,
  NoticePage,
  RequestPage,
  VerifyPage,
} from './views/public.tsx';

export const documentRequestPages = new Hono<AppEnv>();

// Ten requests an hour per address: enough for a person, too few to mail-bomb anyone through our verifications.
const requestsByIp = new RateLimiter(10, 60 * 60_000);

function noStore(c: AppContext): void {
  c.header('cache-control', 'no-store');
  c.header('x-robots-tag', 'noindex');
}

function sendFile(c: AppContext, file: SentFile): Response {
  const ascii = file.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return c.body(file.content as Uint8Array<ArrayBuffer>, 200, {
    'content-type': file.contentType,
    'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    'cache-control': 'no-store',
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// --- visitors ---------------------------------------------------------------------------------------------

localizedRoute(documentRequestPages, 'get', '/documents', async (c, chosen) => {
  noStore(c);
  const documents = await publishedDocuments(requestContext(c));
  return c.html(<DocumentsListPage companyName={c.var.tenant.name} v={visitorLocale(c, chosen)} documents={documents} />);
});

localizedRoute(documentRequestPages, 'get', '/documents/:id/download', async (c) => {
  const id = c.req.param('id') ?? '';
  if (!UUID.test(id)) return c.notFound();
  return sendFile(c, await publicDownload(requestContext(c), id));
});

async function requestable(c: AppContext) {
  return (await publishedDocuments(requestContext(c))).filter((d) => d.accessLevel !== 'public');
}

localizedRoute(documentRequestPages, 'get', '/documents/request', async (c, chosen) => {
  noStore(c);
  const preselected = c.req.query('document') ?? '';
  return c.html(
    <RequestPage
      companyName={c.var.tenant.name}
      v={visitorLocale(c, chosen)}
      documents={await requestable(c)}
      values={{ documents: preselected }}
    />,
  );
});

localizedRoute(documentRequestPages, 'post', '/documents/request', async (c, chosen) => {
  noStore(c);
  requestsByIp.hit(`${c.var.tenant.id}:${c.var.ip}`);
  const v = visitorLocale(c, chosen);
  const form = await readForm(c, RequestForm, { lists: ['documents'] });
  const page = async (values: Record<string, string>, errors: Record<string, string | undefined>) =>
    c.html(
      <RequestPage companyName={c.var.tenant.name} v={v} documents={await requestable(c)} values={values} errors={errors} />,
      422,
    );
  if (!form.ok) return page(form.values, form.errors);
  try {
    await submitRequest(requestContext(c), form.data, new URL(c.req.url).origin, v.locale);
  } catch (error) {
    if (error instanceof InvalidInput) return page({ ...form.data, documents: '' }, error.fields);
    throw error;
  }
  return c.html(
    <NoticePage companyName={c.var.tenant.name} v={v} title={v.t.gated.checkInboxTitle} text={v.t.gated.checkInbox} />,
  );
});

// Pages reached from a mail speak the requester's language even at an unprefixed address.

localizedRoute(documentRequestPages, 'get', '/documents/verify/:token', async (c, chosen) => {
  noStore(c);
  c.header('referrer-policy', 'no-referrer');
  const state = await linkState(requestContext(c), c.req.param('token') ?? '', 'unverified');
  const v = visitorLocale(c, chosen, state.locale);
  return c.html(
    <VerifyPage companyName={c.var.tenant.name} v={v} action={c.req.path} valid={state.valid} />,
    state.valid ? 200 : 410,
  );
});

localizedRoute(documentRequestPages, 'post', '/documents/verify/:token', async (c, chosen) => {
  noStore(c);
  c.header('referrer-policy', 'no-referrer');
  const outcome = await verifyRequest(requestContext(c), c.req.param('token') ?? '');
  const v = visitorLocale(c, chosen, outcome.kind === 'invalid' ? undefined : outcome.locale);
  const t = v.t.gated;
  const name = c.var.tenant.name;
  switch (outcome.kind) {
    case 'invalid':
      return c.html(<VerifyPage companyName={name} v={v} action={c.req.path} valid={false} />, 410);
    case 'refused':
      return c.html(<NoticePage companyName={name} v={v} title={t.refusedTitle} text={t.refused} />, 403);
    case 'approved':
      return c.html(<NoticePage companyName={name} v={v} title={t.approvedTitle} text={t.approved} />);
    case 'nda':
      return c.redirect(localHref(v, `/documents/nda/${outcome.token}`), 303);
  }
});

async function ndaPage(
  c: AppContext,
  v: ReturnType<typeof visitorLocale>,
  nda: NdaVersionRow,
  extra: { values?: Record<string, string>; errors?: Record<string, string | undefined> } = {},
  status: 200 | 409 | 422 = 200,
) {
  return c.html(<NdaPage companyName={c.var.tenant.name} v={v} action={c.req.path} nda={nda} {...extra} />, status);
}

localizedRoute(documentRequestPages, 'get', '/documents/nda/:token', async (c, chosen) => {
  noStore(c);
  c.header('referrer-policy', 'no-referrer');
  const ctx = requestContext(c);
  const state = await linkState(ctx, c.req.param('token') ?? '', 'nda');
  const v = visitorLocale(c, chosen, state.locale);
  if (!state.valid) return c.html(<VerifyPage companyName={c.var.tenant.name} v={v} action={c.req.path} valid={false} />, 410);
  return ndaPage(c, v, await ndaToSign(ctx));
});

localizedRoute(documentRequestPages, 'post', '/documents/nda/:token', async (c, chosen) => {
  noStore(c);
  c.header('referrer-policy', 'no-referrer');
  const ctx = requestContext(c);
  const token = c.req.param('token') ?? '';
  const state = await linkState(ctx, token, 'nda');
  const v = visitorLocale(c, chosen, state.locale);
  const t = v.t.gated;
  const name = c.var.tenant.name;
  if (!state.valid) return c.html(<VerifyPage companyName={name} v={v} action={c.req.path} valid={false} />, 410);
  const form = await readForm(c, NdaForm);
  const nda = await ndaToSign(ctx);
  if (!form.ok) return ndaPage(c, v, nda, { values: form.values, errors: form.errors }, 422);
  const shown = Number(form.values.ndaVersion ?? nda.version);
  if (shown !== nda.version) return ndaPage(c, v, nda, { values: form.values }, 409);
  const outcome = await signNda(ctx, token, form.data.typedName, nda.version);
  if (outcome.kind === 'invalid') return c.html(<VerifyPage companyName={name} v={v} action={c.req.path} valid={false} />, 410);
  if (outcome.kind === 'approved')
    return c.html(<NoticePage companyName={name} v={v} title={t.approvedTitle} text={t.approved} />);
  return c.html(<NoticePage companyName={name} v={v} title={t.pendingTitle} text={t.pending} />);
});

localizedRoute(documentRequestPages, 'get', '/documents/access/:token', async (c, chosen) => {
  noStore(c);
  c.header('referrer-policy', 'no-referrer');
  const view = await viewGrant(requestContext(c), c.req.param('token') ?? '');
  const v = visitorLocale(c, chosen, view?.request.locale);
  const name = c.var.tenant.name;
  if (!view) return c.html(<NoticePage companyName={name} v={v} title={v.t.gated.grantTitle} text={v.t.gated.grantGone} />, 410);
  return c.html(<GrantPage companyName={name} v={v} view={view} base={c.req.path} />);
});

/** The page for a link that is not (or no longer) good: expired, revoked, forged, or naming another document. */
function grantGone(c: AppContext, chosen: Parameters<typeof visitorLocale>[1]) {
  noStore(c);
  const v = visitorLocale(c, chosen);
  return c.html(
    <NoticePage companyName={c.var.tenant.name} v={v} title={v.t.gated.grantTitle} text={v.t.gated.grantGone} />,
    410,
  );
}

localizedRoute(documentRequestPages, 'get', '/documents/access/:token/:document', async (c, chosen) => {
  c.header('referrer-policy', 'no-referrer');
  const id = c.req.param('document') ?? '';
  try {
    const file = UUID.test(id) ? await grantDownload(requestContext(c), c.req.param('token') ?? '', id) : undefined;
    return file ? sendFile(c, file) : grantGone(c, chosen);
  } catch (error) {
    if (!(error instanceof ViewOnlyDocument)) throw error;
    noStore(c);
    const v = visitorLocale(c, chosen);
    const t = v.t.gated;
    return c.html(<NoticePage companyName={c.var.tenant.name} v={v} title={t.grantTitle} text={t.viewOnlyRefused} />, 403);
  }
});

localizedRoute(documentRequestPages, 'get', '/documents/access/:token/:document/view', async (c, chosen) => {
  noStore(c);
  c.header('referrer-policy', 'no-referrer');
  const id = c.req.param('document') ?? '';
  const opened = UUID.test(id) ? await grantViewer(requestContext(c), c.req.param('token') ?? '', id) : undefined;
  if (!opened) return grantGone(c, chosen);
  const v = visitorLocale(c, chosen, opened.view.request.locale);
  const here = c.req.path.replace(/\/view$/, '');
  const back = here.slice(0, here.lastIndexOf('/'));
  return c.html(
    <DocumentViewerPage companyName={c.var.tenant.name} v={v} document={opened.document} back={back} pdf={`${c.req.path}/pdf`} />,
  );
});

// The viewer's fetch: the stamped PDF, shown inline and never stored along the way.
localizedRoute(documentRequestPages, 'get', '/documents/access/:token/:document/view/pdf', async (c, chosen) => {
  c.header('referrer-policy', 'no-referrer');
  const id = c.req.param('document') ?? '';
  const file = UUID.test(id) ? await grantViewPdf(requestContext(c), c.req.param('token') ?? '', id) : undefined;
  if (!file) return grantGone(c, chosen);
  const ascii = file.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return c.body(file.content as Uint8Array<ArrayBuffer>, 200, {
    'content-type': file.contentType,
    'content-disposition': `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    'cache-control': 'no-store',
    'x-robots-tag': 'noindex',
  });
});

// --- back office ------------------------------------------------------------------------------------------

function requestId(c: AppContext): string {
  const parsed = IdParam.safeParse({ id: c.req.param('id') });
  return parsed.success ? parsed.data.id : '00000000-0000-0000-0000-000000000000';
}

async function renderRequest(c: AppContext, id: string, errors: FieldErrors = {}, status: 200 | 422 = 200) {
  const detail = await getRequestDetail(requestContext(c), id);
  const actor = c.var.actor;
  const own = actor.kind === 'user' && actor.email.toLowerCase() === detail.request.email.toLowerCase();
  return renderAdmin(
    c,
    `Request from ${detail.request.name}`,
    <RequestDetailPage
      detail={detail}
      csrfToken={csrfTokenOf(c)}
      canDecide={can(actor, 'documents.approve')}
      ownRequest={own}
      errors={errors}
      now={new Date()}
    />,
    status,
  );
}

documentRequestPages.get('/admin/documents/requests', routeRequires('documents.read'), async (c) =>
  renderAdmin(c, 'Document requests', <RequestsPage requests={await listRequestDetails(requestContext(c))} />),
);

documentRequestPages.get('/admin/documents/requests/:id', routeRequires('documents.read'), (c) => renderRequest(c, requestId(c)));

documentRequestPages.post('/admin/documents/requests/:id/approve', routeRequires('documents.approve'), async (c) => {
  const id = requestId(c);
  // Deciding one's own request is refused by the service (403 page).
  await approveRequest(requestContext(c), id);
  return redirectWithFlash(c, `/admin/documents/requests/${id}`, 'The request is approved; the requester has the link by mail.');
});

documentRequestPages.post('/admin/documents/requests/:id/deny', routeRequires('documents.approve'), async (c) => {
  const id = requestId(c);
  const body = await c.req.parseBody();
  try {
    await denyRequest(requestContext(c), id, typeof body.reason === 'string' ? body.reason : '');
  } catch (error) {
    if (error instanceof InvalidInput) return renderRequest(c, id, error.fields, 422);
    throw error;
  }
  return redirectWithFlash(c, `/admin/documents/requests/${id}`, 'The request is denied; the requester is told why by mail.');
});

documentRequestPages.get('/admin/documents/grants', routeRequires('documents.read'), async (c) =>
  renderAdmin(
    c,
    'Document grants',
    <GrantsPage
      grants={await listGrantsWithRequesters(requestContext(c))}
      csrfToken={csrfTokenOf(c)}
      canRevoke={can(c.var.actor, 'documents.approve')}
      now={new Date()}
    />,
  ),
);

documentRequestPages.post('/admin/documents/grants/:id/revoke', routeRequires('documents.approve'), async (c) => {
  await revokeGrant(requestContext(c), requestId(c));
  return redirectWithFlash(c, '/admin/documents/grants', 'The grant is revoked: its link works no more.');
});

async function renderNda(c: AppContext, errors: FieldErrors = {}, status: 200 | 422 = 200) {
  return renderAdmin(
    c,
    'Non-disclosure agreement',
    <NdaAdminPage
      versions={await ndaVersions(requestContext(c))}
      csrfToken={csrfTokenOf(c)}
      canManage={can(c.var.actor, 'documents.manage')}
      errors={errors}
    />,
    status,
  );
}

documentRequestPages.get('/admin/documents/nda', routeRequires('documents.read'), (c) => renderNda(c));

documentRequestPages.post('/admin/documents/nda', routeRequires('documents.manage'), async (c) => {
  const body = await c.req.parseBody();
  try {
    await publishNda(requestContext(c), typeof body.text === 'string' ? body.text : '');
  } catch (error) {
    if (error instanceof InvalidInput) return renderNda(c, error.fields, 422);
    throw error;
  }
  return redirectWithFlash(c, '/admin/documents/nda', 'The new version is published.');
});

async function renderAccess(c: AppContext, errors: FieldErrors = {}, status: 200 | 422 = 200) {
  return renderAdmin(
    c,
    'Request rules',
    <AccessDomainsPage
      settings={await accessSettings(requestContext(c))}
      csrfToken={csrfTokenOf(c)}
      canManage={can(c.var.actor, 'documents.manage')}
      errors={errors}
    />,
    status,
  );
}

documentRequestPages.get('/admin/documents/access', routeRequires('documents.read'), (c) => renderAccess(c));

documentRequestPages.post('/admin/documents/access', routeRequires('documents.manage'), async (c) => {
  const body = await c.req.parseBody();
  const lines = (v: unknown) => (typeof v === 'string' ? v.split(/\r?\n/) : []);
  try {
    await saveAccessSettings(requestContext(c), {
      blockedDomains: lines(body.blockedDomains),
      allowedDomains: lines(body.allowedDomains),
    });
  } catch (error) {
    if (error instanceof InvalidInput) return renderAccess(c, error.fields, 422);
    throw error;
  }
  return redirectWithFlash(c, '/admin/documents/access', 'The rules are saved.');
});

// --- JSON API ---------------------------------------------------------------------------------------------

export const documentRequestsApi = createApi();
const TAGS = ['Document requests'];
const json = <S,>(schema: S) => ({ 'application/json': { schema } });
const errors = { ...commonErrors, ...notFoundError };

function grantJson(g: GrantRow) {
  return {
    id: g.id,
    requestId: g.requestId,
    versions: g.versions,
    expiresAt: g.expiresAt.toISOString(),
    revokedAt: g.revokedAt?.toISOString() ?? null,
    revokedBy: g.revokedBy,
    createdAt: g.createdAt.toISOString(),
  };
}

function requestJson(d: RequestDetail) {
  const r = d.request;
  const s = d.signature;
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    company: r.company,
    reason: r.reason,
    documentIds: r.documentIds,
    state: r.state,
    rule: r.rule,
    createdAt: r.createdAt.toISOString(),
    verifiedAt: r.verifiedAt?.toISOString() ?? null,
    decidedAt: r.decidedAt?.toISOString() ?? null,
    decidedBy: r.decidedBy,
    decisionReason: r.decisionReason,
    nda: s
      ? {
          version: s.ndaVersion,
          sha256: s.ndaSha256,
          typedName: s.typedName,
          ip: s.ip,
          userAgent: s.userAgent,
          signedAt: s.signedAt.toISOString(),
        }
      : null,
    grants: d.grants.map(grantJson),
  };
}

function ndaJson(n: NdaVersionRow) {
  return { version: n.version, text: n.text, sha256: n.sha256, createdAt: n.createdAt.toISOString(), createdBy: n.createdBy };
}

documentRequestsApi.openapi(
  createRoute({
    method: 'get',
    path: '/document-requests',
    tags: TAGS,
    summary: 'Requests for gated documents',
    description: 'The newest 500, with their grants (NDA details on the single-request endpoint). Needs `documents.read`.',
    security: BEARER,
    responses: { 200: { description: 'Requests', content: json(z.object({ items: z.array(RequestJson) })) }, ...commonErrors },
  }),
  async (c) => c.json({ items: (await listRequestDetails(requestContext(c))).map(requestJson) }, 200),
);

documentRequestsApi.openapi(
  createRoute({
    method: 'get',
    path: '/document-requests/{id}',
    tags: TAGS,
    summary: 'A request with its NDA signature and grants',
    description: 'Needs `documents.read`.',
    security: BEARER,
    request: { params: IdParam },
    responses: { 200: { description: 'The request', content: json(RequestJson) }, ...errors, ...validationErrors },
  }),
  async (c) => c.json(requestJson(await getRequestDetail(requestContext(c), c.req.valid('param').id)), 200),
);

documentRequestsApi.openapi(
  createRoute({
    method: 'post',
    path: '/document-requests/{id}/approve',
    tags: TAGS,
    summary: 'Approve a pending request',
    description:
      'Creates a grant and mails its link to the requester. Only a request waiting for a decision (409 otherwise); nobody ' +
      'decides their own request (403). Needs `documents.approve`. Recorded as `document_request.approved` and `document_grant.created`.',
    middleware: [routeRequires('documents.approve')],
    security: BEARER,
    request: { params: IdParam },
    responses: { 201: { description: 'The grant', content: json(GrantJson) }, ...errors, ...validationErrors },
  }),
  async (c) => c.json(grantJson(await approveRequest(requestContext(c), c.req.valid('param').id)), 201),
);

documentRequestsApi.openapi(
  createRoute({
    method: 'post',
    path: '/document-requests/{id}/deny',
    tags: TAGS,
    summary: 'Deny a pending request with a reason',
    description: 'The requester is told the reason by mail. Needs `documents.approve`. Recorded as `document_request.denied`.',
    middleware: [routeRequires('documents.approve')],
    security: BEARER,
    request: { params: IdParam, body: { required: true, content: json(Denial) } },
    responses: { 204: { description: 'Denied' }, ...errors, ...validationErrors },
  }),
  async (c) => {
    await denyRequest(requestContext(c), c.req.valid('param').id, c.req.valid('json').reason);
    return c.body(null, 204);
  },
);

documentRequestsApi.openapi(
  createRoute({
    method: 'get',
    path: '/document-grants',
    tags: TAGS,
    summary: 'Grants, newest first',
    description: 'Needs `documents.read`.',
    security: BEARER,
    responses: { 200: { description: 'Grants', content: json(z.object({ items: z.array(GrantJson) })) }, ...commonErrors },
  }),
  async (c) => c.json({ items: (await listAllGrants(requestContext(c))).map(grantJson) }, 200),
);

documentRequestsApi.openapi(
  createRoute({
    method: 'post',
    path: '/document-grants/{id}/revoke',
    tags: TAGS,
    summary: 'Revoke a grant at once',
    description: 'Its link stops working immediately. Needs `documents.approve`. Recorded as `document_grant.revoked`.',
    middleware: [routeRequires('documents.approve')],
    security: BEARER,
    request: { params: IdParam },
    responses: { 204: { description: 'Revoked' }, ...errors, ...validationErrors },
  }),
  async (c) => {
    await revokeGrant(requestContext(c), c.req.valid('param').id);
    return c.body(null, 204);
  },
);

documentRequestsApi.openapi(
  createRoute({
    method: 'get',
    path: '/document-nda',
    tags: TAGS,
    summary: 'NDA versions, newest first',
    description: 'Needs `documents.read`.',
    security: BEARER,
    responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(NdaJson) })) }, ...commonErrors },
  }),
  async (c) => c.json({ items: (await ndaVersions(requestContext(c))).map(ndaJson) }, 200),
);

documentRequestsApi.openapi(
  createRoute({
    method: 'put',
    path: '/document-nda',
    tags: TAGS,
    summary: 'Publish a new NDA version',
    description: 'Unchanged text publishes nothing. Needs `documents.manage`. Recorded as `document_nda.published`.',
    middleware: [routeRequires('documents.manage')],
    security: BEARER,
    request: { body: { required: true, content: json(NdaText) } },
    responses: { 200: { description: 'The version in force', content: json(NdaJson) }, ...commonErrors, ...validationErrors },
  }),
  async (c) => c.json(ndaJson(await publishNda(requestContext(c), c.req.valid('json').text)), 200),
);

documentRequestsApi.openapi(
  createRoute({
    method: 'get',
    path: '/document-access-rules',
    tags: TAGS,
    summary: 'Blocked and allowed mail domains',
    description: 'Needs `documents.read`.',
    security: BEARER,
    responses: { 200: { description: 'The lists', content: json(AccessSettingsJson) }, ...commonErrors },
  }),
  async (c) => c.json(await accessSettings(requestContext(c)), 200),
);

documentRequestsApi.openapi(
  createRoute({
    method: 'put',
    path: '/document-access-rules',
    tags: TAGS,
    summary: 'Replace the blocked and allowed mail domains',
    description:
      'A malformed domain refuses the change (422). Needs `documents.manage`. Recorded as `document_access.domains_changed`.',
    middleware: [routeRequires('documents.manage')],
    security: BEARER,
    request: { body: { required: true, content: json(AccessSettingsInput) } },
    responses: { 200: { description: 'The lists', content: json(AccessSettingsJson) }, ...commonErrors, ...validationErrors },
  }),
  async (c) => c.json(await saveAccessSettings(requestContext(c), c.req.valid('json')), 200),
);
