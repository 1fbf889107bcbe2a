import { createRoute, z } from '@hono/zod-openapi';
import { Hono, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { Forbidden, InvalidInput, Unauthorized } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi } from '../../platform/http/api.ts';
import { isSecureRequest } from '../../platform/http/client-ip.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { readForm } from '../../platform/http/forms.ts';
import { RateLimiter } from '../../platform/http/rate-limit.ts';
import { AccessDenied, knownPermissions, PermissionSlug, recordAccessDenied } from '../access/service.ts';
import { ssoLoginOffer, ssoPasswordGate } from '../sso/service.ts';
import { checkResetLink, requestPasswordReset, resetPassword } from './reset.ts';
import { Email, LoginForm, OwnerSetupForm } from './schema.ts';
import {
  authenticateApiToken,
  checkSetupLink,
  completeOwnerSetup,
  PasswordNotAllowed,
  personActor,
  resolveSession,
  SESSION_ABSOLUTE_MS,
  signIn,
  signOut,
} from './service.ts';
import { SignInThrottled } from './throttle.ts';
import { ForgotPasswordPage, LoginPage, ResetPasswordPage, SetupPage } from './views/pages.tsx';

const SECURE_COOKIE = '__Host-candor_session';
const PLAIN_COOKIE = 'candor_session';

/**
 * `__Host-` cookies need Secure, which browsers honour over HTTPS and on localhost. A trial on a plain-HTTP
 * LAN address falls back to an ordinary cookie rather than a sign-in that silently never sticks.
 */
function secureContext(c: AppContext): boolean {
  return isSecureRequest(c) || ['localhost', '127.0.0.1', '[::1]'].includes(new URL(c.req.url).hostname);
}

export function readSessionCookie(c: AppContext): string | undefined {
  return getCookie(c, SECURE_COOKIE) ?? getCookie(c, PLAIN_COOKIE);
}

/** Sets the session cookie (also used by the MFA capability's passkey sign-in). */
export function startBrowserSession(c: AppContext, sessionId: string): void {
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
        if (session.reissuedSessionId) startBrowserSession(c, session.reissuedSessionId);
        c.set('session', {
          userId: session.user.id,
          csrfToken: session.csrfToken,
          idHash: session.idHash,
          authMethod: session.authMethod,
          secondFactorAt: session.secondFactorAt,
        });
        c.set('actor', personActor(session.user, session.access));
      }
      // An unknown id is left in place rather than cleared: the request may be a late one carrying an id the
      // session was just reissued under, and clearing the cookie would also wipe the new id from the browser.
      // Signing in again overwrites it.
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
      // A token used from outside its address ranges (403) counts too: each refusal writes the trail.
      if (error instanceof Unauthorized || error instanceof Forbidden) failedTokensByIp.hit(client);
      throw error;
    });
    // The token acts with exactly its scopes, resolved here once for the whole request.
    c.set('actor', { kind: 'token', id: token.id, name: token.name, permissions: new Set(token.permissions) });
    await next();
    await recordDenial(c);
  };
}

// Owner setup links: ten tries a minute per address. Password sign-in is throttled in the database (throttle.ts).
const setupByIp = new RateLimiter(10, 60_000);

/** Only same-site relative paths under /admin: an open redirect must not ride on the sign-in page. */
export function safeNext(next: string | undefined): string {
  return next && /^\/admin(?:\/[\w\-./]*)?$/.test(next) && !next.includes('//') ? next : '/admin';
}

export const identityPages = new Hono<AppEnv>();

identityPages.get('/setup/:token', async (c) => {
  await checkSetupLink(requestContext(c), c.req.param('token'));
  c.header('cache-control', 'no-store');
  return c.html(<SetupPage action={c.req.path} />);
});

identityPages.post('/setup/:token', async (c) => {
  setupByIp.hit(`setup:${c.var.ip}`);
  const form = await readForm(c, OwnerSetupForm);
  if (!form.ok) return c.html(<SetupPage action={c.req.path} values={form.values} errors={form.errors} />, 422);
  try {
    const { sessionId } = await completeOwnerSetup(requestContext(c), c.req.param('token'), form.data);
    startBrowserSession(c, sessionId);
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return c.html(<SetupPage action={c.req.path} values={form.values} errors={error.fields} />, 422);
  }
  return c.redirect('/admin', 303);
});

identityPages.get('/admin/login', async (c) => {
  if (c.var.actor.kind === 'user') return c.redirect(safeNext(c.req.query('next')), 303);
  const sso = await ssoLoginOffer(requestContext(c));
  return c.html(<LoginPage tenantName={c.var.tenant.name} next={c.req.query('next')} sso={sso} />);
});

identityPages.post('/admin/login', async (c) => {
  const next = c.req.query('next');
  const sso = await ssoLoginOffer(requestContext(c));
  const form = await readForm(c, LoginForm);
  if (!form.ok) {
    return c.html(
      <LoginPage tenantName={c.var.tenant.name} email={form.values.email} next={next} errors={form.errors} sso={sso} />,
      422,
    );
  }
  try {
    const { sessionId } = await signIn(requestContext(c), form.data, ssoPasswordGate);
    startBrowserSession(c, sessionId);
    return c.redirect(safeNext(next), 303);
  } catch (error) {
    if (error instanceof SignInThrottled) {
      c.header('retry-after', String(error.retryAfterSeconds));
      return c.html(
        <LoginPage tenantName={c.var.tenant.name} email={form.data.email} next={next} error={error.message} sso={sso} />,
        429,
      );
    }
    if (error instanceof PasswordNotAllowed) {
      return c.html(
        <LoginPage tenantName={c.var.tenant.name} email={form.data.email} next={next} error={error.message} sso={sso} />,
        403,
      );
    }
    if (!(error instanceof InvalidInput)) throw error;
    return c.html(
      <LoginPage tenantName={c.var.tenant.name} email={form.data.email} next={next} error={error.message} sso={sso} />,
      401,
    );
  }
});

const ForgotForm = z.object({ email: Email });
const ResetForm = z.object({ newPassword: z.string().min(1, 'enter a new password').max(1024) });
// Each request may send a mail: ten a minute per address keep the form from being a mail cannon.
const resetRequestsByIp = new RateLimiter(10, 60_000);

/** The provider's name when the workspace is SSO-only (the reset pages say passwords are for owners). */
async function ssoOnlyWith(c: AppContext): Promise<string | undefined> {
  const sso = await ssoLoginOffer(requestContext(c));
  return sso?.ssoOnly ? sso.displayName : undefined;
}

identityPages.get('/admin/forgot-password', async (c) => c.html(<ForgotPasswordPage ssoOnlyWith={await ssoOnlyWith(c)} />));

identityPages.post('/admin/forgot-password', async (c) => {
  const sso = await ssoOnlyWith(c);
  const form = await readForm(c, ForgotForm);
  if (!form.ok) return c.html(<ForgotPasswordPage email={form.values.email} errors={form.errors} ssoOnlyWith={sso} />, 422);
  resetRequestsByIp.hit(`${c.var.tenant.id}:${c.var.ip}`);
  await requestPasswordReset(requestContext(c), form.data.email, new URL(c.req.url).origin, ssoPasswordGate);
  // The same answer whether or not the address has an account.
  return c.html(<ForgotPasswordPage email={form.data.email} sent ssoOnlyWith={sso} />);
});

identityPages.get('/admin/reset-password/:token', async (c) => {
  await checkResetLink(requestContext(c), c.req.param('token'));
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
  return c.html(<ResetPasswordPage action={c.req.path} />);
});

identityPages.post('/admin/reset-password/:token', async (c) => {
  const form = await readForm(c, ResetForm);
  if (!form.ok) return c.html(<ResetPasswordPage action={c.req.path} errors={form.errors} />, 422);
  try {
    await resetPassword(requestContext(c), c.req.param('token'), form.data.newPassword, ssoPasswordGate);
  } catch (error) {
    if (error instanceof PasswordNotAllowed) {
      const sso = await ssoLoginOffer(requestContext(c));
      return c.html(<LoginPage tenantName={c.var.tenant.name} error={error.message} sso={sso} />, 403);
    }
    if (!(error instanceof InvalidInput)) throw error;
    return c.html(<ResetPasswordPage action={c.req.path} errors={error.fields} />, 422);
  }
  endBrowserSession(c);
  return c.html(<LoginPage tenantName={c.var.tenant.name} notice="Your password is changed. Sign in with it." />);
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
    roles: z.array(z.string()).openapi({ description: 'The roles a person holds (a token holds none)' }),
    permissions: z.array(PermissionSlug).openapi({ description: 'What the caller may do: a token’s scopes' }),
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
    description: 'The API token (or person) making the request, its permissions, and the tenant it acts in.',
    security: BEARER,
    responses: { 200: { description: 'The caller', content: { 'application/json': { schema: Me } } }, ...commonErrors },
  }),
  (c) => {
    const actor = c.var.actor;
    if (actor.kind !== 'token' && actor.kind !== 'user') throw new Unauthorized();
    const { id, slug, name } = c.var.tenant;
    const roles = actor.kind === 'user' ? [...actor.roles] : [];
    const permissions = knownPermissions(actor.permissions);
    return c.json({ kind: actor.kind, id: actor.id, name: actor.name, roles, permissions, tenant: { id, slug, name } }, 200);
  },
);
