import { createRoute } from '@hono/zod-openapi';
import { Hono, type MiddlewareHandler } from 'hono';
import { InvalidInput, Unauthorized } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { RateLimiter } from '../../platform/http/rate-limit.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import { safeNext, startBrowserSession } from '../identity/routes.tsx';
import { SignInThrottled } from '../identity/service.ts';
import {
  ChallengeForm,
  ConfirmTotpForm,
  MfaPolicyBody,
  MfaPolicyJson,
  MfaStatusJson,
  PasskeyAssertionBody,
  PasskeyRegistrationBody,
  ReauthForm,
  UserIdParam,
} from './schema.ts';
import {
  confirmTotp,
  getMfaPolicy,
  type MfaPolicyView,
  type MfaStatus,
  mfaGate,
  ownMfaStatus,
  passkeyChallengeOptions,
  passkeyRegistrationOptions,
  passkeySignInOptions,
  personMfaStatus,
  provePasskey,
  proveSecondFactor,
  regenerateRecoveryCodes,
  registerPasskey,
  removePasskey,
  removeTotp,
  resetPersonMfa,
  signInWithPasskey,
  startTotpEnrolment,
  updateMfaPolicy,
  type WebAuthnSite,
} from './service.ts';
import { AccountMfaView, ChallengePage, PolicyView, RecoveryCodesView, TotpEnrolView } from './views/pages.tsx';

const CHALLENGE_PATH = '/admin/mfa/challenge';
const ENROL_PATH = '/admin/account/mfa';

/** The relying party is the host the person is on (the tenant's host), the origin what the browser reports. */
function siteOf(c: AppContext): WebAuthnSite {
  const url = new URL(c.req.url);
  return { rpId: url.hostname, origin: url.origin };
}

function sessionIdHash(c: AppContext): string {
  const session = c.var.session;
  if (!session) throw new Unauthorized('your session has ended; sign in again');
  return session.idHash;
}

const isUnder = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/**
 * Mounted after requireSignedIn on every back-office route: a session that has not proven its person's second
 * factor may open only the challenge; a person the policy covers who has no factor may open only enrolment.
 * Sign-out and the sign-in pages are mounted before it, the assets outside /admin; API tokens never pass here.
 */
export function requireSecondFactor(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = c.var.session;
    if (!session || session.secondFactorAt) return next();
    const gate = await mfaGate(requestContext(c), session);
    const path = c.req.path;
    if (gate === 'challenge' && !isUnder(path, CHALLENGE_PATH)) {
      return c.redirect(`${CHALLENGE_PATH}?next=${encodeURIComponent(c.req.method === 'GET' ? path : '/admin')}`, 303);
    }
    if (gate === 'enrol' && !isUnder(path, ENROL_PATH)) return c.redirect(`${ENROL_PATH}?required=1`, 303);
    return next();
  };
}

/** Pages mounted after the sign-in guard (and the second-factor gate). */
export const mfaPages = new Hono<AppEnv>();

type FormState = { errors?: Record<string, string | undefined>; error?: string };

async function renderAccountMfa(c: AppContext, form: FormState = {}, status: 200 | 422 = 200) {
  const mfa = await ownMfaStatus(requestContext(c));
  return renderAdmin(
    c,
    'Two-step sign-in',
    <AccountMfaView
      status={mfa}
      csrfToken={csrfTokenOf(c)}
      mustEnrol={mfa.required && !mfa.enrolled}
      errors={form.errors}
      error={form.error}
    />,
    status,
  );
}

function throttledMessage(error: SignInThrottled): string {
  return error.message;
}

mfaPages.get(ENROL_PATH, (c) => renderAccountMfa(c));

mfaPages.get(`${ENROL_PATH}/totp`, async (c) => {
  const enrolment = await startTotpEnrolment(requestContext(c));
  return renderAdmin(c, 'Set up an authenticator app', <TotpEnrolView enrolment={enrolment} csrfToken={csrfTokenOf(c)} />);
});

mfaPages.post(`${ENROL_PATH}/totp`, async (c) => {
  const form = await readForm(c, ConfirmTotpForm);
  const again = async (errors: Record<string, string | undefined>) => {
    // A fresh page with the same secret, so the person's app (already scanned) keeps working.
    const enrolment = await startTotpEnrolment(requestContext(c), form.values.secret);
    return renderAdmin(
      c,
      'Set up an authenticator app',
      <TotpEnrolView enrolment={enrolment} csrfToken={csrfTokenOf(c)} errors={errors} />,
      422,
    );
  };
  if (!form.ok) return again(form.errors);
  try {
    const codes = await confirmTotp(requestContext(c), sessionIdHash(c), form.data);
    return renderAdmin(c, 'Your recovery codes', <RecoveryCodesView codes={codes} />);
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return again(error.fields);
  }
});

mfaPages.post(`${ENROL_PATH}/totp/remove`, async (c) => {
  const form = await readForm(c, ReauthForm);
  if (!form.ok) return renderAccountMfa(c, { errors: form.errors }, 422);
  try {
    await removeTotp(requestContext(c), form.data);
  } catch (error) {
    if (error instanceof SignInThrottled) return renderAccountMfa(c, { error: throttledMessage(error) }, 422);
    if (!(error instanceof InvalidInput)) throw error;
    return renderAccountMfa(c, { errors: error.fields, error: error.message }, 422);
  }
  return redirectWithFlash(c, ENROL_PATH, 'Authenticator app removed.');
});

mfaPages.post(`${ENROL_PATH}/recovery-codes`, async (c) => {
  const form = await readForm(c, ReauthForm);
  if (!form.ok) return renderAccountMfa(c, { errors: form.errors }, 422);
  try {
    const codes = await regenerateRecoveryCodes(requestContext(c), form.data);
    return renderAdmin(c, 'Your recovery codes', <RecoveryCodesView codes={codes} />);
  } catch (error) {
    if (error instanceof SignInThrottled) return renderAccountMfa(c, { error: throttledMessage(error) }, 422);
    if (!(error instanceof InvalidInput)) throw error;
    return renderAccountMfa(c, { errors: error.fields, error: error.message }, 422);
  }
});

/** The passkey endpoints answer JSON to the page's script; a refusal is a 422 with a message to show. */
async function jsonBody<T>(c: AppContext, parse: (v: unknown) => T): Promise<T> {
  const raw: unknown = await c.req.json().catch(() => undefined);
  try {
    return parse(raw);
  } catch {
    throw new InvalidInput('the passkey response is missing or malformed', { response: 'malformed' });
  }
}

function refusedJson(c: AppContext, error: unknown) {
  if (error instanceof SignInThrottled) {
    c.header('retry-after', String(error.retryAfterSeconds));
    return c.json({ error: error.message }, 429);
  }
  if (error instanceof InvalidInput) return c.json({ error: error.message, errors: error.fields }, 422);
  throw error;
}

mfaPages.post(`${ENROL_PATH}/passkeys/options`, async (c) =>
  c.json(await passkeyRegistrationOptions(requestContext(c), siteOf(c))),
);

mfaPages.post(`${ENROL_PATH}/passkeys`, async (c) => {
  try {
    const body = await jsonBody(c, (v) => PasskeyRegistrationBody.parse(v));
    const passkey = await registerPasskey(requestContext(c), siteOf(c), sessionIdHash(c), body);
    return c.json({ id: passkey.id, name: passkey.name, next: ENROL_PATH }, 201);
  } catch (error) {
    return refusedJson(c, error);
  }
});

mfaPages.post(`${ENROL_PATH}/passkeys/:id/remove`, async (c) => {
  const { id } = UserIdParam.parse(c.req.param());
  await removePasskey(requestContext(c), id);
  return redirectWithFlash(c, ENROL_PATH, 'Passkey removed.');
});

async function renderChallenge(c: AppContext, form: FormState = {}, status: 200 | 422 | 429 = 200) {
  const mfa = await ownMfaStatus(requestContext(c));
  c.header('cache-control', 'no-store');
  return c.html(
    <ChallengePage
      status={mfa}
      csrfToken={csrfTokenOf(c)}
      next={safeNext(c.req.query('next'))}
      errors={form.errors}
      error={form.error}
    />,
    status,
  );
}

/** Nothing to prove (no factor, or already proven): the challenge steps aside. */
function challengeNeeded(c: AppContext): boolean {
  return !c.var.session?.secondFactorAt;
}

mfaPages.get(CHALLENGE_PATH, async (c) => {
  if (!challengeNeeded(c) || (await mfaGate(requestContext(c), c.var.session ?? { secondFactorAt: null })) !== 'challenge') {
    return c.redirect(safeNext(c.req.query('next')), 303);
  }
  return renderChallenge(c);
});

mfaPages.post(CHALLENGE_PATH, async (c) => {
  const form = await readForm(c, ChallengeForm);
  if (!form.ok) return renderChallenge(c, { errors: form.errors }, 422);
  try {
    const result = await proveSecondFactor(requestContext(c), sessionIdHash(c), form.data);
    const next = safeNext(c.req.query('next'));
    if (result.method === 'recovery-code') {
      return redirectWithFlash(c, next, `Recovery code used. ${result.recoveryCodesLeft ?? 0} of 10 left.`, 'info');
    }
    return c.redirect(next, 303);
  } catch (error) {
    if (error instanceof SignInThrottled) {
      c.header('retry-after', String(error.retryAfterSeconds));
      return renderChallenge(c, { error: throttledMessage(error) }, 429);
    }
    if (!(error instanceof InvalidInput)) throw error;
    return renderChallenge(c, { errors: error.fields, error: error.message }, 422);
  }
});

mfaPages.post(`${CHALLENGE_PATH}/passkey/options`, async (c) =>
  c.json(await passkeyChallengeOptions(requestContext(c), siteOf(c))),
);

mfaPages.post(`${CHALLENGE_PATH}/passkey`, async (c) => {
  try {
    const body = await jsonBody(c, (v) => PasskeyAssertionBody.parse(v));
    await provePasskey(requestContext(c), siteOf(c), sessionIdHash(c), body);
    return c.json({ next: safeNext(c.req.query('next')) });
  } catch (error) {
    return refusedJson(c, error);
  }
});

async function renderPolicy(c: AppContext, form: FormState = {}, status: 200 | 422 = 200) {
  const policy = await getMfaPolicy(requestContext(c));
  return renderAdmin(
    c,
    'Two-step sign-in policy',
    <PolicyView
      policy={policy}
      canManage={can(c.var.actor, 'settings.manage')}
      csrfToken={csrfTokenOf(c)}
      errors={form.errors}
    />,
    status,
  );
}

mfaPages.get('/admin/mfa/policy', (c) => renderPolicy(c));

mfaPages.post('/admin/mfa/policy', routeRequires('settings.manage'), async (c) => {
  const form = await readForm(c, MfaPolicyBody, { lists: ['roles'] });
  if (!form.ok) return renderPolicy(c, { errors: form.errors }, 422);
  try {
    await updateMfaPolicy(requestContext(c), form.data);
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return renderPolicy(c, { errors: error.fields }, 422);
  }
  return redirectWithFlash(c, '/admin/mfa/policy', 'Two-step sign-in policy saved.');
});

mfaPages.post('/admin/users/:id/mfa/reset', routeRequires('users.manage'), async (c) => {
  const { id } = UserIdParam.parse(c.req.param());
  await resetPersonMfa(requestContext(c), id);
  return redirectWithFlash(c, `/admin/users/${id}`, 'Two-step sign-in reset: they will set it up again.');
});

/** Passwordless sign-in: mounted with the sign-in pages, before the sign-in guard. */
export const mfaSignInPages = new Hono<AppEnv>();
// Each options request stores a challenge: thirty a minute per address keep the table small.
const passkeySignInByIp = new RateLimiter(30, 60_000);

mfaSignInPages.post('/admin/login/passkey/options', async (c) => {
  passkeySignInByIp.hit(`${c.var.tenant.id}:${c.var.ip}`);
  return c.json(await passkeySignInOptions(requestContext(c), siteOf(c)));
});

mfaSignInPages.post('/admin/login/passkey', async (c) => {
  try {
    const body = await jsonBody(c, (v) => PasskeyAssertionBody.parse(v));
    const { sessionId } = await signInWithPasskey(requestContext(c), siteOf(c), body);
    startBrowserSession(c, sessionId);
    return c.json({ next: safeNext(c.req.query('next')) });
  } catch (error) {
    return refusedJson(c, error);
  }
});

// ─── API ───────────────────────────────────────────────────────────────────────────────────────────────────

function policyJson(policy: MfaPolicyView) {
  return { roles: policy.roles, updatedAt: policy.updatedAt?.toISOString() ?? null };
}

function statusJson(status: MfaStatus) {
  return {
    userId: status.userId,
    enrolled: status.enrolled,
    totp: status.totp,
    recoveryCodesLeft: status.recoveryCodesLeft,
    passkeys: status.passkeys.map((p) => ({
      id: p.id,
      name: p.name,
      createdAt: p.createdAt.toISOString(),
      lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
    })),
    required: status.required,
  };
}

export const mfaApi = createApi();

mfaApi.openapi(
  createRoute({
    method: 'get',
    path: '/mfa/policy',
    tags: ['MFA'],
    summary: 'The roles that require two-step sign-in',
    description: 'Needs `settings.read`. Without a saved policy: owner and security-admin.',
    security: BEARER,
    responses: {
      200: { description: 'The policy', content: { 'application/json': { schema: MfaPolicyJson } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json(policyJson(await getMfaPolicy(requestContext(c))), 200),
);

mfaApi.openapi(
  createRoute({
    method: 'put',
    path: '/mfa/policy',
    tags: ['MFA'],
    summary: 'Choose the roles that require two-step sign-in',
    description: 'Needs `settings.manage`. Holders without a factor are led to enrol at their next back-office request.',
    middleware: [routeRequires('settings.manage')],
    security: BEARER,
    request: { body: { required: true, content: { 'application/json': { schema: MfaPolicyBody } } } },
    responses: {
      200: { description: 'The saved policy', content: { 'application/json': { schema: MfaPolicyJson } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => c.json(policyJson(await updateMfaPolicy(requestContext(c), c.req.valid('json'))), 200),
);

mfaApi.openapi(
  createRoute({
    method: 'get',
    path: '/users/{id}/mfa',
    tags: ['MFA'],
    summary: 'A person’s second factors',
    description: 'Needs `users.read`. Which factors a person has (never their secrets) and whether the policy requires one.',
    security: BEARER,
    request: { params: UserIdParam },
    responses: {
      200: { description: 'The person’s MFA status', content: { 'application/json': { schema: MfaStatusJson } } },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json(statusJson(await personMfaStatus(requestContext(c), c.req.valid('param').id)), 200),
);

mfaApi.openapi(
  createRoute({
    method: 'delete',
    path: '/users/{id}/mfa',
    tags: ['MFA'],
    summary: 'Reset a person’s second factors (lost phone)',
    description: 'Needs `users.manage`; not for oneself. Removes every factor and recovery code; recorded as `mfa.reset`.',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: { params: UserIdParam },
    responses: {
      200: { description: 'The person’s MFA status after the reset', content: { 'application/json': { schema: MfaStatusJson } } },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json(statusJson(await resetPersonMfa(requestContext(c), c.req.valid('param').id)), 200),
);
