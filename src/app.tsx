import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { governanceApi, governancePages } from './modules/access/governance-routes.tsx';
import { accessApi, accessPages } from './modules/access/routes.tsx';
import { alertsApi, alertsPages } from './modules/alerts/routes.tsx';
import { auditApi, auditPages, auditPublicPages } from './modules/audit/routes.tsx';
import { backupsApi, backupsPages } from './modules/backups/routes.tsx';
import { contactApi, contactPages } from './modules/contact/routes.tsx';
import { customerPages, customersApi } from './modules/customers/routes.tsx';
import { dashboardPages } from './modules/dashboard/routes.tsx';
import { documentInsightApi, documentInsightPages, isTraceUpload } from './modules/document-requests/insight-routes.tsx';
import { documentRequestPages, documentRequestsApi } from './modules/document-requests/routes.tsx';
import { documentsApi, documentsPages, isDocumentUpload, uploadBodyLimit } from './modules/documents/routes.tsx';
import { accountPages } from './modules/identity/account-routes.tsx';
import { invitationPages } from './modules/identity/invitation-routes.tsx';
import { identityApi, identityPages, loadSession, requireApiToken, requireSignedIn } from './modules/identity/routes.tsx';
import { apiTokenPages, apiTokensApi } from './modules/identity/token-routes.tsx';
import { keysApi, keysPages } from './modules/keys/routes.tsx';
import { mfaApi, mfaPages, mfaSignInPages, requireSecondFactor } from './modules/mfa/routes.tsx';
import { enforceIpAllowlists, networkApi, networkPages } from './modules/network/routes.tsx';
import { outboxApi, outboxPages } from './modules/outbox/routes.tsx';
import { retentionApi, retentionPages } from './modules/retention/routes.tsx';
import { reviewsApi, reviewsPages } from './modules/reviews/routes.tsx';
import { siemApi, siemPages } from './modules/siem/routes.tsx';
import { ssoApi, ssoPages, ssoSignInPages } from './modules/sso/routes.tsx';
import { subscriptionPages, subscriptionsApi } from './modules/subscriptions/routes.tsx';
import { resolveTenantForHost } from './modules/tenants/service.ts';
import {
  domainVerificationPages,
  isUploadPath,
  trustCenterApi,
  trustCenterPages,
  UPLOAD_BODY_LIMIT_BYTES,
} from './modules/trust-center/routes.tsx';
import type { Runtime } from './platform/context.ts';
import { migrationsApplied } from './platform/db/migrate.ts';
import { createApi } from './platform/http/api.ts';
import { settleClient } from './platform/http/client-ip.ts';
import { requireFormToken } from './platform/http/csrf.ts';
import type { AppEnv } from './platform/http/env.ts';
import { handleError, handleNotFound, isApiPath, renderProblem } from './platform/http/errors.tsx';
import { allowedMethods } from './platform/http/methods.ts';
import { problemPages } from './platform/http/problem-pages.tsx';
import { requestLog } from './platform/http/request-log.ts';
import { rejectCrossSiteWrites, securityHeaders } from './platform/http/security.ts';
import { LOCALES } from './platform/i18n/locales.ts';
import { assetRoutes } from './platform/ui/assets.ts';
import type { AdminNavSection } from './platform/ui/layout.tsx';

export const VERSION = '0.1.0';

/** Bodies larger than this are refused before they are read; upload routes set their own limits. */
const BODY_LIMIT_BYTES = 1024 * 1024;

const ADMIN_NAV: AdminNavSection[] = [
  { label: 'Overview', items: [{ href: '/admin', label: 'Dashboard' }] },
  {
    label: 'Trust Center',
    items: [
      { href: '/admin/trust-center', label: 'Content', permission: 'content.read' },
      { href: '/admin/subscriptions', label: 'Subscriptions', permission: 'content.read' },
      { href: '/admin/contact', label: 'Contact messages', permission: 'content.read' },
      { href: '/admin/documents', label: 'Documents', permission: 'documents.read' },
      { href: '/admin/documents/requests', label: 'Document requests', permission: 'documents.read' },
      { href: '/admin/documents/analytics', label: 'Document analytics', permission: 'documents.read' },
      { href: '/admin/customers', label: 'Customers', permission: 'customers.read' },
      { href: '/admin/trust-center/branding', label: 'Branding and domain', permission: 'content.read' },
    ],
  },
  {
    label: 'Security',
    items: [
      { href: '/admin/audit', label: 'Audit trail', permission: 'audit.read' },
      { href: '/admin/alerts', label: 'Alerts', permission: 'alerts.read' },
      { href: '/admin/siem', label: 'SIEM forwarding', permission: 'siem.read' },
      { href: '/admin/keys', label: 'Encryption keys', permission: 'keys.read' },
    ],
  },
  {
    label: 'Access',
    items: [
      { href: '/admin/users', label: 'People', permission: 'users.read' },
      { href: '/admin/roles', label: 'Roles', permission: 'roles.read' },
      { href: '/admin/grant-requests', label: 'Grant requests', permission: 'users.read' },
      { href: '/admin/separation-of-duties', label: 'Separation of duties', permission: 'sod.read' },
      { href: '/admin/api-tokens', label: 'API tokens', permission: 'tokens.read' },
      { href: '/admin/ip-allowlists', label: 'IP allow-lists', permission: 'settings.read' },
      { href: '/admin/settings/sso', label: 'Single sign-on', permission: 'settings.read' },
      { href: '/admin/access-reviews', label: 'Access reviews', permission: 'reviews.read' },
      { href: '/admin/mfa/policy', label: 'Two-step sign-in', permission: 'settings.read' },
    ],
  },
  {
    label: 'Operations',
    items: [
      { href: '/admin/backups', label: 'Backups', permission: 'backups.read' },
      { href: '/admin/retention', label: 'Retention', permission: 'retention.read' },
      { href: '/admin/outbox', label: 'Outbox', permission: 'outbox.read' },
    ],
  },
];

/** The JSON API: every route needs a Bearer token except the OpenAPI document itself. */
function createApiApp() {
  const api = createApi();
  api.use('*', async (c, next) => {
    if (c.req.path === '/api/v1/openapi.json') return next();
    return requireApiToken()(c, next);
  });
  api.route('/', identityApi);
  api.route('/', apiTokensApi);
  api.route('/', accessApi);
  api.route('/', governanceApi);
  api.route('/', outboxApi);
  api.route('/', auditApi);
  api.route('/', alertsApi);
  api.route('/', siemApi);
  api.route('/', keysApi);
  api.route('/', backupsApi);
  api.route('/', retentionApi);
  api.route('/', networkApi);
  api.route('/', ssoApi);
  api.route('/', reviewsApi);
  api.route('/', mfaApi);
  api.route('/', trustCenterApi);
  api.route('/', subscriptionsApi);
  api.route('/', contactApi);
  api.route('/', customersApi);
  api.route('/', documentRequestsApi);
  api.route('/', documentInsightApi);
  api.route('/', documentsApi);
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
    // The client's address, and the URL it used (TLS, or a trusted proxy's X-Forwarded-Proto/-Host).
    c.set('ip', settleClient(c, runtime.config.trustedProxies));
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
  // Before tenant resolution: a domain being verified does not route to its tenant yet.
  app.route('/', domainVerificationPages);

  const limitTo = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new HTTPException(413, { message: `the body is larger than ${maxSize / 1024} KiB` });
      },
    });
  const ordinaryBody = limitTo(BODY_LIMIT_BYTES);
  // Counted while the body is read (not only from Content-Length): a larger upload stops at the limit.
  const uploadBody = limitTo(UPLOAD_BODY_LIMIT_BYTES);
  // Document uploads take files up to 25 MiB, certificate files and logos up to their own limit.
  // GET and HEAD bodies are never read; asking for one would build a whole Request on the hot path.
  app.use('*', (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    if (isDocumentUpload(c.req.method, c.req.path) || isTraceUpload(c.req.method, c.req.path)) return uploadBodyLimit(c, next);
    return isUploadPath(c.req.path) ? uploadBody(c, next) : ordinaryBody(c, next);
  });
  // RFC 8058 one-click unsubscribe is POSTed by mail providers, some from a webmail page on their own origin;
  // the unguessable token in the path is the authority there, and the only effect is to stop mail.
  app.use('*', rejectCrossSiteWrites({ exempt: new RegExp(`^(?:/(?:${LOCALES.join('|')}))?/unsubscribe/[^/]+$`) }));
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
  // Before sessions and tokens are looked at: a request from outside the allow-list learns nothing about them.
  app.use('*', enforceIpAllowlists());

  app.route('/', auditPublicPages);
  app.use('/admin/*', loadSession(), requireFormToken());
  app.use('/admin', loadSession());
  app.route('/', identityPages);
  app.route('/', invitationPages);
  app.route('/', ssoSignInPages);
  app.route('/', mfaSignInPages);
  app.use('/admin', requireSignedIn());
  app.use('/admin/*', requireSignedIn());
  // A session whose person has (or must have) a second factor reaches nothing else until it is proven.
  app.use('/admin', requireSecondFactor());
  app.use('/admin/*', requireSecondFactor());
  app.route('/', mfaPages);
  app.route('/', dashboardPages);
  app.route('/', outboxPages);
  app.route('/', apiTokenPages);
  app.route('/', accountPages);
  app.route('/', accessPages);
  app.route('/', governancePages);
  app.route('/', auditPages);
  app.route('/', alertsPages);
  app.route('/', siemPages);
  app.route('/', keysPages);
  app.route('/', backupsPages);
  app.route('/', retentionPages);
  app.route('/', networkPages);
  app.route('/', ssoPages);
  app.route('/', reviewsPages);
  app.route('/', trustCenterPages);
  app.route('/', subscriptionPages);
  app.route('/', contactPages);
  // Before the documents pages: /admin/documents/requests is not a document id.
  app.route('/', customerPages);
  app.route('/', documentInsightPages);
  app.route('/', documentRequestPages);
  app.route('/', documentsPages);

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
