import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { alertsApi, alertsPages } from './modules/alerts/routes.tsx';
import { auditApi, auditPages, auditPublicPages } from './modules/audit/routes.tsx';
import { dashboardPages } from './modules/dashboard/routes.tsx';
import { identityApi, identityPages, loadSession, requireApiToken, requireSignedIn } from './modules/identity/routes.tsx';
import { apiTokenPages, apiTokensApi } from './modules/identity/token-routes.tsx';
import { outboxApi, outboxPages } from './modules/outbox/routes.tsx';
import { siemApi, siemPages } from './modules/siem/routes.tsx';
import { resolveTenantForHost } from './modules/tenants/service.ts';
import { trustCenterPages } from './modules/trust-center/routes.tsx';
import type { Runtime } from './platform/context.ts';
import { migrationsApplied } from './platform/db/migrate.ts';
import { createApi } from './platform/http/api.ts';
import { requireFormToken } from './platform/http/csrf.ts';
import type { AppEnv } from './platform/http/env.ts';
import { handleError, handleNotFound, isApiPath, renderProblem } from './platform/http/errors.tsx';
import { allowedMethods } from './platform/http/methods.ts';
import { problemPages } from './platform/http/problem-pages.tsx';
import { requestLog } from './platform/http/request-log.ts';
import { rejectCrossSiteWrites, securityHeaders } from './platform/http/security.ts';
import { assetRoutes } from './platform/ui/assets.ts';
import type { AdminNavSection } from './platform/ui/layout.tsx';

export const VERSION = '0.1.0';

/** Bodies larger than this are refused before they are read; upload routes set their own limits. */
const BODY_LIMIT_BYTES = 1024 * 1024;

const ADMIN_NAV: AdminNavSection[] = [
  { label: 'Overview', items: [{ href: '/admin', label: 'Dashboard' }] },
  {
    label: 'Security',
    items: [
      { href: '/admin/audit', label: 'Audit trail' },
      { href: '/admin/alerts', label: 'Alerts' },
      { href: '/admin/siem', label: 'SIEM forwarding' },
    ],
  },
  {
    label: 'Operations',
    items: [
      { href: '/admin/outbox', label: 'Outbox' },
      { href: '/admin/api-tokens', label: 'API tokens' },
    ],
  },
];

function remoteAddress(env: unknown): string {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? '127.0.0.1';
}

/** The JSON API: every route needs a Bearer token except the OpenAPI document itself. */
function createApiApp() {
  const api = createApi();
  api.use('*', async (c, next) => {
    if (c.req.path === '/api/v1/openapi.json') return next();
    return requireApiToken()(c, next);
  });
  api.route('/', identityApi);
  api.route('/', apiTokensApi);
  api.route('/', outboxApi);
  api.route('/', auditApi);
  api.route('/', alertsApi);
  api.route('/', siemApi);
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token from `candor token create` or the back office, as `Authorization: Bearer <token>`.',
  });
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Candor API',
      version: VERSION,
      description: 'Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `type`.',
    },
    servers: [{ url: '/api/v1' }],
  });
  return api;
}

/** Assembles the whole HTTP surface: public site, back office, JSON API and probes. */
export function createApp(runtime: Runtime): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    c.set('runtime', runtime);
    c.set('ip', remoteAddress(c.env));
    c.set('actor', { kind: 'anonymous' });
    c.set('session', undefined);
    c.set('adminNav', ADMIN_NAV);
    await next();
  });
  app.use('*', requestLog());
  app.use('*', securityHeaders());

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      const ready = await migrationsApplied(runtime.db);
      return c.json({ status: ready ? 'ready' : 'migrations pending' }, ready ? 200 : 503);
    } catch {
      return c.json({ status: 'database unreachable' }, 503);
    }
  });
  app.route('/', assetRoutes());
  app.route('/', problemPages());

  app.use(
    '*',
    bodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: () => {
        throw new HTTPException(413, { message: `the body is larger than ${BODY_LIMIT_BYTES / 1024} KiB` });
      },
    }),
  );
  app.use('*', rejectCrossSiteWrites());
  app.use('*', async (c, next) => {
    // The URL's host is the Host header as the server received it (and what app.request() sets in tests).
    const tenant = await resolveTenantForHost(runtime.db, new URL(c.req.url).host);
    if (!tenant) {
      return renderProblem(c, {
        type: 'not-found',
        title: 'Unknown site',
        status: 404,
        detail: 'no Trust Center is configured for this host name',
      });
    }
    c.set('tenant', { id: tenant.id, slug: tenant.slug, name: tenant.name });
    await next();
  });

  app.route('/', auditPublicPages);
  app.use('/admin/*', loadSession(), requireFormToken());
  app.use('/admin', loadSession());
  app.route('/', identityPages);
  app.use('/admin', requireSignedIn());
  app.use('/admin/*', requireSignedIn());
  app.route('/', dashboardPages);
  app.route('/', outboxPages);
  app.route('/', apiTokenPages);
  app.route('/', auditPages);
  app.route('/', alertsPages);
  app.route('/', siemPages);
  app.route('/', trustCenterPages);

  const api = createApiApp();
  app.route('/api/v1', api);

  app.notFound((c) => {
    if (isApiPath(c.req.path)) {
      const allow = allowedMethods(app.routes, c.req.path);
      if (allow.length > 0) {
        return renderProblem(
          c,
          {
            type: 'method-not-allowed',
            title: 'Method not allowed',
            status: 405,
            detail: `${c.req.method} is not supported here`,
          },
          { allow: allow.join(', ') },
        );
      }
    }
    return handleNotFound(c);
  });
  app.onError(handleError);
  return app;
}
