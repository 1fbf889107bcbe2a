import { randomBytes } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { generateSecret, generateURI, verify as verifyOtp } from 'otplib';
import { auditScope } from '../../platform/audit/audit.ts';
import type { Actor, RequestContext } from '../../platform/context.ts';
import { encryptedTextColumn, type Reencryptable } from '../../platform/crypto/reencryption.ts';
import { sha256Hex } from '../../platform/crypto/secrets.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Conflict, InvalidInput, NotFound, Unauthorized } from '../../platform/errors.ts';
import { AccessDenied, requirePermission, roleSlugs } from '../access/service.ts';
import {
  actorOfPerson,
  checkSecondFactorAllowed,
  findPerson,
  forgetSecondFactorOfPerson,
  markSessionSecondFactor,
  type NewSession,
  openSession,
  passwordMatches,
  recordSecondFactorFailure,
  recordSecondFactorSuccess,
} from '../identity/service.ts';
import {
  ConfirmTotpForm,
  MfaPolicyBody,
  PasskeyAssertionBody,
  PasskeyName,
  PasskeyRegistrationBody,
  ReauthForm,
  RecoveryCode,
  TotpCode,
  TotpSecret,
} from './schema.ts';
import {
  countUnusedRecoveryCodes,
  deleteExpiredChallenges,
  deletePasskeyRow,
  deletePasskeys,
  deleteRecoveryCodes,
  deleteTotp,
  findPolicy,
  findTotp,
  insertChallenge,
  insertPasskey,
  insertTotp,
  listPasskeyRows,
  lockPasskeyByCredential,
  lockTotp,
  type PasskeyRow,
  recordPasskeyUse,
  replaceRecoveryCodes,
  savePolicyRoles,
  setTotpLastStep,
  spendRecoveryCode,
  takeChallenge,
} from './store.ts';
import { mfaTotp } from './tables.ts';

/** The WebAuthn library (some 70 modules with its certificate parsers), loaded when a passkey is first used. */
const webauthn = () => import('@simplewebauthn/server');

/** The roles that must use a second factor in a tenant that has not chosen otherwise. */
export const DEFAULT_POLICY_ROLES: readonly string[] = ['owner', 'security-admin'];
export const RECOVERY_CODE_COUNT = 10;
const TOTP_PERIOD_S = 30;
/** ±1 time step: a code from the previous or next 30 seconds still counts (clock drift, typing time). */
const TOTP_TOLERANCE_S = TOTP_PERIOD_S;
const CHALLENGE_TTL_MS = 5 * 60 * 1000;

/** TOTP secrets are sealed with the tenant's data key and bound to their person's row. */
const totpSecret = encryptedTextColumn({
  table: mfaTotp,
  tenantId: mfaTotp.tenantId,
  rowId: mfaTotp.userId,
  column: mfaTotp.secret,
});
export const mfaEncryptedColumns: Reencryptable[] = [totpSecret];

/** Where WebAuthn ceremonies happen: the relying party id (the tenant's host name) and the page's origin. */
export interface WebAuthnSite {
  rpId: string;
  origin: string;
}

export interface PasskeyInfo {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface MfaStatus {
  userId: string;
  enrolled: boolean;
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: PasskeyInfo[];
  /** Whether the tenant's policy requires a second factor of this person. */
  required: boolean;
}

function signedInPerson(ctx: RequestContext): Extract<Actor, { kind: 'user' }> {
  if (ctx.actor.kind !== 'user') throw new Unauthorized('sign in first');
  return ctx.actor;
}

const passkeyInfo = (row: PasskeyRow): PasskeyInfo => ({
  id: row.id,
  name: row.name,
  createdAt: row.createdAt,
  lastUsedAt: row.lastUsedAt,
});

async function policyRolesIn(tx: Tx): Promise<readonly string[]> {
  return (await findPolicy(tx))?.roles ?? DEFAULT_POLICY_ROLES;
}

async function statusIn(tx: Tx, userId: string, roles: readonly string[]): Promise<MfaStatus> {
  const totp = Boolean(await findTotp(tx, userId));
  const passkeys = (await listPasskeyRows(tx, userId)).map(passkeyInfo);
  const policy = await policyRolesIn(tx);
  return {
    userId,
    enrolled: totp || passkeys.length > 0,
    totp,
    recoveryCodesLeft: await countUnusedRecoveryCodes(tx, userId),
    passkeys,
    required: roles.some((r) => policy.includes(r)),
  };
}

/** The signed-in person's own factors. */
export function ownMfaStatus(ctx: RequestContext): Promise<MfaStatus> {
  const me = signedInPerson(ctx);
  return ctx.db.withTenant(ctx.tenant.id, (tx) => statusIn(tx, me.id, me.roles));
}

/** Another person's factors (never the secrets), for people who may read people. */
export async function personMfaStatus(ctx: RequestContext, userId: string): Promise<MfaStatus> {
  requirePermission(ctx.actor, 'users.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const person = await findPerson(tx, userId);
    if (!person) throw new NotFound('person', userId);
    const actor = await actorOfPerson(tx, ctx.tenant.id, person);
    return statusIn(tx, userId, actor.kind === 'user' ? actor.roles : []);
  });
}

// ─── The gate ───────────────────────────────────────────────────────────────────────────────────────────────

/** What a signed-in session may do: go on, prove its second factor first, or enrol one first. */
export type MfaGate = 'pass' | 'challenge' | 'enrol';

/**
 * Decides for every back-office request of a session that has not proven a second factor: a person with a
 * factor must use it; a person the policy covers must enrol one; anyone else goes on. Turning the policy on
 * therefore locks nobody out: they are led to enrol at their next request.
 */
export async function mfaGate(ctx: RequestContext, session: { secondFactorAt: Date | null }): Promise<MfaGate> {
  if (session.secondFactorAt || ctx.actor.kind !== 'user') return 'pass';
  const me = ctx.actor;
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    if ((await findTotp(tx, me.id)) || (await listPasskeyRows(tx, me.id)).length > 0) return 'challenge';
    const policy = await policyRolesIn(tx);
    return me.roles.some((r) => policy.includes(r)) ? 'enrol' : 'pass';
  });
}

// ─── TOTP ───────────────────────────────────────────────────────────────────────────────────────────────────

const epochOf = (ctx: RequestContext) => Math.floor(ctx.clock.now().getTime() / 1000);

/** The time step a code belongs to (within ±1 step of now), or undefined when it is wrong. */
async function matchingStep(ctx: RequestContext, secret: string, code: string): Promise<number | undefined> {
  const result = await verifyOtp({ secret, token: code, epoch: epochOf(ctx), epochTolerance: TOTP_TOLERANCE_S });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

export interface TotpEnrolment {
  secret: string;
  uri: string;
  /** The otpauth URI as an SVG QR code (markup generated by us from the URI, safe to embed). */
  qrSvg: string;
}

/**
 * A fresh secret to enrol, shown to the person as a QR code and as text. Nothing is stored until the person
 * confirms it with a first code (confirmTotp), so an abandoned enrolment leaves nothing behind.
 */
export async function startTotpEnrolment(ctx: RequestContext, retry?: string): Promise<TotpEnrolment> {
  const me = signedInPerson(ctx);
  // A retry after a wrong first code keeps the secret the person's app has already scanned.
  const secret = retry && TotpSecret.safeParse(retry).success ? retry : generateSecret();
  const uri = generateURI({ issuer: ctx.tenant.name, label: me.email, secret });
  const { default: QRCode } = await import('qrcode'); // loaded when someone enrols, not at every start
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret, uri, qrSvg };
}

/** Enrols the secret once a first code proves the person's app has it; returns the new recovery codes. */
export async function confirmTotp(ctx: RequestContext, sessionIdHash: string, input: ConfirmTotpForm): Promise<string[]> {
  const me = signedInPerson(ctx);
  const form = ConfirmTotpForm.parse(input);
  const step = await matchingStep(ctx, form.secret, form.code);
  if (step === undefined) {
    throw new InvalidInput('that code does not match; check the time on your phone and try the next code', {
      code: 'that code does not match the secret',
    });
  }
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const cipher = await ctx.keys.forTenant(tx, tenantId);
    const sealed = totpSecret.seal(cipher, me.id, form.secret);
    // The confirming code's step counts as used: it cannot be replayed as a second factor.
    if (!(await insertTotp(tx, { tenantId, userId: me.id, secret: sealed, lastUsedStep: step }))) {
      throw new Conflict('you already have an authenticator app; remove it before enrolling another');
    }
    await ctx.audit.record(tx, auditScope(ctx), { action: 'mfa.totp_enrolled', target: { type: 'user', id: me.id } });
    const codes = await issueRecoveryCodes(ctx, tx, me.id);
    await markSessionSecondFactor(tx, sessionIdHash, ctx.clock.now());
    return codes;
  });
}

function newRecoveryCode(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => alphabet[b % 32]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

/** Ten new codes replace any earlier ones (old codes die); only their hashes are kept. */
async function issueRecoveryCodes(ctx: RequestContext, tx: Tx, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const hashes = codes.map((c) => sha256Hex(RecoveryCode.parse(c)));
  await replaceRecoveryCodes(tx, ctx.tenant.id, userId, hashes);
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'mfa.recovery_codes_generated',
    target: { type: 'user', id: userId },
    details: { count: codes.length },
  });
  return codes;
}

/**
 * Checks a TOTP code against the person's factor in `tx` (the row locked, so two requests with one code are
 * decided one after the other) and spends its time step. Answers why it failed, or undefined on success.
 */
async function spendTotpCode(ctx: RequestContext, tx: Tx, userId: string, rawCode: string): Promise<string | undefined> {
  const code = TotpCode.safeParse(rawCode);
  if (!code.success) return 'malformed code';
  const row = await lockTotp(tx, userId);
  if (!row) return 'no authenticator app enrolled';
  const secret = totpSecret.open(await ctx.keys.forTenant(tx, ctx.tenant.id), userId, row.secret);
  const step = await matchingStep(ctx, secret, code.data);
  if (step === undefined) return 'wrong code';
  if (step <= row.lastUsedStep) return 'code already used';
  await setTotpLastStep(tx, userId, step);
  return undefined;
}

/** Records a failed second-factor attempt: counted by the throttle and kept in the trail for detection. */
async function recordFailure(
  ctx: RequestContext,
  tx: Tx,
  user: { id: string | null; email: string | null },
  details: { method: string; reason: string; purpose?: string },
): Promise<void> {
  if (user.email) await recordSecondFactorFailure(tx, ctx, user.email);
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'mfa.failed',
    target: { type: 'user', id: user.id },
    outcome: 'failed',
    details: { ...(user.email ? { email: user.email } : {}), ...details },
  });
}

export interface SecondFactorResult {
  method: 'totp' | 'recovery-code' | 'passkey';
  /** After a recovery code: how many are left. */
  recoveryCodesLeft?: number;
}

/**
 * The challenge after the password: a TOTP code or a recovery code. Wrong codes are counted by the
 * second-factor throttle and recorded as `mfa.failed` (the failure commits; the error is thrown after).
 */
export async function proveSecondFactor(
  ctx: RequestContext,
  sessionIdHash: string,
  input: { code?: string | undefined; recoveryCode?: string | undefined },
): Promise<SecondFactorResult> {
  const me = signedInPerson(ctx);
  const useRecovery = !input.code?.trim() && Boolean(input.recoveryCode?.trim());
  const outcome = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    await checkSecondFactorAllowed(tx, ctx, me.email);
    let failure: string | undefined;
    let result: SecondFactorResult;
    if (useRecovery) {
      const parsed = RecoveryCode.safeParse(input.recoveryCode ?? '');
      const spent = parsed.success && (await spendRecoveryCode(tx, me.id, sha256Hex(parsed.data), ctx.clock.now()));
      failure = spent ? undefined : 'wrong or used recovery code';
      result = { method: 'recovery-code', recoveryCodesLeft: await countUnusedRecoveryCodes(tx, me.id) };
    } else {
      failure = await spendTotpCode(ctx, tx, me.id, input.code ?? '');
      result = { method: 'totp' };
    }
    if (failure) {
      await recordFailure(ctx, tx, me, { method: result.method, reason: failure });
      return { failure };
    }
    await passed(ctx, tx, me, sessionIdHash, result);
    return { result };
  });
  if ('failure' in outcome) {
    const field = useRecovery ? 'recoveryCode' : 'code';
    throw new InvalidInput(
      useRecovery ? 'that recovery code is not valid or was already used' : 'that code is not valid; wait for the next one',
      { [field]: 'not accepted' },
    );
  }
  return outcome.result;
}

async function passed(
  ctx: RequestContext,
  tx: Tx,
  me: { id: string; email: string },
  sessionIdHash: string,
  result: SecondFactorResult,
): Promise<void> {
  await recordSecondFactorSuccess(tx, me.email);
  await markSessionSecondFactor(tx, sessionIdHash, ctx.clock.now());
  await ctx.audit.record(tx, auditScope(ctx), {
    action: result.method === 'recovery-code' ? 'mfa.recovery_code_used' : 'mfa.verified',
    target: { type: 'user', id: me.id },
    details: { method: result.method, ...(result.recoveryCodesLeft !== undefined ? { left: result.recoveryCodesLeft } : {}) },
  });
}

/**
 * Proves it is the person at the keyboard before a factor is removed or codes are replaced: their password, or
 * a current TOTP code (spent like any other). A wrong answer is recorded as `mfa.failed` and changes nothing.
 */
async function reauthenticate(ctx: RequestContext, purpose: string, input: ReauthForm): Promise<void> {
  const me = signedInPerson(ctx);
  const form = ReauthForm.parse(input);
  const byPassword = Boolean(form.password);
  const ok = byPassword ? await passwordMatches(ctx, me.id, form.password ?? '') : undefined;
  const failure = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    await checkSecondFactorAllowed(tx, ctx, me.email);
    const reason = byPassword ? (ok ? undefined : 'wrong password') : await spendTotpCode(ctx, tx, me.id, form.code ?? '');
    if (reason) await recordFailure(ctx, tx, me, { method: byPassword ? 'password' : 'totp', reason, purpose });
    return reason;
  });
  if (failure) {
    throw byPassword
      ? new InvalidInput('that is not your current password', { password: 'not your current password' })
      : new InvalidInput('that code is not valid', { code: 'not accepted' });
  }
}

/** Removes the person's authenticator app (password or a code first). */
export async function removeTotp(ctx: RequestContext, input: ReauthForm): Promise<void> {
  const me = signedInPerson(ctx);
  await reauthenticate(ctx, 'remove-totp', input);
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    if (!(await deleteTotp(tx, me.id))) throw new NotFound('authenticator app');
    await ctx.audit.record(tx, auditScope(ctx), { action: 'mfa.totp_removed', target: { type: 'user', id: me.id } });
    await dropCodesWithoutFactor(tx, me.id);
  });
}

/** Recovery codes stand in for a factor: with no factor left they would only be a way around nothing. */
async function dropCodesWithoutFactor(tx: Tx, userId: string): Promise<void> {
  if ((await findTotp(tx, userId)) || (await listPasskeyRows(tx, userId)).length > 0) return;
  await deleteRecoveryCodes(tx, userId);
  await forgetSecondFactorOfPerson(tx, userId);
}

/** New recovery codes (the old ones stop working); needs the password or a code, and a factor. */
export async function regenerateRecoveryCodes(ctx: RequestContext, input: ReauthForm): Promise<string[]> {
  const me = signedInPerson(ctx);
  ReauthForm.parse(input);
  const enrolled = await ctx.db.withTenant(ctx.tenant.id, async (tx) => (await statusIn(tx, me.id, [])).enrolled);
  if (!enrolled) throw new Conflict('enrol an authenticator app or a passkey first');
  await reauthenticate(ctx, 'regenerate-recovery-codes', input);
  return ctx.db.withTenant(ctx.tenant.id, (tx) => issueRecoveryCodes(ctx, tx, me.id));
}

// ─── Passkeys (WebAuthn) ───────────────────────────────────────────────────────────────────────────────────

type ChallengePurpose = 'register' | 'second-factor' | 'sign-in';

async function keepChallenge(ctx: RequestContext, tx: Tx, challenge: string, purpose: ChallengePurpose, userId: string | null) {
  const now = ctx.clock.now();
  await deleteExpiredChallenges(tx, now);
  await insertChallenge(tx, {
    tenantId: ctx.tenant.id,
    challenge,
    purpose,
    userId,
    expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS),
  });
}

/** The challenge the browser signed (from clientDataJSON), taken out of the table: single use. */
async function takeAnsweredChallenge(
  ctx: RequestContext,
  tx: Tx,
  clientDataJSON: string,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<string | undefined> {
  let challenge: unknown;
  try {
    challenge = (JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge;
  } catch {
    return undefined;
  }
  if (typeof challenge !== 'string') return undefined;
  const row = await takeChallenge(tx, challenge);
  if (!row || row.purpose !== purpose || row.userId !== userId || row.expiresAt <= ctx.clock.now()) return undefined;
  return challenge;
}

const userHandleOf = (userId: string) => new TextEncoder().encode(userId);

/** Options for navigator.credentials.create(): a discoverable credential with user verification. */
export async function passkeyRegistrationOptions(ctx: RequestContext, site: WebAuthnSite) {
  const me = signedInPerson(ctx);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const existing = await listPasskeyRows(tx, me.id);
    const options = await (await webauthn()).generateRegistrationOptions({
      rpName: ctx.tenant.name,
      rpID: site.rpId,
      userName: me.email,
      userDisplayName: me.name,
      userID: userHandleOf(me.id),
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    await keepChallenge(ctx, tx, options.challenge, 'register', me.id);
    return options;
  });
}

/** Verifies a new passkey and keeps it; counts as proving a second factor in this session. */
export async function registerPasskey(
  ctx: RequestContext,
  site: WebAuthnSite,
  sessionIdHash: string,
  input: PasskeyRegistrationBody,
): Promise<PasskeyInfo> {
  const me = signedInPerson(ctx);
  const body = PasskeyRegistrationBody.parse(input);
  const tenantId = ctx.tenant.id;
  const outcome = await ctx.db.withTenant(tenantId, async (tx) => {
    const challenge = await takeAnsweredChallenge(ctx, tx, body.response.response.clientDataJSON, 'register', me.id);
    const verified = challenge
      ? await (await webauthn())
          .verifyRegistrationResponse({
            response: body.response as unknown as RegistrationResponseJSON,
            expectedChallenge: challenge,
            expectedOrigin: site.origin,
            expectedRPID: site.rpId,
            requireUserVerification: true,
          })
          .catch(() => undefined)
      : undefined;
    const credential = verified?.verified ? verified.registrationInfo.credential : undefined;
    if (!credential) {
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'mfa.passkey_refused',
        target: { type: 'user', id: me.id },
        outcome: 'denied',
        details: { purpose: 'register', reason: challenge ? 'verification failed' : 'unknown or expired challenge' },
      });
      return { refused: true as const };
    }
    const row = await insertPasskey(tx, {
      tenantId,
      userId: me.id,
      name: PasskeyName.parse(body.name),
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      signCount: credential.counter,
      transports: credential.transports ?? [],
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'mfa.passkey_registered',
      target: { type: 'user', id: me.id },
      details: { credentialRef: row.id, name: row.name },
    });
    await markSessionSecondFactor(tx, sessionIdHash, ctx.clock.now());
    return { row };
  });
  if ('refused' in outcome) throw new InvalidInput('the passkey could not be verified; try again', { response: 'not verified' });
  return passkeyInfo(outcome.row);
}

export async function removePasskey(ctx: RequestContext, id: string): Promise<void> {
  const me = signedInPerson(ctx);
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await deletePasskeyRow(tx, me.id, id);
    if (!row) throw new NotFound('passkey', id);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'mfa.passkey_removed',
      target: { type: 'user', id: me.id },
      details: { credentialRef: row.id, name: row.name },
    });
    await dropCodesWithoutFactor(tx, me.id);
  });
}

/** Options for navigator.credentials.get() as a second factor: only the person's own passkeys. */
export async function passkeyChallengeOptions(ctx: RequestContext, site: WebAuthnSite) {
  const me = signedInPerson(ctx);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const mine = await listPasskeyRows(tx, me.id);
    const options = await (await webauthn()).generateAuthenticationOptions({
      rpID: site.rpId,
      allowCredentials: mine.map((p) => ({ id: p.credentialId, transports: p.transports })),
      userVerification: 'preferred',
    });
    await keepChallenge(ctx, tx, options.challenge, 'second-factor', me.id);
    return options;
  });
}

/** Options for passwordless sign-in: any discoverable credential of this site, user verification required. */
export async function passkeySignInOptions(ctx: RequestContext, site: WebAuthnSite) {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const options = await (await webauthn()).generateAuthenticationOptions({ rpID: site.rpId, userVerification: 'required' });
    await keepChallenge(ctx, tx, options.challenge, 'sign-in', null);
    return options;
  });
}

/**
 * Checks an assertion against the stored credential (row locked: the signature counter is compared and moved
 * in turn) and returns the credential's row, or why it was refused.
 */
async function checkAssertion(
  ctx: RequestContext,
  tx: Tx,
  site: WebAuthnSite,
  body: PasskeyAssertionBody,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<{ row: PasskeyRow } | { reason: string; row?: PasskeyRow }> {
  const challenge = await takeAnsweredChallenge(ctx, tx, body.response.response.clientDataJSON, purpose, userId);
  const row = await lockPasskeyByCredential(tx, body.response.id);
  if (!challenge) return { reason: 'unknown or expired challenge', ...(row ? { row } : {}) };
  if (!row || (userId && row.userId !== userId)) return { reason: 'unknown passkey', ...(row ? { row } : {}) };
  const verification = await (await webauthn())
    .verifyAuthenticationResponse({
      response: body.response as unknown as AuthenticationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: site.origin,
      expectedRPID: site.rpId,
      credential: {
        id: row.credentialId,
        publicKey: new Uint8Array(Buffer.from(row.publicKey, 'base64url')),
        counter: row.signCount,
        transports: row.transports,
      },
      requireUserVerification: purpose === 'sign-in',
    })
    .catch((error: unknown) => ({ verified: false as const, error }));
  if (!verification.verified) {
    const message = 'error' in verification && verification.error instanceof Error ? verification.error.message : '';
    return { reason: /counter/i.test(message) ? 'signature counter did not increase' : 'verification failed', row };
  }
  if (purpose === 'sign-in') {
    const handle = (body.response.response as { userHandle?: unknown }).userHandle;
    if (typeof handle !== 'string' || Buffer.from(handle, 'base64url').toString('utf8') !== row.userId) {
      return { reason: 'user handle does not match', row };
    }
  }
  await recordPasskeyUse(tx, row.id, verification.authenticationInfo.newCounter, ctx.clock.now());
  return { row };
}

/** A passkey as the second factor after the password. */
export async function provePasskey(
  ctx: RequestContext,
  site: WebAuthnSite,
  sessionIdHash: string,
  input: PasskeyAssertionBody,
): Promise<SecondFactorResult> {
  const me = signedInPerson(ctx);
  const body = PasskeyAssertionBody.parse(input);
  const failed = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    await checkSecondFactorAllowed(tx, ctx, me.email);
    const checked = await checkAssertion(ctx, tx, site, body, 'second-factor', me.id);
    if ('reason' in checked) {
      await recordFailure(ctx, tx, me, { method: 'passkey', reason: checked.reason });
      return true;
    }
    await passed(ctx, tx, me, sessionIdHash, { method: 'passkey' });
    return false;
  });
  if (failed) throw new InvalidInput('the passkey was not accepted', { response: 'not accepted' });
  return { method: 'passkey' };
}

/**
 * Passwordless sign-in: a discoverable passkey with user verification is both factors, so the session opens
 * with its second factor proven. Refusals are recorded as `mfa.failed` (with the person when the credential
 * is known).
 */
export async function signInWithPasskey(
  ctx: RequestContext,
  site: WebAuthnSite,
  input: PasskeyAssertionBody,
): Promise<NewSession> {
  const body = PasskeyAssertionBody.parse(input);
  const tenantId = ctx.tenant.id;
  const outcome = await ctx.db.withTenant(tenantId, async (tx) => {
    const checked = await checkAssertion(ctx, tx, site, body, 'sign-in', null);
    const person = checked.row ? await findPerson(tx, checked.row.userId) : undefined;
    if (person) await checkSecondFactorAllowed(tx, ctx, person.email);
    const reason = 'reason' in checked ? checked.reason : !person || person.deactivatedAt ? 'no active account' : undefined;
    if (reason || !person) {
      await recordFailure(
        ctx,
        tx,
        { id: person?.id ?? null, email: person?.email ?? null },
        {
          method: 'passkey',
          reason: reason ?? 'no active account',
          purpose: 'sign-in',
        },
      );
      return { refused: true as const };
    }
    await recordSecondFactorSuccess(tx, person.email);
    const scope = { ...auditScope(ctx), actor: await actorOfPerson(tx, tenantId, person) };
    const sessionId = await openSession(tx, ctx, scope, person, { method: 'passkey', secondFactor: true });
    return { session: { sessionId, user: person } };
  });
  if ('refused' in outcome) throw new InvalidInput('that passkey did not sign you in', { response: 'not accepted' });
  return outcome.session;
}

// ─── Administration ────────────────────────────────────────────────────────────────────────────────────────

/**
 * Removes every factor and recovery code of another person (a lost phone): they sign in with their password
 * and, if the policy covers them, are led to enrol again. Nobody resets their own.
 */
export async function resetPersonMfa(ctx: RequestContext, userId: string): Promise<MfaStatus> {
  requirePermission(ctx.actor, 'users.manage');
  if (ctx.actor.kind === 'user' && ctx.actor.id === userId) {
    throw new AccessDenied(
      'reset their own MFA',
      'you cannot reset your own MFA; remove factors on your account page',
      'users.manage',
    );
  }
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const person = await findPerson(tx, userId);
    if (!person) throw new NotFound('person', userId);
    const totp = await deleteTotp(tx, userId);
    const passkeys = await deletePasskeys(tx, userId);
    const recoveryCodes = await deleteRecoveryCodes(tx, userId);
    // Their open sessions no longer count as having proven a factor: the gate leads them to enrol again.
    await forgetSecondFactorOfPerson(tx, userId);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'mfa.reset',
      target: { type: 'user', id: userId },
      details: { email: person.email, authenticatorApp: totp, webauthnCredentials: passkeys, recoveryCodes },
    });
    const actor = await actorOfPerson(tx, ctx.tenant.id, person);
    return statusIn(tx, userId, actor.kind === 'user' ? actor.roles : []);
  });
}

export interface MfaPolicyView {
  roles: string[];
  updatedAt: Date | null;
  /** Every role of the tenant, to choose from. */
  available: string[];
}

export async function getMfaPolicy(ctx: RequestContext): Promise<MfaPolicyView> {
  requirePermission(ctx.actor, 'settings.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const policy = await findPolicy(tx);
    return {
      roles: policy?.roles ?? [...DEFAULT_POLICY_ROLES],
      updatedAt: policy?.updatedAt ?? null,
      available: await roleSlugs(tx, ctx.tenant.id),
    };
  });
}

/** Chooses the roles that require MFA; holders without a factor are sent to enrol at their next request. */
export async function updateMfaPolicy(ctx: RequestContext, input: MfaPolicyBody): Promise<MfaPolicyView> {
  requirePermission(ctx.actor, 'settings.manage');
  const body = MfaPolicyBody.parse(input);
  const roles = [...new Set(body.roles)].sort();
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const available = await roleSlugs(tx, ctx.tenant.id);
    const unknown = roles.filter((r) => !available.includes(r));
    if (unknown.length > 0) {
      throw new InvalidInput(`unknown role ${unknown.join(', ')}; valid roles: ${available.join(', ')}`, {
        roles: `unknown role ${unknown.join(', ')}`,
      });
    }
    const before = await policyRolesIn(tx);
    const now = ctx.clock.now();
    await savePolicyRoles(tx, ctx.tenant.id, roles, now);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'mfa.policy_updated',
      target: { type: 'mfa_policy', id: ctx.tenant.id },
      details: { roles, added: roles.filter((r) => !before.includes(r)), removed: before.filter((r) => !roles.includes(r)) },
    });
    return { roles, updatedAt: now, available };
  });
}
