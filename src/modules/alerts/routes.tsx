import { createRoute } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { BEARER, commonErrors, createApi, notFoundError, ProblemSchema, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import {
  AlertDetailJson,
  AlertIdParam,
  AlertJson,
  AlertListJson,
  AlertListQuery,
  AlertSettingsForm,
  CloseAlertBody,
  CloseAlertForm,
  type RuleId,
} from './schema.ts';
import {
  type AlertEventRow,
  type AlertRow,
  acknowledgeAlert,
  closeAlert,
  getAlert,
  getAlertSettings,
  listAlerts,
  updateAlertSettings,
} from './service.ts';
import { AlertDetailView, AlertSettingsPage, AlertsListView } from './views/alerts.tsx';

/** Back-office pages (mounted at the root; paths start with /admin). */
export const alertsPages = new Hono<AppEnv>();

const canManage = (c: AppContext) => can(c.var.actor, 'alerts.manage');

async function renderDetail(
  c: AppContext,
  id: string,
  form: { values?: Record<string, string>; errors?: Record<string, string> } = {},
) {
  const detail = await getAlert(requestContext(c), id);
  return renderAdmin(
    c,
    detail.alert.title,
    <AlertDetailView detail={detail} csrfToken={csrfTokenOf(c)} canManage={canManage(c)} {...form} />,
    form.errors ? 422 : 200,
  );
}

async function renderSettings(c: AppContext, form: { values?: Record<string, string>; errors?: Record<string, string> } = {}) {
  const view = await getAlertSettings(requestContext(c));
  return renderAdmin(
    c,
    'Alert settings',
    <AlertSettingsPage view={view} csrfToken={csrfTokenOf(c)} canManage={canManage(c)} {...form} />,
    form.errors ? 422 : 200,
  );
}

alertsPages.get('/admin/alerts', async (c) => {
  const { status, page } = AlertListQuery.parse(c.req.query());
  const result = await listAlerts(requestContext(c), status, page);
  return renderAdmin(c, 'Alerts', <AlertsListView page={result} />);
});

// Registered before /admin/alerts/:id, which would otherwise take "settings" for an id.
alertsPages.get('/admin/alerts/settings', (c) => renderSettings(c));

alertsPages.post('/admin/alerts/settings', routeRequires('alerts.manage'), async (c) => {
  const form = await readForm(c, AlertSettingsForm);
  if (!form.ok) return renderSettings(c, { values: form.values, errors: form.errors });
  await updateAlertSettings(requestContext(c), form.data);
  return redirectWithFlash(c, '/admin/alerts/settings', 'Alert settings saved.');
});

alertsPages.get('/admin/alerts/:id', async (c) => {
  const { id } = AlertIdParam.parse(c.req.param());
  return renderDetail(c, id);
});

alertsPages.post('/admin/alerts/:id/acknowledge', routeRequires('alerts.manage'), async (c) => {
  const { id } = AlertIdParam.parse(c.req.param());
  await acknowledgeAlert(requestContext(c), id);
  return redirectWithFlash(c, `/admin/alerts/${id}`, 'Alert acknowledged.');
});

alertsPages.post('/admin/alerts/:id/close', routeRequires('alerts.manage'), async (c) => {
  const { id } = AlertIdParam.parse(c.req.param());
  const form = await readForm(c, CloseAlertForm);
  if (!form.ok) return renderDetail(c, id, { values: form.values, errors: form.errors });
  await closeAlert(requestContext(c), id, form.data);
  return redirectWithFlash(c, `/admin/alerts/${id}`, 'Alert closed.');
});

function toApi(a: AlertRow) {
  return {
    id: a.id,
    rule: a.rule as RuleId,
    key: a.key,
    status: a.status as 'open' | 'acknowledged' | 'closed',
    severity: a.severity as 'low' | 'medium' | 'high',
    title: a.title,
    eventSeqs: a.eventSeqs,
    eventCount: a.eventCount,
    openedAt: a.openedAt.toISOString(),
    lastEventAt: a.lastEventAt.toISOString(),
    acknowledgedBy: a.acknowledgedBy,
    acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
    closedBy: a.closedBy,
    closedAt: a.closedAt?.toISOString() ?? null,
    closeNote: a.closeNote,
  };
}

function eventToApi(e: AlertEventRow) {
  return {
    seq: e.seq,
    time: e.occurredAt.toISOString(),
    action: e.action,
    actor: { type: e.actorType, id: e.actorId, label: e.actorLabel },
    outcome: e.outcome,
    ip: e.ip,
    target: e.targetType ? { type: e.targetType, id: e.targetId } : null,
    details: e.details,
  };
}

const conflictError = {
  409: { description: 'The alert is closed', content: { 'application/problem+json': { schema: ProblemSchema } } },
} as const;

/** JSON API routes (mounted under /api/v1). */
export const alertsApi = createApi();

alertsApi.openapi(
  createRoute({
    method: 'get',
    path: '/alerts',
    tags: ['Alerts'],
    summary: 'List security alerts',
    description: 'Newest first. Needs `alerts.read`.',
    security: BEARER,
    request: { query: AlertListQuery },
    responses: {
      200: { description: 'A page of alerts', content: { 'application/json': { schema: AlertListJson } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const { status, page } = c.req.valid('query');
    const result = await listAlerts(requestContext(c), status, page);
    return c.json({ items: result.alerts.map(toApi), page: result.page, pageSize: result.size, total: result.total }, 200);
  },
);

alertsApi.openapi(
  createRoute({
    method: 'get',
    path: '/alerts/{id}',
    tags: ['Alerts'],
    summary: 'One alert with the audit events that caused it',
    description: 'Reading an alert is recorded in the audit trail (`alert.viewed`).',
    security: BEARER,
    request: { params: AlertIdParam },
    responses: {
      200: { description: 'The alert', content: { 'application/json': { schema: AlertDetailJson } } },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const { alert, events } = await getAlert(requestContext(c), c.req.valid('param').id);
    return c.json({ ...toApi(alert), events: events.map(eventToApi) }, 200);
  },
);

alertsApi.openapi(
  createRoute({
    method: 'post',
    path: '/alerts/{id}/acknowledge',
    tags: ['Alerts'],
    summary: 'Acknowledge an alert',
    description: 'Needs `alerts.manage`. Acknowledging an acknowledged alert changes nothing; a closed one is a 409.',
    middleware: [routeRequires('alerts.manage')],
    security: BEARER,
    request: { params: AlertIdParam },
    responses: {
      200: { description: 'The acknowledged alert', content: { 'application/json': { schema: AlertJson } } },
      ...conflictError,
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json(toApi(await acknowledgeAlert(requestContext(c), c.req.valid('param').id)), 200),
);

alertsApi.openapi(
  createRoute({
    method: 'post',
    path: '/alerts/{id}/close',
    tags: ['Alerts'],
    summary: 'Close an alert with a note',
    description: 'Needs `alerts.manage`. The note is required; closing a closed alert is a 409.',
    middleware: [routeRequires('alerts.manage')],
    security: BEARER,
    request: {
      params: AlertIdParam,
      body: { required: true, content: { 'application/json': { schema: CloseAlertBody } } },
    },
    responses: {
      200: { description: 'The closed alert', content: { 'application/json': { schema: AlertJson } } },
      ...conflictError,
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    return c.json(toApi(await closeAlert(requestContext(c), id, c.req.valid('json'))), 200);
  },
);
