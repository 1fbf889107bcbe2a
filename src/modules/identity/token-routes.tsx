import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { auditScope } from '../../platform/audit/audit.ts';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { type ApiTokenInfo, Duration, Role } from './schema.ts';
import { createApiToken, listApiTokens, requireOwner, revokeApiToken } from './service.ts';
import { ApiTokensView } from './views/tokens.tsx';

const TokenForm = z.object({
  name: z.string().trim().min(1, 'name the token').max(80),
  role: Role,
  // An empty field means "never expires".
  expires: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined)
    .pipe(Duration.optional()),
});

async function renderTokens(c: AppContext, extra: Partial<Parameters<typeof ApiTokensView>[0]> = {}, status: 200 | 422 = 200) {
  const tokens = await listApiTokens(c.var.runtime.db, c.var.tenant.id);
  return renderAdmin(
    c,
    'API tokens',
    <ApiTokensView tokens={tokens} csrfToken={csrfTokenOf(c)} now={c.var.runtime.clock.now()} {...extra} />,
    status,
  );
}

export const apiTokenPages = new Hono<AppEnv>();

apiTokenPages.get('/admin/api-tokens', (c) => renderTokens(c));

apiTokenPages.post('/admin/api-tokens', async (c) => {
  requireOwner(c.var.actor);
  const form = await readForm(c, TokenForm);
  if (!form.ok) return renderTokens(c, { values: form.values, errors: form.errors }, 422);
  const { token, info } = await createApiToken(c.var.runtime, auditScope(requestContext(c)), {
    name: form.data.name,
    role: form.data.role,
    expiresInMs: form.data.expires,
  });
  // Shown in this response only, never put in a redirect or a cookie.
  return renderTokens(c, { created: { token, name: info.name } });
});

apiTokenPages.post('/admin/api-tokens/:id/revoke', async (c) => {
  requireOwner(c.var.actor);
  const { id } = z.object({ id: z.uuid() }).parse(c.req.param());
  await revokeApiToken(c.var.runtime, auditScope(requestContext(c)), id);
  return redirectWithFlash(c, '/admin/api-tokens', 'Token revoked. Requests using it are refused from now on.');
});

const ApiToken = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    role: z.string(),
    expiresAt: z.iso.datetime().nullable(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi('ApiToken');

const CreatedApiToken = ApiToken.extend({
  token: z.string().openapi({ description: 'The secret, shown only in this response' }),
}).openapi('CreatedApiToken');

const NewTokenBody = z
  .object({
    name: z.string().trim().min(1).max(80),
    role: Role,
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .openapi('NewApiToken');

function toApi(t: ApiTokenInfo) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    role: t.role,
    expiresAt: t.expiresAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
    createdAt: t.createdAt.toISOString(),
  };
}

export const apiTokensApi = createApi();

apiTokensApi.openapi(
  createRoute({
    method: 'get',
    path: '/api-tokens',
    tags: ['Identity'],
    summary: 'List API tokens',
    security: BEARER,
    responses: {
      200: {
        description: 'Tokens (never their secrets)',
        content: { 'application/json': { schema: z.object({ items: z.array(ApiToken) }) } },
      },
      ...commonErrors,
    },
  }),
  async (c) => c.json({ items: (await listApiTokens(c.var.runtime.db, c.var.tenant.id)).map(toApi) }, 200),
);

apiTokensApi.openapi(
  createRoute({
    method: 'post',
    path: '/api-tokens',
    tags: ['Identity'],
    summary: 'Create an API token',
    security: BEARER,
    request: { body: { required: true, content: { 'application/json': { schema: NewTokenBody } } } },
    responses: {
      201: { description: 'The new token, with its secret', content: { 'application/json': { schema: CreatedApiToken } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    requireOwner(c.var.actor);
    const body = c.req.valid('json');
    const { token, info } = await createApiToken(c.var.runtime, auditScope(requestContext(c)), {
      name: body.name,
      role: body.role,
      expiresInMs: body.expiresInDays ? body.expiresInDays * 86_400_000 : undefined,
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
    security: BEARER,
    request: { params: z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) }) },
    responses: { 204: { description: 'Revoked' }, ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => {
    requireOwner(c.var.actor);
    await revokeApiToken(c.var.runtime, auditScope(requestContext(c)), c.req.valid('param').id);
    return c.body(null, 204);
  },
);
