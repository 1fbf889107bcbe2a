import { createRoute } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { BEARER, commonErrors, createApi } from '../../platform/http/api.ts';
import { type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import { KeysOverviewSchema, overviewToApi, RotationResult } from './schema.ts';
import { keysOverview, rotateTenantDataKey } from './service.ts';
import { KeysView } from './views/keys.tsx';

export const keysPages = new Hono<AppEnv>();

keysPages.get('/admin/keys', async (c) => {
  const overview = await keysOverview(requestContext(c));
  return renderAdmin(
    c,
    'Encryption keys',
    <KeysView overview={overview} csrfToken={csrfTokenOf(c)} canRotate={can(c.var.actor, 'keys.manage')} />,
  );
});

keysPages.post('/admin/keys/rotate', routeRequires('keys.manage'), async (c) => {
  const rotation = await rotateTenantDataKey(requestContext(c));
  const pending =
    rotation.stale > 0
      ? ` ${rotation.stale} stored value(s) are being re-encrypted in the background.`
      : ' Nothing needs re-encrypting.';
  return redirectWithFlash(c, '/admin/keys', `New writes now use data key version ${rotation.version}.${pending}`);
});

export const keysApi = createApi();

keysApi.openapi(
  createRoute({
    method: 'get',
    path: '/keys',
    tags: ['Keys'],
    summary: 'Encryption key status',
    description:
      'The master key’s id and source (never the key), this tenant’s data and index key versions, and for each encrypted column or store how many values are not yet under the active version. Needs `keys.read`.',
    security: BEARER,
    responses: {
      200: { description: 'Key status', content: { 'application/json': { schema: KeysOverviewSchema } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json(overviewToApi(await keysOverview(requestContext(c))), 200),
);

keysApi.openapi(
  createRoute({
    method: 'post',
    path: '/keys/rotate',
    tags: ['Keys'],
    summary: 'Rotate this tenant’s data key',
    description:
      'New writes use a new data-key version at once; older values keep decrypting and are re-encrypted in the background (follow with GET /keys). Recorded as `keys.rotated`. Needs `keys.manage`.',
    middleware: [routeRequires('keys.manage')],
    security: BEARER,
    responses: {
      202: { description: 'Rotated; re-encryption queued', content: { 'application/json': { schema: RotationResult } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json(await rotateTenantDataKey(requestContext(c)), 202),
);
