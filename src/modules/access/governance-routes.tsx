import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, ProblemSchema, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { approveGrantRequest, denyGrantRequest, type GrantRequestInfo, listGrantRequests } from './approvals.ts';
import type { Duty } from './duties.ts';
import {
  DeactivationJson,
  DenyBody,
  DutyJson,
  GrantRequestJson,
  RequestIdParam,
  RequestListQuery,
  RuleIdParam,
  RuleStateBody,
  SodRuleForm,
  SodRuleInput,
  SodRuleJson,
  sodRuleFromForm,
  ViolationJson,
} from './governance-schema.ts';
import { type Deactivation, deactivatePerson, personDuties, reactivatePerson } from './offboarding.ts';
import { UserIdParam } from './schema.ts';
import { can, listRoles, routeRequires } from './service.ts';
import {
  createSodRule,
  deleteSodRule,
  getSodRule,
  listSodRules,
  listViolations,
  type SodRuleInfo,
  setSodRuleEnabled,
  updateSodRule,
} from './sod.ts';
import type { Violation } from './sod-rules.ts';
import { GrantRequestsView, type SodRuleFormValues, SodRuleFormView, SodRulesView, ViolationsView } from './views/governance.tsx';

type FormState = { values?: Record<string, string>; errors?: Record<string, string> };

const RULES = '/admin/separation-of-duties';

// ─── Separation-of-duties pages ───

function formValues(values: Record<string, string> | undefined, rule?: SodRuleInfo): SodRuleFormValues {
  const list = (key: string) => (values?.[key] ?? '').split('\n').filter(Boolean);
  if (values) {
    return {
      name: values.name,
      description: values.description,
      aRoles: list('aRoles'),
      aPermissions: list('aPermissions'),
      bRoles: list('bRoles'),
      bPermissions: list('bPermissions'),
      enabled: values.enabled === 'on',
    };
  }
  return {
    name: rule?.name,
    description: rule?.description,
    aRoles: rule?.a.roles ?? [],
    aPermissions: rule?.a.permissions ?? [],
    bRoles: rule?.b.roles ?? [],
    bPermissions: rule?.b.permissions ?? [],
    enabled: rule?.enabled ?? true,
  };
}

async function renderRuleForm(c: AppContext, rule: SodRuleInfo | undefined, form: FormState = {}) {
  const ctx = requestContext(c);
  return renderAdmin(
    c,
    rule?.name ?? 'Add a rule',
    <SodRuleFormView
      title={rule?.name ?? 'Add a separation-of-duties rule'}
      action={rule ? `${RULES}/${rule.id}` : RULES}
      roles={await listRoles(ctx)}
      values={formValues(form.values, rule)}
      csrfToken={csrfTokenOf(c)}
      errors={form.errors}
      canManage={can(c.var.actor, 'sod.manage')}
      {...(rule ? { rule } : {})}
    />,
    form.errors ? 422 : 200,
  );
}

const RULE_LISTS = { lists: ['aRoles', 'aPermissions', 'bRoles', 'bPermissions'] };

function fieldsOf(error: unknown): Record<string, string> {
  if (error instanceof InvalidInput) return Object.keys(error.fields).length ? error.fields : { _: error.message };
  throw error;
}

export const governancePages = new Hono<AppEnv>();

governancePages.get(RULES, routeRequires('sod.read'), async (c) => {
  const { rules, violations } = await listSodRules(requestContext(c));
  return renderAdmin(
    c,
    'Separation of duties',
    <SodRulesView
      rules={rules}
      violations={violations.length}
      canManage={can(c.var.actor, 'sod.manage')}
      csrfToken={csrfTokenOf(c)}
    />,
  );
});

// Registered before `${RULES}/:id`, which would otherwise take these for ids.
governancePages.get(`${RULES}/new`, routeRequires('sod.manage'), (c) => renderRuleForm(c, undefined));
governancePages.get(`${RULES}/violations`, routeRequires('sod.read'), async (c) =>
  renderAdmin(c, 'Separation-of-duties violations', <ViolationsView violations={await listViolations(requestContext(c))} />),
);

governancePages.post(RULES, routeRequires('sod.manage'), async (c) => {
  const form = await readForm(c, SodRuleForm, RULE_LISTS);
  if (!form.ok) return renderRuleForm(c, undefined, form);
  try {
    const rule = await createSodRule(requestContext(c), sodRuleFromForm(form.data));
    return redirectWithFlash(c, `${RULES}/${rule.id}`, `Rule “${rule.name}” added.`);
  } catch (error) {
    return renderRuleForm(c, undefined, { values: form.values, errors: fieldsOf(error) });
  }
});

governancePages.get(`${RULES}/:id`, routeRequires('sod.read'), async (c) => {
  const { id } = RuleIdParam.parse(c.req.param());
  return renderRuleForm(c, await getSodRule(requestContext(c), id));
});

governancePages.post(`${RULES}/:id`, routeRequires('sod.manage'), async (c) => {
  const { id } = RuleIdParam.parse(c.req.param());
  const rule = await getSodRule(requestContext(c), id);
  const form = await readForm(c, SodRuleForm, RULE_LISTS);
  if (!form.ok) return renderRuleForm(c, rule, form);
  try {
    const saved = await updateSodRule(requestContext(c), id, sodRuleFromForm(form.data));
    return redirectWithFlash(c, `${RULES}/${id}`, `Rule “${saved.name}” saved.`);
  } catch (error) {
    return renderRuleForm(c, rule, { values: form.values, errors: fieldsOf(error) });
  }
});

governancePages.post(`${RULES}/:id/:state{enable|disable}`, routeRequires('sod.manage'), async (c) => {
  const { id } = RuleIdParam.parse(c.req.param());
  const enabled = c.req.param('state') === 'enable';
  const rule = await setSodRuleEnabled(requestContext(c), id, enabled);
  const note = enabled && rule.violations > 0 ? ` ${rule.violations} people break it now: see the violations.` : '';
  return redirectWithFlash(c, RULES, `Rule “${rule.name}” switched ${enabled ? 'on' : 'off'}.${note}`);
});

governancePages.post(`${RULES}/:id/delete`, routeRequires('sod.manage'), async (c) => {
  const { id } = RuleIdParam.parse(c.req.param());
  await deleteSodRule(requestContext(c), id);
  return redirectWithFlash(c, RULES, 'Rule deleted.');
});

// ─── Grant requests ───

async function renderRequests(c: AppContext, error?: string) {
  const { status } = RequestListQuery.parse({ status: c.req.query('status') ?? undefined });
  const requests = await listGrantRequests(requestContext(c), { status });
  return renderAdmin(
    c,
    'Grant requests',
    <GrantRequestsView
      requests={requests}
      canDecide={can(c.var.actor, 'users.manage')}
      showAll={status === 'all'}
      csrfToken={csrfTokenOf(c)}
      error={error}
    />,
    error ? 422 : 200,
  );
}

governancePages.get('/admin/grant-requests', routeRequires('users.read'), (c) => renderRequests(c));

governancePages.post('/admin/grant-requests/:id/approve', routeRequires('users.manage'), async (c) => {
  const { id } = RequestIdParam.parse(c.req.param());
  const request = await approveGrantRequest(requestContext(c), id);
  return redirectWithFlash(c, '/admin/grant-requests', `Approved: ${request.email} now holds “${request.role}”.`);
});

governancePages.post('/admin/grant-requests/:id/deny', routeRequires('users.manage'), async (c) => {
  const { id } = RequestIdParam.parse(c.req.param());
  const form = await readForm(c, DenyBody);
  if (!form.ok) return renderRequests(c, form.errors.reason ?? 'say why the request is denied');
  const request = await denyGrantRequest(requestContext(c), id, form.data);
  return redirectWithFlash(c, '/admin/grant-requests', `Denied: ${request.email} does not get “${request.role}”.`, 'info');
});

// ─── Offboarding ───

governancePages.post('/admin/users/:id/deactivate', routeRequires('users.manage'), async (c) => {
  const { id } = UserIdParam.parse(c.req.param());
  const done = await deactivatePerson(requestContext(c), id);
  const duties = done.duties.length === 1 ? '1 duty needs' : `${done.duties.length} duties need`;
  return redirectWithFlash(
    c,
    `/admin/users/${id}`,
    `${done.email} is deactivated: ${done.sessionsEnded} sessions ended, ${done.tokensRevoked.length} tokens revoked, ` +
      `${done.rolesRemoved.length} roles removed. ${duties} a new owner (listed below).`,
  );
});

governancePages.post('/admin/users/:id/reactivate', routeRequires('users.manage'), async (c) => {
  const { id } = UserIdParam.parse(c.req.param());
  await reactivatePerson(requestContext(c), id);
  return redirectWithFlash(c, `/admin/users/${id}`, 'Reactivated: they can sign in again, with no role until one is granted.');
});

// ─── API ───

export function grantRequestToApi(r: GrantRequestInfo) {
  return {
    id: r.id,
    userId: r.userId,
    email: r.email,
    role: r.role,
    status: r.status,
    requestedBy: r.requestedBy,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt?.toISOString() ?? null,
    reason: r.reason,
  };
}

function ruleToApi(r: SodRuleInfo) {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    builtIn: r.builtIn,
    enabled: r.enabled,
    a: r.a,
    b: r.b,
    violations: r.violations,
  };
}

function violationToApi(v: Violation) {
  return { ruleId: v.rule.id, ruleName: v.rule.name, userId: v.userId, email: v.email, roles: v.roles };
}

function deactivationToApi(d: Deactivation) {
  return { ...d, deactivatedAt: d.deactivatedAt.toISOString(), duties: d.duties.map(dutyToApi) };
}

function dutyToApi(d: Duty) {
  return { capability: d.capability, description: d.description, href: d.href };
}

const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { 'application/json': { schema } } },
});
const problem = (status: 409 | 410, description: string) => ({
  [status]: { description, content: { 'application/problem+json': { schema: ProblemSchema } } },
});

export const governanceApi = createApi();

governanceApi.openapi(
  createRoute({
    method: 'get',
    path: '/sod/rules',
    tags: ['Access'],
    summary: 'Separation-of-duties rules',
    description:
      'The default rules (which can be switched off) and the tenant’s own, each with how many people break it now. Needs `sod.read`.',
    middleware: [routeRequires('sod.read')],
    security: BEARER,
    responses: { 200: json('Rules', z.object({ items: z.array(SodRuleJson), violations: z.number().int() })), ...commonErrors },
  }),
  async (c) => {
    const { rules, violations } = await listSodRules(requestContext(c));
    return c.json({ items: rules.map(ruleToApi), violations: violations.length }, 200);
  },
);

governanceApi.openapi(
  createRoute({
    method: 'post',
    path: '/sod/rules',
    tags: ['Access'],
    summary: 'Add a separation-of-duties rule',
    description: 'Needs `sod.manage`. Each side needs at least one role or permission.',
    middleware: [routeRequires('sod.manage')],
    security: BEARER,
    request: body(SodRuleInput),
    responses: { 201: json('The rule', SodRuleJson), ...commonErrors, ...validationErrors },
  }),
  async (c) => c.json(ruleToApi(await createSodRule(requestContext(c), c.req.valid('json'))), 201),
);

governanceApi.openapi(
  createRoute({
    method: 'get',
    path: '/sod/violations',
    tags: ['Access'],
    summary: 'Who breaks an enabled rule now',
    description: 'Needs `sod.read`.',
    middleware: [routeRequires('sod.read')],
    security: BEARER,
    responses: { 200: json('Violations', z.object({ items: z.array(ViolationJson) })), ...commonErrors },
  }),
  async (c) => c.json({ items: (await listViolations(requestContext(c))).map(violationToApi) }, 200),
);

governanceApi.openapi(
  createRoute({
    method: 'get',
    path: '/sod/rules/{id}',
    tags: ['Access'],
    summary: 'One separation-of-duties rule',
    description: 'Needs `sod.read`.',
    middleware: [routeRequires('sod.read')],
    security: BEARER,
    request: { params: RuleIdParam },
    responses: { 200: json('The rule', SodRuleJson), ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => c.json(ruleToApi(await getSodRule(requestContext(c), c.req.valid('param').id)), 200),
);

governanceApi.openapi(
  createRoute({
    method: 'put',
    path: '/sod/rules/{id}',
    tags: ['Access'],
    summary: 'Change a rule of the tenant’s own',
    description: 'Needs `sod.manage`. Default rules cannot be changed (403): switch them off instead.',
    middleware: [routeRequires('sod.manage')],
    security: BEARER,
    request: { params: RuleIdParam, ...body(SodRuleInput) },
    responses: { 200: json('The rule', SodRuleJson), ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => c.json(ruleToApi(await updateSodRule(requestContext(c), c.req.valid('param').id, c.req.valid('json'))), 200),
);

governanceApi.openapi(
  createRoute({
    method: 'put',
    path: '/sod/rules/{id}/state',
    tags: ['Access'],
    summary: 'Switch a rule on or off',
    description: 'Needs `sod.manage`. Works for default rules too.',
    middleware: [routeRequires('sod.manage')],
    security: BEARER,
    request: { params: RuleIdParam, ...body(RuleStateBody) },
    responses: { 200: json('The rule', SodRuleJson), ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) =>
    c.json(ruleToApi(await setSodRuleEnabled(requestContext(c), c.req.valid('param').id, c.req.valid('json').enabled)), 200),
);

governanceApi.openapi(
  createRoute({
    method: 'delete',
    path: '/sod/rules/{id}',
    tags: ['Access'],
    summary: 'Delete a rule of the tenant’s own',
    description: 'Needs `sod.manage`. Default rules cannot be deleted (403).',
    middleware: [routeRequires('sod.manage')],
    security: BEARER,
    request: { params: RuleIdParam },
    responses: { 204: { description: 'Deleted' }, ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => {
    await deleteSodRule(requestContext(c), c.req.valid('param').id);
    return c.body(null, 204);
  },
);

governanceApi.openapi(
  createRoute({
    method: 'get',
    path: '/grant-requests',
    tags: ['Access'],
    summary: 'Privileged grants waiting for approval',
    description: 'Needs `users.read`. `status=all` includes decided, cancelled and expired requests.',
    middleware: [routeRequires('users.read')],
    security: BEARER,
    request: { query: RequestListQuery },
    responses: {
      200: json('Requests, newest first', z.object({ items: z.array(GrantRequestJson) })),
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const { status } = c.req.valid('query');
    return c.json({ items: (await listGrantRequests(requestContext(c), { status })).map(grantRequestToApi) }, 200);
  },
);

const decisionErrors = {
  ...commonErrors,
  ...validationErrors,
  ...notFoundError,
  ...problem(409, 'Decided already, or the grant would break a separation-of-duties rule'),
  ...problem(410, 'The request expired'),
};

governanceApi.openapi(
  createRoute({
    method: 'post',
    path: '/grant-requests/{id}/approve',
    tags: ['Access'],
    summary: 'Approve a grant request',
    description:
      'Needs `users.manage` and every permission of the role. Refused (403) to whoever asked and to the person ' +
      'the grant is for (a token counts as the person who made it). The grant applies at once.',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: { params: RequestIdParam },
    responses: { 200: json('The decided request', GrantRequestJson), ...decisionErrors },
  }),
  async (c) => c.json(grantRequestToApi(await approveGrantRequest(requestContext(c), c.req.valid('param').id)), 200),
);

governanceApi.openapi(
  createRoute({
    method: 'post',
    path: '/grant-requests/{id}/deny',
    tags: ['Access'],
    summary: 'Deny a grant request, with a reason',
    description: 'Needs `users.manage`; the same people as for approval may deny.',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: { params: RequestIdParam, ...body(DenyBody) },
    responses: { 200: json('The decided request', GrantRequestJson), ...decisionErrors },
  }),
  async (c) =>
    c.json(grantRequestToApi(await denyGrantRequest(requestContext(c), c.req.valid('param').id, c.req.valid('json'))), 200),
);

governanceApi.openapi(
  createRoute({
    method: 'post',
    path: '/users/{id}/deactivate',
    tags: ['Access'],
    summary: 'Deactivate (offboard) a person',
    description:
      'Needs `users.manage` and every permission of the roles they hold; not yourself, not the last owner. In one ' +
      'transaction: no more sign-in, every session ended, every API token they made revoked, every role removed, ' +
      'their grant requests cancelled. Answers with what ended and the duties that need a new owner.',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: { params: UserIdParam },
    responses: {
      200: json('What was ended', DeactivationJson),
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...problem(409, 'Deactivated already, or the last owner'),
    },
  }),
  async (c) => c.json(deactivationToApi(await deactivatePerson(requestContext(c), c.req.valid('param').id)), 200),
);

governanceApi.openapi(
  createRoute({
    method: 'post',
    path: '/users/{id}/reactivate',
    tags: ['Access'],
    summary: 'Reactivate a person',
    description: 'Needs `users.manage`. They may sign in again; no role comes back.',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: { params: UserIdParam },
    responses: {
      204: { description: 'Reactivated' },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...problem(409, 'Not deactivated'),
    },
  }),
  async (c) => {
    await reactivatePerson(requestContext(c), c.req.valid('param').id);
    return c.body(null, 204);
  },
);

governanceApi.openapi(
  createRoute({
    method: 'get',
    path: '/users/{id}/duties',
    tags: ['Access'],
    summary: 'A person’s duties that would need a new owner',
    description: 'Needs `users.read`.',
    middleware: [routeRequires('users.read')],
    security: BEARER,
    request: { params: UserIdParam },
    responses: { 200: json('Duties', z.object({ items: z.array(DutyJson) })), ...commonErrors, ...validationErrors },
  }),
  async (c) => c.json({ items: (await personDuties(requestContext(c), c.req.valid('param').id)).map(dutyToApi) }, 200),
);
