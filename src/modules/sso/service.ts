import type * as Oidc from 'openid-client';
import { auditScope } from '../../platform/audit/audit.ts';
import type { Actor, RequestContext } from '../../platform/context.ts';
import { encryptedTextColumn, type Reencryptable } from '../../platform/crypto/reencryption.ts';
import { newSecret, sha256Hex } from '../../platform/crypto/secrets.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Forbidden, InvalidInput, NotFound } from '../../platform/errors.ts';
import { findRole, isPrivilegedRole, requirePermission, resolveAccess, roleSlugs } from '../access/service.ts';
import type { User } from '../identity/schema.ts';
import {
  findPersonByEmail,
  findPersonById,
  type NewSession,
  openSession,
  type PasswordGate,
  personActor,
  provisionPerson,
} from '../identity/service.ts';
import type { SsoCheck, SsoSettingsInput } from './schema.ts';
import {
  deleteExpiredLoginStates,
  findIdentity,
  findIdentityOfUser,
  findSettings,
  insertIdentity,
  insertLoginState,
  lockSettings,
  markSettingsVerified,
  type SsoSettingsRow,
  saveSettings,
  takeLoginState,
  touchIdentity,
} from './store.ts';
import { ssoSettings } from './tables.ts';

/** Long enough to sign in at the provider (and type a second factor there), short enough to be useless later. */
export const LOGIN_STATE_TTL_MS = 10 * 60 * 1000;
/** The path the provider sends people back to; registered at the provider as `<origin>/admin/sso/callback`. */
export const CALLBACK_PATH = '/admin/sso/callback';
/** RFC 8176 `amr` values that mean the provider checked more than a password. */
const SECOND_FACTOR_AMR = new Set(['mfa', 'otp', 'hwk', 'swk', 'sc']);
/** Who creates people and grants their default role during just-in-time provisioning. */
const SSO_ACTOR: Actor = { kind: 'system', name: 'sso' };
const PROVIDER_TIMEOUT_SECONDS = 10;

/** The client secret is needed in clear at every token request: sealed with the tenant's data key, bound to the tenant's row. */
const clientSecretColumn = encryptedTextColumn({
  table: ssoSettings,
  tenantId: ssoSettings.tenantId,
  rowId: ssoSettings.tenantId,
  column: ssoSettings.clientSecret,
});

export const ssoEncryptedColumns: Reencryptable[] = [clientSecretColumn];

export function redirectUriFor(origin: string): string {
  return `${origin}${CALLBACK_PATH}`;
}

// ─── Settings ───────────────────────────────────────────────────────────────────────────────────────────────

export interface SsoSettingsView {
  configured: boolean;
  displayName: string;
  issuer: string;
  clientId: string;
  clientSecretSet: boolean;
  scopes: string;
  allowedDomains: string[];
  jitEnabled: boolean;
  defaultRole: string | null;
  providerEnforcesMfa: boolean;
  ssoOnly: boolean;
  enabled: boolean;
  verifiedAt: Date | null;
}

const UNCONFIGURED: SsoSettingsView = {
  configured: false,
  displayName: '',
  issuer: '',
  clientId: '',
  clientSecretSet: false,
  scopes: 'openid email profile',
  allowedDomains: [],
  jitEnabled: false,
  defaultRole: null,
  providerEnforcesMfa: false,
  ssoOnly: false,
  enabled: false,
  verifiedAt: null,
};

function toView(row: SsoSettingsRow | undefined): SsoSettingsView {
  if (!row) return UNCONFIGURED;
  const { clientSecret, tenantId: _, updatedAt: __, ...rest } = row;
  return { ...rest, configured: true, clientSecretSet: clientSecret !== null };
}

/** The tenant's SSO settings without the secret (only whether one is set). */
export async function getSsoSettings(ctx: RequestContext): Promise<SsoSettingsView> {
  requirePermission(ctx.actor, 'settings.read');
  return toView(await ctx.db.withTenant(ctx.tenant.id, (tx) => findSettings(tx)));
}

/** The roles people created at their first sign-in may get: every role that is not privileged. */
export async function provisionableRoles(ctx: RequestContext): Promise<{ slug: string; name: string }[]> {
  requirePermission(ctx.actor, 'settings.read');
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const roles: { slug: string; name: string }[] = [];
    for (const slug of await roleSlugs(tx, tenantId)) {
      const role = await findRole(tx, tenantId, slug);
      if (role && !isPrivilegedRole(role)) roles.push({ slug: role.slug, name: role.name });
    }
    return roles;
  });
}

/** A refused settings change worth keeping in the trail (a lockout the rules prevented). */
export class SsoSettingsRefused extends InvalidInput {}

/**
 * Why SSO-only may not be on with these settings, or undefined. Owners keep their passwords either way (the
 * break-glass), but everyone else would be locked out by a provider that does not work: so SSO must be on, and
 * a sign-in through this very provider (issuer, client id and secret as saved) must have succeeded.
 */
function ssoOnlyProblem(next: SsoSettingsInput, verifiedAt: Date | null): string | undefined {
  if (!next.ssoOnly) return undefined;
  if (!next.enabled) return 'turn single sign-on on before making it the only way in';
  if (!verifiedAt) {
    return 'sign in once with single sign-on using these provider settings before making it the only way in';
  }
  return undefined;
}

async function checkDefaultRole(tx: Tx, tenantId: string, input: SsoSettingsInput): Promise<void> {
  if (input.jitEnabled && !input.defaultRole) {
    throw new InvalidInput('choose the role people created at their first sign-in get', {
      defaultRole: 'choose a role for new people',
    });
  }
  if (!input.defaultRole) return;
  const role = await findRole(tx, tenantId, input.defaultRole);
  if (!role) throw new InvalidInput(`unknown role "${input.defaultRole}"`, { defaultRole: 'unknown role' });
  if (isPrivilegedRole(role)) {
    throw new InvalidInput(`${role.name} is a privileged role: people cannot get it just by signing in`, {
      defaultRole: 'a privileged role (such as owner or security admin) cannot be the default; grant it to people one by one',
    });
  }
}

/** Which settings changed, for the trail (the secret only as "changed", never its value). */
function changedFields(before: SsoSettingsRow | undefined, next: SsoSettingsInput): string[] {
  const view = toView(before);
  const fields = (Object.keys(next) as (keyof SsoSettingsInput)[]).filter((k) => k !== 'clientSecret');
  const changed = fields.filter((k) => JSON.stringify(view[k]) !== JSON.stringify(next[k]));
  return next.clientSecret !== undefined ? [...changed, 'clientSecret'] : changed;
}

/** Saves the tenant's SSO settings (settings.manage); the secret is kept when none is given. */
export async function updateSsoSettings(ctx: RequestContext, input: SsoSettingsInput): Promise<SsoSettingsView> {
  requirePermission(ctx.actor, 'settings.manage');
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  const result = await ctx.db.withTenant(tenantId, async (tx): Promise<{ refusal: string } | { view: SsoSettingsView }> => {
    await checkDefaultRole(tx, tenantId, input);
    const before = await lockSettings(tx);
    const providerChanged =
      !before || before.issuer !== input.issuer || before.clientId !== input.clientId || input.clientSecret !== undefined;
    const verifiedAt = providerChanged ? null : (before?.verifiedAt ?? null);
    const problem = ssoOnlyProblem(input, verifiedAt);
    if (problem) {
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'sso.settings_refused',
        target: { type: 'sso_settings', id: tenantId },
        outcome: 'denied',
        details: { reason: problem },
      });
      return { refusal: problem };
    }
    const clientSecret =
      input.clientSecret !== undefined
        ? clientSecretColumn.seal(await ctx.keys.forTenant(tx, tenantId), tenantId, input.clientSecret)
        : (before?.clientSecret ?? null);
    const { clientSecret: _, ...values } = input;
    const changed = changedFields(before, input);
    await saveSettings(tx, tenantId, { ...values, clientSecret, verifiedAt }, now);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'sso.settings_changed',
      target: { type: 'sso_settings', id: tenantId },
      details: {
        changed,
        enabled: input.enabled,
        ssoOnly: input.ssoOnly,
        issuer: input.issuer,
        jitEnabled: input.jitEnabled,
        defaultRole: input.defaultRole,
      },
    });
    return { view: toView(await findSettings(tx)) };
  });
  if ('refusal' in result) throw new SsoSettingsRefused(result.refusal, { ssoOnly: result.refusal });
  return result.view;
}

// ─── Talking to the provider ────────────────────────────────────────────────────────────────────────────────

interface ProviderSettings {
  row: SsoSettingsRow;
  secret: string | null;
}

async function providerSettings(tx: Tx, ctx: RequestContext): Promise<ProviderSettings | undefined> {
  const row = await findSettings(tx);
  if (!row) return undefined;
  const secret = row.clientSecret
    ? clientSecretColumn.open(await ctx.keys.forTenant(tx, ctx.tenant.id), ctx.tenant.id, row.clientSecret)
    : null;
  return { row, secret };
}

/** The OpenID Connect client (with its JOSE library), loaded when single sign-on is first used. */
const openidClient = () => import('openid-client');

/** Discovery (/.well-known/openid-configuration), client authentication with the secret when there is one. */
async function discover(settings: ProviderSettings): Promise<Oidc.Configuration> {
  const oidc = await openidClient();
  const issuer = new URL(settings.row.issuer);
  const auth = settings.secret ? oidc.ClientSecretBasic(settings.secret) : oidc.None();
  return oidc.discovery(issuer, settings.row.clientId, undefined, auth, {
    timeout: PROVIDER_TIMEOUT_SECONDS,
    // Plain http only ever reaches here for loopback issuers (see issuerProblem).
    ...(issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
  });
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${message}${cause}`.slice(0, 300);
}

/** Runs discovery with the saved settings and says what was found, or what went wrong (settings.manage). */
export async function checkSsoProvider(ctx: RequestContext): Promise<SsoCheck> {
  requirePermission(ctx.actor, 'settings.manage');
  const settings = await ctx.db.withTenant(ctx.tenant.id, (tx) => providerSettings(tx, ctx));
  if (!settings) throw new NotFound('single sign-on settings');
  let check: SsoCheck;
  try {
    const metadata = (await discover(settings)).serverMetadata();
    const pkceS256 = metadata.supportsPKCE('S256');
    check = {
      ok: pkceS256,
      message: pkceS256
        ? `Found ${metadata.issuer}: sign-in will use its authorization endpoint with PKCE.`
        : `Found ${metadata.issuer}, but it does not announce PKCE with S256, which Candor requires.`,
      issuer: metadata.issuer,
      ...(metadata.authorization_endpoint ? { authorizationEndpoint: metadata.authorization_endpoint } : {}),
      ...(metadata.token_endpoint ? { tokenEndpoint: metadata.token_endpoint } : {}),
      pkceS256,
    };
  } catch (error) {
    check = { ok: false, message: `Discovery at ${settings.row.issuer} failed: ${errorText(error)}` };
  }
  await ctx.db.withTenant(ctx.tenant.id, (tx) =>
    ctx.audit.record(tx, auditScope(ctx), {
      action: 'sso.checked',
      target: { type: 'sso_settings', id: ctx.tenant.id },
      outcome: check.ok ? 'success' : 'failed',
      details: { issuer: settings.row.issuer, message: check.message },
    }),
  );
  return check;
}

// ─── The login page and passwords ───────────────────────────────────────────────────────────────────────────

export interface SsoLoginOffer {
  displayName: string;
  ssoOnly: boolean;
}

/** What the sign-in page offers: "Sign in with <name>" when SSO is on, and whether passwords are for owners only. */
export async function ssoLoginOffer(ctx: RequestContext): Promise<SsoLoginOffer | undefined> {
  const row = await ctx.db.withTenant(ctx.tenant.id, (tx) => findSettings(tx));
  return row?.enabled ? { displayName: row.displayName, ssoOnly: row.ssoOnly } : undefined;
}

/**
 * SSO-only: passwords (sign-in and reset) are refused to everyone but owners, who keep theirs so that a broken
 * provider cannot lock the company out of its own workspace.
 */
export const ssoPasswordGate: PasswordGate = async (tx, ctx, user) => {
  const row = await findSettings(tx);
  if (!row?.enabled || !row.ssoOnly) return undefined;
  const access = await resolveAccess(tx, ctx.tenant.id, user.id);
  if (access.roles.includes('owner')) return undefined;
  return `${ctx.tenant.name} signs in with ${row.displayName}: use “Sign in with ${row.displayName}”. Passwords work only for owners.`;
};

// ─── The sign-in flow ───────────────────────────────────────────────────────────────────────────────────────

export interface StartedSignIn {
  authorizationUrl: string;
  /** Goes into a short-lived cookie: the callback must come back to the browser that started. */
  browserToken: string;
}

/** Starts a sign-in: keeps state, nonce and PKCE verifier in the database and returns the provider's URL. */
export async function startSsoSignIn(ctx: RequestContext, input: { origin: string; next: string }): Promise<StartedSignIn> {
  const now = ctx.clock.now();
  const settings = await ctx.db.withTenant(ctx.tenant.id, (tx) => providerSettings(tx, ctx));
  if (!settings?.row.enabled) throw new NotFound('single sign-on');
  const oidc = await openidClient();
  let config: Oidc.Configuration;
  try {
    config = await discover(settings);
  } catch (error) {
    throw new SsoUnavailable(`${settings.row.displayName} cannot be reached right now (${errorText(error)}); try again later.`);
  }
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const browserToken = newSecret();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUriFor(input.origin),
    scope: settings.row.scopes,
    response_type: 'code',
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    await deleteExpiredLoginStates(tx, now);
    await insertLoginState(tx, {
      tenantId: ctx.tenant.id,
      stateHash: sha256Hex(state),
      browserHash: sha256Hex(browserToken),
      nonce,
      codeVerifier,
      nextPath: input.next,
      expiresAt: new Date(now.getTime() + LOGIN_STATE_TTL_MS),
    });
  });
  return { authorizationUrl: authorizationUrl.href, browserToken };
}

/** The provider could not be reached to start a sign-in. */
export class SsoUnavailable extends Forbidden {}

/** A refused SSO sign-in: `message` is for the person, `reason` a stable slug for the trail. */
export class SsoRefused extends Forbidden {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface Refusal {
  reason: string;
  message: string;
  userId?: string;
  details?: Record<string, string | boolean | null>;
}

async function recordRefusal(tx: Tx, ctx: RequestContext, refusal: Refusal): Promise<void> {
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'sso.refused',
    target: { type: 'user', id: refusal.userId ?? null },
    outcome: 'denied',
    details: { reason: refusal.reason, ...(refusal.details ?? {}) },
  });
}

/** Records a refusal in a transaction of its own and throws it. */
async function refuse(ctx: RequestContext, refusal: Refusal): Promise<never> {
  await ctx.db.withTenant(ctx.tenant.id, (tx) => recordRefusal(tx, ctx, refusal));
  throw new SsoRefused(refusal.reason, refusal.message);
}

const START_AGAIN = 'Start again from the sign-in page.';

export interface CallbackInput {
  /** The full URL the provider sent the browser back to (code, state, iss). */
  callbackUrl: URL;
  /** The value of the browser-binding cookie set at the start, if the browser sent it. */
  browserToken: string | undefined;
}

interface SpentState {
  settings: ProviderSettings;
  nonce: string;
  codeVerifier: string;
  nextPath: string;
  state: string;
}

/** Spends the login state named by the callback (single use) and checks it belongs to this browser, in time. */
async function spendLoginState(ctx: RequestContext, input: CallbackInput): Promise<SpentState | Refusal> {
  const params = input.callbackUrl.searchParams;
  const state = params.get('state');
  const providerError = params.get('error');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = state ? await takeLoginState(tx, sha256Hex(state)) : undefined;
    if (!state || !row) {
      return { reason: 'unknown_state', message: `This sign-in link is unknown or was already used. ${START_AGAIN}` };
    }
    if (row.expiresAt <= ctx.clock.now()) {
      return { reason: 'expired_state', message: `This sign-in took too long. ${START_AGAIN}` };
    }
    if (!input.browserToken || sha256Hex(input.browserToken) !== row.browserHash) {
      return { reason: 'other_browser', message: `This sign-in was started in another browser. ${START_AGAIN}` };
    }
    if (providerError) {
      const description = (params.get('error_description') ?? '').slice(0, 200);
      return {
        reason: 'provider_error',
        message: `The identity provider did not sign you in (${providerError}${description ? `: ${description}` : ''}).`,
        details: { error: providerError.slice(0, 100), description },
      };
    }
    const settings = await providerSettings(tx, ctx);
    if (!settings?.row.enabled) return { reason: 'sso_disabled', message: 'Single sign-on is turned off for this workspace.' };
    return { settings, nonce: row.nonce, codeVerifier: row.codeVerifier, nextPath: row.nextPath, state };
  });
}

/** What the provider says about the person, once the code is exchanged and the ID token verified. */
interface ProviderIdentity {
  issuer: string;
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
  secondFactor: boolean;
}

/** Exchanges the code (PKCE verifier, expected state and nonce) and reads the verified claims. */
async function exchangeCode(spent: SpentState, callbackUrl: URL): Promise<ProviderIdentity> {
  const oidc = await openidClient();
  const config = await discover(spent.settings);
  const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: spent.codeVerifier,
    expectedState: spent.state,
    expectedNonce: spent.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims) throw new Error('the provider sent no ID token');
  // Some providers keep email and name for the userinfo endpoint; the subject must match the ID token's.
  const profile =
    typeof claims.email === 'string'
      ? claims
      : { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
  const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : [];
  return {
    issuer: claims.iss,
    subject: claims.sub,
    email: typeof profile.email === 'string' ? profile.email.trim().toLowerCase() : undefined,
    emailVerified: profile.email_verified === true || profile.email_verified === 'true',
    name: typeof profile.name === 'string' ? profile.name : undefined,
    secondFactor: spent.settings.row.providerEnforcesMfa || amr.some((v) => SECOND_FACTOR_AMR.has(v)),
  };
}

function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

/** The name a person created at their first sign-in gets: the provider's, else the email's local part. */
function provisionedName(identity: ProviderIdentity & { email: string }): string {
  const name = identity.name?.trim() || identity.email.slice(0, identity.email.indexOf('@'));
  return name.slice(0, 120);
}

type Matched = { user: User; link: 'existing' | 'new'; provisioned: boolean } | Refusal;

/**
 * The person an identity signs in as: the one linked to (issuer, subject); else, on first use, the person
 * with the verified email (then linked); else a new person when just-in-time provisioning is on.
 */
async function matchPerson(tx: Tx, ctx: RequestContext, row: SsoSettingsRow, identity: ProviderIdentity): Promise<Matched> {
  const { email } = identity;
  const who = { email: email ?? null, subject: identity.subject };
  if (!email) return { reason: 'no_email', message: 'The identity provider did not share your email address.', details: who };
  if (!identity.emailVerified) {
    return {
      reason: 'email_not_verified',
      message: `The identity provider has not verified ${email}; verify it there first.`,
      details: who,
    };
  }
  if (row.allowedDomains.length > 0 && !row.allowedDomains.includes(emailDomain(email))) {
    return { reason: 'domain_not_allowed', message: `Addresses at ${emailDomain(email)} may not sign in here.`, details: who };
  }
  const linked = await findIdentity(tx, identity.issuer, identity.subject);
  if (linked) {
    const user = await findPersonById(tx, linked.userId);
    if (user) return { user, link: 'existing', provisioned: false };
  }
  const byEmail = await findPersonByEmail(tx, email);
  if (byEmail) {
    // Someone else at the provider already speaks for this person: a reused or changed email does not take over.
    const other = await findIdentityOfUser(tx, identity.issuer, byEmail.id);
    if (other && other.subject !== identity.subject) {
      return {
        reason: 'linked_to_other_identity',
        message: `${email} is already linked to another account at the identity provider.`,
        userId: byEmail.id,
        details: who,
      };
    }
    return { user: byEmail, link: 'new', provisioned: false };
  }
  if (!row.jitEnabled || !row.defaultRole) {
    return {
      reason: 'unknown_person',
      message: `There is no account for ${email} here. Ask an administrator to add you.`,
      details: who,
    };
  }
  const role = await findRole(tx, ctx.tenant.id, row.defaultRole);
  if (!role || isPrivilegedRole(role)) {
    return {
      reason: 'default_role_unusable',
      message: 'New accounts cannot be created right now: ask an administrator.',
      details: who,
    };
  }
  const user = await provisionPerson(
    tx,
    { ...ctx, actor: SSO_ACTOR },
    { email, name: provisionedName({ ...identity, email }), role: role.slug },
    'sso',
  );
  await ctx.audit.record(
    tx,
    { ...auditScope(ctx), actor: SSO_ACTOR },
    {
      action: 'sso.user_provisioned',
      target: { type: 'user', id: user.id },
      details: { email, role: role.slug, issuer: identity.issuer, subject: identity.subject },
    },
  );
  return { user, link: 'new', provisioned: true };
}

/**
 * Finishes a sign-in at the callback: spends the login state, exchanges the code, matches (or creates) the
 * person and opens their session. Every refusal is recorded as `sso.refused` and thrown as SsoRefused.
 */
export async function finishSsoSignIn(ctx: RequestContext, input: CallbackInput): Promise<NewSession & { next: string }> {
  const spent = await spendLoginState(ctx, input);
  if (!('settings' in spent)) return refuse(ctx, spent);
  let identity: ProviderIdentity;
  try {
    identity = await exchangeCode(spent, input.callbackUrl);
  } catch (error) {
    return refuse(ctx, {
      reason: 'token_rejected',
      message: `${spent.settings.row.displayName} did not confirm this sign-in (${errorText(error)}). ${START_AGAIN}`,
      details: { error: errorText(error) },
    });
  }
  const now = ctx.clock.now();
  const tenantId = ctx.tenant.id;
  const result = await ctx.db.withTenant(tenantId, async (tx): Promise<{ refusal: Refusal } | { session: NewSession }> => {
    const matched = await matchPerson(tx, ctx, spent.settings.row, identity);
    if ('reason' in matched) {
      await recordRefusal(tx, ctx, matched);
      return { refusal: matched };
    }
    const { user } = matched;
    if (user.deactivatedAt) {
      const refusal = {
        reason: 'deactivated',
        message: 'This account is deactivated.',
        userId: user.id,
        details: { email: user.email },
      };
      await recordRefusal(tx, ctx, refusal);
      return { refusal };
    }
    if (matched.link === 'new') {
      await insertIdentity(tx, {
        tenantId,
        issuer: identity.issuer,
        subject: identity.subject,
        userId: user.id,
        email: identity.email ?? user.email,
        linkedAt: now,
      });
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'sso.identity_linked',
        target: { type: 'user', id: user.id },
        details: { issuer: identity.issuer, subject: identity.subject, email: identity.email ?? null },
      });
    }
    await touchIdentity(tx, identity.issuer, identity.subject, now);
    // A working sign-in proves the saved provider settings (SSO-only may be turned on from now on).
    await markSettingsVerified(tx, now);
    const scope = { ...auditScope(ctx), actor: personActor(user, await resolveAccess(tx, tenantId, user.id)) };
    const sessionId = await openSession(tx, ctx, scope, user, { method: 'sso', secondFactor: identity.secondFactor });
    return { session: { sessionId, user } };
  });
  if ('refusal' in result) throw new SsoRefused(result.refusal.reason, result.refusal.message);
  return { ...result.session, next: spent.nextPath };
}
