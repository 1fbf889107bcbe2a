import { createRoute } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { isSecureRequest } from '../../platform/http/client-ip.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { RateLimiter } from '../../platform/http/rate-limit.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import { startBrowserSession } from '../identity/routes.tsx';
import { type SsoCheck, SsoCheckJson, SsoSettingsBody, SsoSettingsForm, SsoSettingsJson } from './schema.ts';
import {
  checkSsoProvider,
  finishSsoSignIn,
  getSsoSettings,
  LOGIN_STATE_TTL_MS,
  provisionableRoles,
  redirectUriFor,
  SsoRefused,
  type SsoSettingsView,
  SsoUnavailable,
  startSsoSignIn,
  updateSsoSettings,
} from './service.ts';
import { SsoRefusedPage, SsoSettingsPage } from './views/sso.tsx';

/** Ties a sign-in to the browser that started it (a callback URL replayed elsewhere is refused). */
const BROWSER_COOKIE = 'candor_sso';
const COOKIE_PATH = '/admin/sso';

// Each start makes a database row and a request to the provider: bounded per client address.
const startsByIp = new RateLimiter(30, 60_000);

function origin(c: AppContext): string {
  return new URL(c.req.url).origin;
}

/** Only same-site relative paths under /admin: an open redirect must not ride on the sign-in. */
function safeNext(next: string | undefined): string {
  return next && /^\/admin(?:\/[\w\-./]*)?$/.test(next) && !next.includes('//') ? next : '/admin';
}

/** The sign-in itself: reachable without a session (mounted before the back office's sign-in guard). */
export const ssoSignInPages = new Hono<AppEnv>();

ssoSignInPages.get('/admin/sso/start', async (c) => {
  const next = safeNext(c.req.query('next'));
  if (c.var.actor.kind === 'user') return c.redirect(next, 303);
  startsByIp.hit(`${c.var.tenant.id}:${c.var.ip}`);
  try {
    const started = await startSsoSignIn(requestContext(c), { origin: origin(c), next });
    setCookie(c, BROWSER_COOKIE, started.browserToken, {
      path: COOKIE_PATH,
      httpOnly: true,
      secure: isSecureRequest(c),
      // Lax: the provider's redirect back is a top-level GET navigation, which carries it.
      sameSite: 'Lax',
      maxAge: LOGIN_STATE_TTL_MS / 1000,
    });
    c.header('cache-control', 'no-store');
    return c.redirect(started.authorizationUrl, 303);
  } catch (error) {
    if (!(error instanceof SsoUnavailable)) throw error;
    return c.html(<SsoRefusedPage message={error.message} />, 503);
  }
});

ssoSignInPages.get('/admin/sso/callback', async (c) => {
  const browserToken = getCookie(c, BROWSER_COOKIE);
  deleteCookie(c, BROWSER_COOKIE, { path: COOKIE_PATH });
  c.header('cache-control', 'no-store');
  // The code in this URL must not travel on in a Referer.
  c.header('referrer-policy', 'no-referrer');
  try {
    const { sessionId, next } = await finishSsoSignIn(requestContext(c), { callbackUrl: new URL(c.req.url), browserToken });
    startBrowserSession(c, sessionId);
    return c.redirect(safeNext(next), 303);
  } catch (error) {
    if (!(error instanceof SsoRefused)) throw error;
    return c.html(<SsoRefusedPage message={error.message} />, 403);
  }
});

/** The settings page (signed in: settings.read to see, settings.manage to change). */
export const ssoPages = new Hono<AppEnv>();

async function renderSettings(
  c: AppContext,
  extra: { values?: Record<string, string>; errors?: Record<string, string>; check?: SsoCheck; status?: 200 | 422 } = {},
) {
  const ctx = requestContext(c);
  const view = await getSsoSettings(ctx);
  return renderAdmin(
    c,
    'Single sign-on',
    <SsoSettingsPage
      view={view}
      redirectUri={redirectUriFor(origin(c))}
      csrfToken={csrfTokenOf(c)}
      canManage={can(c.var.actor, 'settings.manage')}
      roles={await provisionableRoles(ctx)}
      values={extra.values}
      errors={extra.errors}
      check={extra.check}
    />,
    extra.status ?? (extra.errors ? 422 : 200),
  );
}

ssoPages.get('/admin/settings/sso', (c) => renderSettings(c));

ssoPages.post('/admin/settings/sso', routeRequires('settings.manage'), async (c) => {
  const form = await readForm(c, SsoSettingsForm);
  if (!form.ok) return renderSettings(c, { values: form.values, errors: form.errors });
  try {
    await updateSsoSettings(requestContext(c), form.data);
  } catch (error) {
    // Rules the form cannot know alone (the default role, the SSO-only lockout rule) answer beside their field.
    if (!(error instanceof InvalidInput)) throw error;
    return renderSettings(c, { values: form.values, errors: error.fields });
  }
  return redirectWithFlash(c, '/admin/settings/sso', 'Single sign-on settings saved.');
});

ssoPages.post('/admin/settings/sso/check', routeRequires('settings.manage'), async (c) => {
  const check = await checkSsoProvider(requestContext(c));
  return renderSettings(c, { check });
});

function toJson(view: SsoSettingsView, redirectUri: string) {
  return { ...view, verifiedAt: view.verifiedAt?.toISOString() ?? null, redirectUri };
}

/** JSON API (mounted under /api/v1). */
export const ssoApi = createApi();

ssoApi.openapi(
  createRoute({
    method: 'get',
    path: '/sso/settings',
    tags: ['Single sign-on'],
    summary: 'The tenant’s OpenID Connect settings',
    description: 'Needs `settings.read`. The client secret is never returned, only whether one is set.',
    security: BEARER,
    responses: {
      200: { description: 'The settings', content: { 'application/json': { schema: SsoSettingsJson } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json(toJson(await getSsoSettings(requestContext(c)), redirectUriFor(origin(c))), 200),
);

ssoApi.openapi(
  createRoute({
    method: 'put',
    path: '/sso/settings',
    tags: ['Single sign-on'],
    summary: 'Replace the tenant’s OpenID Connect settings',
    description:
      'Needs `settings.manage`. `clientSecret` is write-only: left out, the saved one stays. `ssoOnly` is refused (422) ' +
      'unless SSO is enabled and a sign-in through the provider has succeeded since its issuer, client id or secret changed. ' +
      'A privileged role cannot be the default role of people created at first sign-in.',
    middleware: [routeRequires('settings.manage')],
    security: BEARER,
    request: { body: { required: true, content: { 'application/json': { schema: SsoSettingsBody } } } },
    responses: {
      200: { description: 'The saved settings', content: { 'application/json': { schema: SsoSettingsJson } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const view = await updateSsoSettings(requestContext(c), c.req.valid('json'));
    return c.json(toJson(view, redirectUriFor(origin(c))), 200);
  },
);

ssoApi.openapi(
  createRoute({
    method: 'post',
    path: '/sso/settings/check',
    tags: ['Single sign-on'],
    summary: 'Run discovery against the saved provider',
    description: 'Needs `settings.manage`. Reports what discovery found, or why it failed (`ok: false`).',
    middleware: [routeRequires('settings.manage')],
    security: BEARER,
    responses: {
      200: { description: 'The result of the check', content: { 'application/json': { schema: SsoCheckJson } } },
      ...commonErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json(await checkSsoProvider(requestContext(c)), 200),
);
