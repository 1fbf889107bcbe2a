import { createRoute, z } from '@hono/zod-openapi';
import { Hono, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { InvalidInput, Unauthorized } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { readForm } from '../../platform/http/forms.ts';
import { RateLimiter } from '../../platform/http/rate-limit.ts';
import { LoginForm, OwnerSetupForm } from './schema.ts';
import {
  AccessDenied,
  authenticateApiToken,
  checkSetupLink,
  completeOwnerSetup,
  recordAccessDenied,
  resolveSession,
  SESSION_ABSOLUTE_MS,
  signIn,
  signOut,
} from './service.ts';
import { LoginPage, SetupPage } from './views/pages.tsx';

const SECURE_COOKIE = '__Host-candor_session';
const PLAIN_COOKIE = 'candor_session';

/**
 * `__Host-` cookies need Secure, which browsers honour over HTTPS and on localhost. A trial on a plain-HTTP
 * LAN address falls back to an ordinary cookie rather than a sign-in that silently never sticks.
 */
function secureContext(c: AppContext): boolean {
  const url = new URL(c.req.url);
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

function readSessionCookie(c: AppContext): string | undefined {
  return getCookie(c, SECURE_COOKIE) ?? getCookie(c, PLAIN_COOKIE);
}

function startBrowserSession(c: AppContext, sessionId: string): void {
  const secure = secureContext(c);
  setCookie(c, secure ? SECURE_COOKIE : PLAIN_COOKIE, sessionId, {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: 'Lax',
    maxAge: SESSION_ABSOLUTE_MS / 1000,
  });
}

function endBrowserSession(c: AppContext): void {
  deleteCookie(c, SECURE_COOKIE, { path: '/', secure: true });
  deleteCookie(c, PLAIN_COOKIE, { path: '/' });
}

/** Loads the signed-in person (if any) for back-office requests. */
export function loadSession(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const sessionId = readSessionCookie(c);
    if (sessionId) {
      const { db, clock } = c.var.runtime;
      const session = await resolveSession(db, clock, c.var.tenant.id, sessionId);
      if (session) {
        c.set('session', { userId: session.user.id, csrfToken: session.csrfToken });
        c.set('actor', { kind: 'user', ...session.user });
      } else {
        endBrowserSession(c);
      }
    }
    await next();
  };
}

/**
 * Records a permission check the route refused (see AccessDenied). Hono has already turned the error into
 * the 403 response by the time `next()` returns, and every transaction of the request has ended.
 */
async function recordDenial(c: AppContext): Promise<void> {
  if (!(c.error instanceof AccessDenied)) return;
  try {
    await recordAccessDenied(requestContext(c), c.error, { method: c.req.method, path: c.req.path });
  } catch (err) {
    // The refusal stands either way; a trail that cannot be written must not turn a 403 into a 500.
    c.var.runtime.log.error({ err, requestId: c.var.requestId }, 'could not record an access denial');
  }
}

/** Sends people who are not signed in to the sign-in page, remembering where they were going. */
export function requireSignedIn(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.var.actor.kind !== 'user') {
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') throw new Unauthorized('your session has ended; sign in again');
      return c.redirect(`/admin/login?next=${encodeURIComponent(c.req.path)}`, 303);
    }
    await next();
    await recordDenial(c);
  };
}

/** Authenticates `Authorization: Bearer` API tokens for the JSON API. */
const failedTokensByIp = new RateLimiter(30, 60_000);

export function requireApiToken(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      c.header('www-authenticate', 'Bearer realm="candor"');
      throw new Unauthorized('send an API token as "Authorization: Bearer <token>"');
    }
    // Refused tokens are audited; a client guessing tokens is slowed down before it can flood the trail.
    const client = `${c.var.tenant.id}:${c.var.ip}`;
    failedTokensByIp.check(client);
    const token = await authenticateApiToken(requestContext(c), match[1]).catch((error: unknown) => {
      if (error instanceof Unauthorized) failedTokensByIp.hit(client);
      throw error;
    });
    c.set('actor', { kind: 'token', id: token.id, name: token.name, role: token.role });
    await next();
    await recordDenial(c);
  };
}

// Ten tries a minute per address and per account before the form says to wait.
const loginByIp = new RateLimiter(10, 60_000);
const loginByAccount = new RateLimiter(10, 60_000);

/** Only same-site relative paths under /admin: an open redirect must not ride on the sign-in page. */
function safeNext(next: string | undefined): string {
  return next && /^\/admin(?:\/[\w\-./]*)?$/.test(next) && !next.includes('//') ? next : '/admin';
}

export const identityPages = new Hono<AppEnv>();

identityPages.get('/setup/:token', async (c) => {
  await checkSetupLink(requestContext(c), c.req.param('token'));
  c.header('cache-control', 'no-store');
  return c.html(<SetupPage action={c.req.path} />);
});

identityPages.post('/setup/:token', async (c) => {
  loginByIp.hit(`setup:${c.var.ip}`);
  const form = await readForm(c, OwnerSetupForm);
  if (!form.ok) return c.html(<SetupPage action={c.req.path} values={form.values} errors={form.errors} />, 422);
  const { sessionId } = await completeOwnerSetup(requestContext(c), c.req.param('token'), form.data);
  startBrowserSession(c, sessionId);
  return c.redirect('/admin', 303);
});

identityPages.get('/admin/login', (c) => {
  if (c.var.actor.kind === 'user') return c.redirect(safeNext(c.req.query('next')), 303);
  return c.html(<LoginPage tenantName={c.var.tenant.name} next={c.req.query('next')} />);
});

identityPages.post('/admin/login', async (c) => {
  const next = c.req.query('next');
  const form = await readForm(c, LoginForm);
  if (!form.ok) {
    return c.html(<LoginPage tenantName={c.var.tenant.name} email={form.values.email} next={next} errors={form.errors} />, 422);
  }
  loginByIp.hit(c.var.ip);
  loginByAccount.hit(`${c.var.tenant.id}:${form.data.email}`);
  try {
    const { sessionId } = await signIn(requestContext(c), form.data);
    startBrowserSession(c, sessionId);
    return c.redirect(safeNext(next), 303);
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return c.html(<LoginPage tenantName={c.var.tenant.name} email={form.data.email} next={next} error={error.message} />, 401);
  }
});

identityPages.post('/admin/logout', async (c) => {
  const sessionId = readSessionCookie(c);
  if (sessionId) await signOut(requestContext(c), sessionId);
  endBrowserSession(c);
  return c.redirect('/admin/login', 303);
});

const Me = z
  .object({
    kind: z.enum(['user', 'token']),
    id: z.string().uuid(),
    name: z.string(),
    role: z.string(),
    tenant: z.object({ id: z.string().uuid(), slug: z.string(), name: z.string() }),
  })
  .openapi('Me');

export const identityApi = createApi();

identityApi.openapi(
  createRoute({
    method: 'get',
    path: '/me',
    tags: ['Identity'],
    summary: 'Who the caller is',
    description: 'The API token (or person) making the request, its role, and the tenant it acts in.',
    security: BEARER,
    responses: { 200: { description: 'The caller', content: { 'application/json': { schema: Me } } }, ...commonErrors },
  }),
  (c) => {
    const actor = c.var.actor;
    if (actor.kind !== 'token' && actor.kind !== 'user') throw new Unauthorized();
    const { id, slug, name } = c.var.tenant;
    return c.json({ kind: actor.kind, id: actor.id, name: actor.name, role: actor.role, tenant: { id, slug, name } }, 200);
  },
);
