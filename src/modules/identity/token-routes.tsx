import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { auditScope } from '../../platform/audit/audit.ts';
import { InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import {
  can,
  listRoles,
  mayHandOut,
  PermissionList,
  PermissionSlug,
  type RoleInfo,
  RoleRef,
  routeRequires,
} from '../access/service.ts';
import { type ApiTokenInfo, Duration } from './schema.ts';
import { createApiToken, listApiTokens, revokeApiToken } from './service.ts';
import { ApiTokensView, type TokensViewProps } from './views/tokens.tsx';

/** An empty field means "not given". */
const optionalText = z
  .string()
  .optional()
  .transform((v) => v?.trim() || undefined);

const TokenForm = z.object({
  name: z.string().trim().min(1, 'name the token').max(80),
  permissions: PermissionList,
  role: optionalText.pipe(RoleRef.optional()),
  // An empty field means "never expires".
  expires: optionalText.pipe(Duration.optional()),
  // Ranges separated by commas, spaces or lines; empty means from anywhere.
  allowedIps: z.string().max(4000).optional(),
});

/** The form's address ranges as a list (the service checks each one). */
function rangesFromText(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).filter(Boolean);
}

/** The roles offered as a shortcut: those whose every permission the person could give a token. */
async function shortcutRoles(c: AppContext): Promise<RoleInfo[]> {
  if (!can(c.var.actor, 'roles.read')) return [];
  return (await listRoles(requestContext(c))).filter((r) => r.permissions.length > 0 && mayHandOut(c.var.actor, r));
}

async function renderTokens(c: AppContext, extra: Partial<TokensViewProps> = {}, status: 200 | 422 = 200) {
  const tokens = await listApiTokens(requestContext(c));
  const manage = can(c.var.actor, 'tokens.manage');
  return renderAdmin(
    c,
    'API tokens',
    <ApiTokensView
      tokens={tokens}
      csrfToken={csrfTokenOf(c)}
      now={c.var.runtime.clock.now()}
      actor={c.var.actor}
      canManage={manage}
      roles={manage ? await shortcutRoles(c) : []}
      {...extra}
    />,
    status,
  );
}

export const apiTokenPages = new Hono<AppEnv>();

apiTokenPages.get('/admin/api-tokens', (c) => renderTokens(c));

apiTokenPages.post('/admin/api-tokens', routeRequires('tokens.manage'), async (c) => {
  const form = await readForm(c, TokenForm, { lists: ['permissions'] });
  if (!form.ok) return renderTokens(c, { values: form.values, errors: form.errors }, 422);
  try {
    const { token, info } = await createApiToken(c.var.runtime, auditScope(requestContext(c)), {
      name: form.data.name,
      permissions: form.data.permissions,
      role: form.data.role,
      expiresInMs: form.data.expires,
      allowedIps: rangesFromText(form.data.allowedIps),
    });
    // Shown in this response only, never put in a redirect or a cookie.
    return renderTokens(c, { created: { token, name: info.name } });
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    // The form has one field for every range: per-entry keys (`allowedIps.2`) are for API clients.
    const errors = Object.fromEntries(Object.entries(error.fields).filter(([key]) => !key.startsWith('allowedIps.')));
    return renderTokens(c, { values: form.values, errors }, 422);
  }
});

apiTokenPages.post('/admin/api-tokens/:id/revoke', routeRequires('tokens.manage'), async (c) => {
  const { id } = z.object({ id: z.uuid() }).parse(c.req.param());
  await revokeApiToken(c.var.runtime, auditScope(requestContext(c)), id);
  return redirectWithFlash(c, '/admin/api-tokens', 'Token revoked. Requests using it are refused from now on.');
});

const ApiToken = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    permissions: z.array(PermissionSlug),
    expiresAt: z.iso.datetime().nullable(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    allowedIps: z
      .array(z.string())
      .nullable()
      .openapi({ description: 'CIDR ranges the token may be used from; null means anywhere' }),
  })
  .openapi('ApiToken');

const CreatedApiToken = ApiToken.extend({
  token: z.string().openapi({ description: 'The secret, shown only in this response' }),
}).openapi('CreatedApiToken');

const NewTokenBody = z
  .object({
    name: z.string().trim().min(1).max(80),
    permissions: PermissionList.optional().openapi({ description: 'The permissions the token acts with' }),
    role: RoleRef.optional().openapi({ description: 'A shortcut: every permission of this role' }),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
    allowedIps: z
      .array(z.string().max(64))
      .max(50)
      .optional()
      .openapi({
        description:
          'IPv4/IPv6 addresses or CIDR ranges the token may be used from (a bare address is a /32 or /128); from anywhere else it is refused with 403. Omitted or empty: anywhere.',
        example: ['203.0.113.0/24', '2001:db8::/32'],
      }),
  })
  .openapi('NewApiToken');

function toApi(t: ApiTokenInfo) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    permissions: t.permissions,
    expiresAt: t.expiresAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
    createdAt: t.createdAt.toISOString(),
    allowedIps: t.allowedIps,
  };
}

export const apiTokensApi = createApi();

apiTokensApi.openapi(
  createRoute({
    method: 'get',
    path: '/api-tokens',
    tags: ['Identity'],
    summary: 'List API tokens',
    description: 'Needs `tokens.read`.',
    security: BEARER,
    responses: {
      200: {
        description: 'Tokens (never their secrets)',
        content: { 'application/json': { schema: z.object({ items: z.array(ApiToken) }) } },
      },
      ...commonErrors,
    },
  }),
  async (c) => c.json({ items: (await listApiTokens(requestContext(c))).map(toApi) }, 200),
);

apiTokensApi.openapi(
  createRoute({
    method: 'post',
    path: '/api-tokens',
    tags: ['Identity'],
    summary: 'Create an API token',
    description:
      'Needs `tokens.manage`. The token acts with exactly the permissions given (and those of `role`, if named); ' +
      'each must be held by the caller, so a token never has more than its creator.',
    middleware: [routeRequires('tokens.manage')],
    security: BEARER,
    request: { body: { required: true, content: { 'application/json': { schema: NewTokenBody } } } },
    responses: {
      201: { description: 'The new token, with its secret', content: { 'application/json': { schema: CreatedApiToken } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const { token, info } = await createApiToken(c.var.runtime, auditScope(requestContext(c)), {
      name: body.name,
      permissions: body.permissions ?? [],
      role: body.role,
      expiresInMs: body.expiresInDays ? body.expiresInDays * 86_400_000 : undefined,
      allowedIps: body.allowedIps,
    });
    return c.json({ ...toApi(info), token }, 201);
  },
);

apiTokensApi.openapi(
  createRoute({
    method: 'delete',
    path: '/api-tokens/{id}',
    tags: ['Identity'],
    summary: 'Revoke an API token',
    description: 'Needs `tokens.manage`.',
    middleware: [routeRequires('tokens.manage')],
    security: BEARER,
    request: { params: z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) }) },
    responses: { 204: { description: 'Revoked' }, ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => {
    await revokeApiToken(c.var.runtime, auditScope(requestContext(c)), c.req.valid('param').id);
    return c.body(null, 204);
  },
);
