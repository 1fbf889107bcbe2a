import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { actorLabel } from '../../platform/context.ts';
import { Conflict, InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, ProblemSchema, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import {
  CampaignDetailJson,
  CampaignIdParam,
  CampaignJson,
  Decision,
  ItemParams,
  Reassignment,
  ReviewSettingsChange,
  StartCampaign,
} from './schema.ts';
import {
  type Campaign,
  type CampaignDetail,
  campaignEvidence,
  closeCampaign,
  decideItem,
  evidenceCsv,
  getCampaign,
  getReviewSettings,
  type ItemWithGrant,
  listCampaigns,
  myReviewItems,
  reassignItem,
  reviewerOptions,
  startCampaign,
  updateReviewSettings,
} from './service.ts';
import { EvidencePage } from './views/evidence.tsx';
import { CampaignView, MyReviewsView, ReviewsListView } from './views/reviews.tsx';

type FormState = { values?: Record<string, string>; errors?: Record<string, string> };

const BASE = '/admin/access-reviews';

// ─── Pages ──────────────────────────────────────────────────────────────────────────────────────────────────

async function renderList(c: AppContext, form: FormState = {}) {
  const ctx = requestContext(c);
  const campaigns = await listCampaigns(ctx);
  return renderAdmin(
    c,
    'Access reviews',
    <ReviewsListView
      campaigns={campaigns}
      settings={await getReviewSettings(ctx)}
      reviewers={await reviewerOptions(ctx)}
      canManage={can(c.var.actor, 'reviews.manage')}
      csrfToken={csrfTokenOf(c)}
      {...form}
    />,
    form.errors ? 422 : 200,
  );
}

const ReviewerFilter = z.object({ reviewer: z.uuid().optional().catch(undefined) });

async function renderCampaign(c: AppContext, id: string, error?: string) {
  const ctx = requestContext(c);
  const { reviewer } = ReviewerFilter.parse(c.req.query());
  const full = await getCampaign(ctx, id);
  const items = reviewer ? full.items.filter((i) => i.reviewerId === reviewer) : full.items;
  const filterOptions = new Map<string, string>();
  for (const item of full.items)
    if (item.reviewerId && item.reviewerEmail) filterOptions.set(item.reviewerId, item.reviewerEmail);
  const actor = c.var.actor;
  return renderAdmin(
    c,
    full.campaign.name,
    <CampaignView
      campaign={full.campaign}
      items={items}
      ownItemsOnly={full.ownItemsOnly}
      viewerId={actor.kind === 'user' ? actor.id : ''}
      reviewers={await reviewerOptions(ctx)}
      filterOptions={[...filterOptions].map(([rid, email]) => ({ id: rid, email }))}
      filter={reviewer}
      canManage={can(actor, 'reviews.manage')}
      csrfToken={csrfTokenOf(c)}
      error={error}
    />,
    error ? 422 : 200,
  );
}

export const reviewsPages = new Hono<AppEnv>();

reviewsPages.get(BASE, (c) => renderList(c));

reviewsPages.post(BASE, routeRequires('reviews.manage'), async (c) => {
  const form = await readForm(c, StartCampaign);
  if (!form.ok) return renderList(c, form);
  try {
    const campaign = await startCampaign(requestContext(c), form.data);
    return redirectWithFlash(
      c,
      `${BASE}/${campaign.id}`,
      `“${campaign.name}” started with ${campaign.counts.total} grant(s) to review.`,
    );
  } catch (error) {
    if (error instanceof InvalidInput) return renderList(c, { values: form.values, errors: error.fields });
    throw error;
  }
});

reviewsPages.post(`${BASE}/settings`, routeRequires('reviews.manage'), async (c) => {
  const form = await readForm(c, z.object({ scheduleEnabled: z.enum(['on', 'off'], { error: 'choose on or off' }) }));
  if (!form.ok) return renderList(c, form);
  const saved = await updateReviewSettings(requestContext(c), { scheduleEnabled: form.data.scheduleEnabled === 'on' });
  return redirectWithFlash(c, BASE, saved.scheduleEnabled ? 'Quarterly campaigns are on.' : 'Quarterly campaigns are off.');
});

// Registered before `${BASE}/:id`, which would otherwise take "mine" for an id.
reviewsPages.get(`${BASE}/mine`, async (c) =>
  renderAdmin(c, 'My reviews', <MyReviewsView items={await myReviewItems(requestContext(c))} csrfToken={csrfTokenOf(c)} />),
);

reviewsPages.get(`${BASE}/:id`, (c) => renderCampaign(c, CampaignIdParam.parse(c.req.param()).id));

/** Where to go after a decision: back to the page it was taken on, never anywhere else. */
const BackPath = z
  .string()
  .regex(/^\/admin\/access-reviews(\/[0-9a-f-]{36}(\?reviewer=[0-9a-f-]{36})?|\/mine)?$/)
  .optional()
  .catch(undefined);

reviewsPages.post(`${BASE}/:id/items/:itemId/decide`, routeRequires('users.manage'), async (c) => {
  const { id, itemId } = ItemParams.parse(c.req.param());
  const form = await readForm(c, Decision.extend({ back: BackPath }));
  if (!form.ok) return renderCampaign(c, id, Object.values(form.errors)[0] ?? 'choose keep or revoke');
  const back = form.data.back ?? `${BASE}/${id}`;
  try {
    const result = await decideItem(requestContext(c), id, itemId, form.data);
    const said = {
      kept: `${result.email} keeps the role “${result.roleName}”.`,
      revoked: `Role “${result.roleName}” revoked from ${result.email}; it no longer applies from their next request.`,
      already_gone: `${result.email} no longer held the role “${result.roleName}”; the decision is recorded.`,
    }[result.outcome];
    return redirectWithFlash(c, back, result.campaignClosed ? `${said} Every item is decided: the campaign is closed.` : said);
  } catch (error) {
    if (error instanceof Conflict) return redirectWithFlash(c, back, error.message, 'error');
    throw error;
  }
});

reviewsPages.post(`${BASE}/:id/items/:itemId/reassign`, routeRequires('reviews.manage'), async (c) => {
  const { id, itemId } = ItemParams.parse(c.req.param());
  const form = await readForm(c, Reassignment);
  if (!form.ok) return renderCampaign(c, id, form.errors.reviewerId ?? 'choose a reviewer');
  try {
    await reassignItem(requestContext(c), id, itemId, form.data.reviewerId);
    return redirectWithFlash(c, `${BASE}/${id}`, 'Item reassigned.');
  } catch (error) {
    if (error instanceof InvalidInput) return renderCampaign(c, id, Object.values(error.fields)[0] ?? error.message);
    if (error instanceof Conflict) return redirectWithFlash(c, `${BASE}/${id}`, error.message, 'error');
    throw error;
  }
});

reviewsPages.post(`${BASE}/:id/close`, routeRequires('reviews.manage'), async (c) => {
  const { id } = CampaignIdParam.parse(c.req.param());
  const campaign = await closeCampaign(requestContext(c), id);
  const left = campaign.counts.undecided;
  return redirectWithFlash(
    c,
    `${BASE}/${id}`,
    `Campaign closed${left ? ` with ${left} undecided item(s), listed as such` : ''}.`,
  );
});

function csvResponse(c: AppContext, detail: CampaignDetail): Response {
  c.header('content-type', 'text/csv; charset=utf-8');
  c.header('content-disposition', `attachment; filename="access-review-${detail.campaign.id}.csv"`);
  c.header('cache-control', 'no-store');
  // RFC 4180 ends records with CRLF.
  return c.body(`${evidenceCsv(detail).join('\r\n')}\r\n`);
}

reviewsPages.get(`${BASE}/:id/export.csv`, async (c) => {
  const { id } = CampaignIdParam.parse(c.req.param());
  return csvResponse(c, await campaignEvidence(requestContext(c), id, 'csv'));
});

reviewsPages.get(`${BASE}/:id/evidence`, async (c) => {
  const { id } = CampaignIdParam.parse(c.req.param());
  const ctx = requestContext(c);
  const detail = await campaignEvidence(ctx, id, 'print');
  c.header('cache-control', 'no-store');
  return c.html(
    <EvidencePage
      detail={detail}
      tenantName={c.var.tenant.name}
      generatedAt={ctx.clock.now()}
      generatedBy={actorLabel(c.var.actor)}
    />,
  );
});

// ─── API ────────────────────────────────────────────────────────────────────────────────────────────────────

function campaignToApi(campaign: Campaign) {
  return {
    id: campaign.id,
    name: campaign.name,
    period: campaign.period,
    trigger: campaign.trigger as 'schedule' | 'manual',
    startedBy: campaign.startedByLabel,
    startedAt: campaign.startedAt.toISOString(),
    dueAt: campaign.dueAt.toISOString(),
    status: campaign.status as 'open' | 'closed',
    overdue: campaign.overdue,
    closedAt: campaign.closedAt?.toISOString() ?? null,
    closedBy: campaign.closedByLabel,
    counts: campaign.counts,
  };
}

function itemToApi(item: ItemWithGrant) {
  return {
    id: item.id,
    person: { id: item.subjectId, email: item.subjectEmail, name: item.subjectName },
    role: item.role,
    roleName: item.roleName,
    reviewer: item.reviewerId && item.reviewerEmail ? { id: item.reviewerId, email: item.reviewerEmail } : null,
    flag: item.flag,
    decision: item.decision as 'keep' | 'revoke' | null,
    outcome: item.outcome as 'kept' | 'revoked' | 'already_gone' | null,
    decidedBy: item.decidedByLabel,
    decidedAt: item.decidedAt?.toISOString() ?? null,
    note: item.note,
    grantPresent: item.grantPresent,
  };
}

const detailToApi = (detail: CampaignDetail) => ({ ...campaignToApi(detail.campaign), items: detail.items.map(itemToApi) });

const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { 'application/json': { schema } } },
});
const conflict = (description: string) => ({
  409: { description, content: { 'application/problem+json': { schema: ProblemSchema } } },
});

export const reviewsApi = createApi();
const TAGS = ['Access reviews'];

reviewsApi.openapi(
  createRoute({
    method: 'get',
    path: '/access-reviews',
    tags: TAGS,
    summary: 'List access review campaigns',
    description: 'Needs `reviews.read`. Newest first.',
    security: BEARER,
    responses: { 200: json('Campaigns', z.object({ items: z.array(CampaignJson) })), ...commonErrors },
  }),
  async (c) => c.json({ items: (await listCampaigns(requestContext(c))).map(campaignToApi) }, 200),
);

reviewsApi.openapi(
  createRoute({
    method: 'post',
    path: '/access-reviews',
    tags: TAGS,
    summary: 'Start a campaign',
    description:
      'Needs `reviews.manage`. Snapshots every grant of every active person. Without `reviewerId` each person’s grants go ' +
      'to an administrator (users.manage) other than themselves; with it, to that reviewer (except their own grants).',
    middleware: [routeRequires('reviews.manage')],
    security: BEARER,
    request: body(StartCampaign),
    responses: { 201: json('The new campaign', CampaignJson), ...commonErrors, ...validationErrors },
  }),
  async (c) => c.json(campaignToApi(await startCampaign(requestContext(c), c.req.valid('json'))), 201),
);

// Registered before /access-reviews/{id}.
reviewsApi.openapi(
  createRoute({
    method: 'get',
    path: '/access-reviews/settings',
    tags: TAGS,
    summary: 'The review schedule',
    description: 'Needs `reviews.read`.',
    security: BEARER,
    responses: { 200: json('Settings', ReviewSettingsChange), ...commonErrors },
  }),
  async (c) => c.json({ scheduleEnabled: (await getReviewSettings(requestContext(c))).scheduleEnabled }, 200),
);

reviewsApi.openapi(
  createRoute({
    method: 'put',
    path: '/access-reviews/settings',
    tags: TAGS,
    summary: 'Turn the quarterly schedule on or off',
    description: 'Needs `reviews.manage`.',
    middleware: [routeRequires('reviews.manage')],
    security: BEARER,
    request: body(ReviewSettingsChange),
    responses: { 200: json('Settings', ReviewSettingsChange), ...commonErrors, ...validationErrors },
  }),
  async (c) => {
    const saved = await updateReviewSettings(requestContext(c), c.req.valid('json'));
    return c.json({ scheduleEnabled: saved.scheduleEnabled }, 200);
  },
);

reviewsApi.openapi(
  createRoute({
    method: 'get',
    path: '/access-reviews/{id}',
    tags: TAGS,
    summary: 'One campaign with its items',
    description: 'Needs `reviews.read`; a reviewer without it sees the items assigned to them.',
    security: BEARER,
    request: { params: CampaignIdParam },
    responses: { 200: json('The campaign', CampaignDetailJson), ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => c.json(detailToApi(await getCampaign(requestContext(c), c.req.valid('param').id)), 200),
);

reviewsApi.openapi(
  createRoute({
    method: 'post',
    path: '/access-reviews/{id}/items/{itemId}/decision',
    tags: TAGS,
    summary: 'Keep or revoke one grant',
    description:
      'Needs `users.manage`, and the token must belong to the item’s reviewer (created by them). `revoke` takes the role ' +
      'away at once, through the same rules as DELETE /users/{id}/roles/{role}. Final once the campaign is closed.',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: { params: ItemParams, ...body(Decision) },
    responses: {
      200: json(
        'What the decision did',
        z.object({ outcome: z.enum(['kept', 'revoked', 'already_gone']), campaignClosed: z.boolean() }),
      ),
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...conflict('The campaign is closed, or the grant was revoked in this review already'),
    },
  }),
  async (c) => {
    const { id, itemId } = c.req.valid('param');
    const result = await decideItem(requestContext(c), id, itemId, c.req.valid('json'));
    return c.json({ outcome: result.outcome, campaignClosed: result.campaignClosed }, 200);
  },
);

reviewsApi.openapi(
  createRoute({
    method: 'post',
    path: '/access-reviews/{id}/items/{itemId}/reassign',
    tags: TAGS,
    summary: 'Give an undecided item to another reviewer',
    description: 'Needs `reviews.manage`. The reviewer must hold `users.manage` and can never be the person whose grant it is.',
    middleware: [routeRequires('reviews.manage')],
    security: BEARER,
    request: { params: ItemParams, ...body(Reassignment) },
    responses: {
      204: { description: 'Reassigned' },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...conflict('The campaign is closed or the item decided'),
    },
  }),
  async (c) => {
    const { id, itemId } = c.req.valid('param');
    await reassignItem(requestContext(c), id, itemId, c.req.valid('json').reviewerId);
    return c.body(null, 204);
  },
);

reviewsApi.openapi(
  createRoute({
    method: 'post',
    path: '/access-reviews/{id}/close',
    tags: TAGS,
    summary: 'Close a campaign by hand',
    description: 'Needs `reviews.manage`. Undecided items stay undecided and are listed as such in the evidence.',
    middleware: [routeRequires('reviews.manage')],
    security: BEARER,
    request: { params: CampaignIdParam },
    responses: {
      200: json('The closed campaign', CampaignJson),
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...conflict('Closed already'),
    },
  }),
  async (c) => c.json(campaignToApi(await closeCampaign(requestContext(c), c.req.valid('param').id)), 200),
);

reviewsApi.openapi(
  createRoute({
    method: 'get',
    path: '/access-reviews/{id}/export',
    tags: TAGS,
    summary: 'A closed campaign as CSV evidence',
    description:
      'Needs `reviews.read`. Columns: campaign, person, email, role, reviewer, decision, decided_at, note (RFC 4180; cells ' +
      'starting with = + - @ are prefixed with an apostrophe). 409 while the campaign is open.',
    security: BEARER,
    request: { params: CampaignIdParam },
    responses: {
      200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...conflict('The campaign is still open'),
    },
  }),
  async (c) => csvResponse(c, await campaignEvidence(requestContext(c), c.req.valid('param').id, 'csv')),
);
