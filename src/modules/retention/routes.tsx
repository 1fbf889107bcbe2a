import { createRoute } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import {
  CategoryParam,
  PurgeRequestedJson,
  RuleBody,
  RuleForm,
  RuleJson,
  RuleListJson,
  RunListJson,
  type RunOutcome,
  RunsQuery,
} from './schema.ts';
import {
  getRetentionRule,
  listRetentionRules,
  listRetentionRuns,
  type RuleView,
  type RunRow,
  requestPurge,
  updateRetentionRule,
} from './service.ts';
import { RetentionPage, RuleEditPage } from './views/retention.tsx';

/** Back-office pages (mounted at the root; paths start with /admin). */
export const retentionPages = new Hono<AppEnv>();

const canManage = (c: AppContext) => can(c.var.actor, 'retention.manage');

async function renderRuleForm(
  c: AppContext,
  slug: string,
  form: { values?: Record<string, string>; errors?: Record<string, string> } = {},
) {
  const rule = await getRetentionRule(requestContext(c), slug);
  return renderAdmin(
    c,
    `Retention: ${rule.category.title}`,
    <RuleEditPage rule={rule} csrfToken={csrfTokenOf(c)} {...form} />,
    form.errors ? 422 : 200,
  );
}

retentionPages.get('/admin/retention', async (c) => {
  const { page } = RunsQuery.parse(c.req.query());
  const ctx = requestContext(c);
  const rules = await listRetentionRules(ctx);
  const runs = await listRetentionRuns(ctx, { page });
  return renderAdmin(
    c,
    'Retention',
    <RetentionPage rules={rules} runs={runs} canManage={canManage(c)} csrfToken={csrfTokenOf(c)} />,
  );
});

retentionPages.post('/admin/retention/runs', routeRequires('retention.manage'), async (c) => {
  const { queued } = await requestPurge(requestContext(c));
  return redirectWithFlash(
    c,
    '/admin/retention',
    queued ? 'Purge queued. It runs in the background; its deletion records appear below.' : 'A purge is already waiting to run.',
    queued ? 'success' : 'info',
  );
});

// The edit form: a page only those who may change the rule can open.
retentionPages.get('/admin/retention/rules/:category', routeRequires('retention.manage'), async (c) => {
  const { category } = CategoryParam.parse(c.req.param());
  return renderRuleForm(c, category);
});

retentionPages.post('/admin/retention/rules/:category', routeRequires('retention.manage'), async (c) => {
  const { category } = CategoryParam.parse(c.req.param());
  const form = await readForm(c, RuleForm);
  if (!form.ok) return renderRuleForm(c, category, { values: form.values, errors: form.errors });
  try {
    const rule = await updateRetentionRule(requestContext(c), category, form.data);
    return redirectWithFlash(c, '/admin/retention', `Retention rule for ${rule.category.title.toLowerCase()} saved.`);
  } catch (error) {
    // A period under the minimum: explained beside the field, with what was typed.
    if (!(error instanceof InvalidInput)) throw error;
    return renderRuleForm(c, category, { values: form.values, errors: error.fields });
  }
});

function runToApi(r: RunRow) {
  return {
    id: r.id,
    category: r.category,
    periodDays: r.periodDays,
    cutoff: r.cutoff.toISOString(),
    deleted: r.deleted,
    batches: r.batches,
    outcome: r.outcome as RunOutcome,
    error: r.error,
    requestedBy: r.requestedBy,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

function ruleToApi(r: RuleView) {
  return {
    category: r.category.slug,
    title: r.category.title,
    description: r.category.description,
    periodDays: r.periodDays,
    defaultDays: r.category.defaultDays,
    isDefault: r.isDefault,
    minimumDays: r.category.minimum.days,
    minimumReason: r.category.minimum.reason,
    held: r.held,
    holdReason: r.holdReason,
    updatedAt: r.updatedAt?.toISOString() ?? null,
    updatedBy: r.updatedBy,
    lastRun: r.lastRun ? runToApi(r.lastRun) : null,
  };
}

/** JSON API routes (mounted under /api/v1). */
export const retentionApi = createApi();

retentionApi.openapi(
  createRoute({
    method: 'get',
    path: '/retention/rules',
    tags: ['Retention'],
    summary: 'Retention rules per data category',
    description:
      'Every category with the period in force (the tenant’s own or the default), its minimum and why, any legal hold, and its latest run. Needs `retention.read`.',
    security: BEARER,
    responses: {
      200: { description: 'The rules', content: { 'application/json': { schema: RuleListJson } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json({ items: (await listRetentionRules(requestContext(c))).map(ruleToApi) }, 200),
);

retentionApi.openapi(
  createRoute({
    method: 'put',
    path: '/retention/rules/{category}',
    tags: ['Retention'],
    summary: 'Set the retention rule of a category',
    description:
      'Needs `retention.manage`. A period under the category’s minimum is refused (422, naming the minimum and why) and nothing changes. `held: true` is a legal hold: nothing in the category is purged until it is lifted; it needs a `holdReason`. Recorded as `retention.rule_updated`.',
    middleware: [routeRequires('retention.manage')],
    security: BEARER,
    request: {
      params: CategoryParam,
      body: { required: true, content: { 'application/json': { schema: RuleBody } } },
    },
    responses: {
      200: { description: 'The rule now in force', content: { 'application/json': { schema: RuleJson } } },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const { category } = c.req.valid('param');
    return c.json(ruleToApi(await updateRetentionRule(requestContext(c), category, c.req.valid('json'))), 200);
  },
);

retentionApi.openapi(
  createRoute({
    method: 'get',
    path: '/retention/runs',
    tags: ['Retention'],
    summary: 'Deletion records',
    description:
      'One record per purge run and category, newest first: the rule, the cutoff, how many rows were deleted and the outcome, never what the rows held. Needs `retention.read`.',
    security: BEARER,
    request: { query: RunsQuery },
    responses: {
      200: { description: 'A page of deletion records', content: { 'application/json': { schema: RunListJson } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const result = await listRetentionRuns(requestContext(c), c.req.valid('query'));
    return c.json({ items: result.runs.map(runToApi), page: result.page, pageSize: result.size, total: result.total }, 200);
  },
);

retentionApi.openapi(
  createRoute({
    method: 'post',
    path: '/retention/runs',
    tags: ['Retention'],
    summary: 'Run the purge now',
    description:
      'Needs `retention.manage`. Queues a purge of this tenant besides the daily one (03:15 UTC) and answers at once; its deletion records appear under GET /retention/runs. While one waits, asking again queues nothing (`queued: false`).',
    middleware: [routeRequires('retention.manage')],
    security: BEARER,
    responses: {
      202: { description: 'Queued', content: { 'application/json': { schema: PurgeRequestedJson } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json(await requestPurge(requestContext(c)), 202),
);
