import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import { newSecret, sha256Hex } from '../../platform/crypto/secrets.ts';
import { Gone } from '../../platform/errors.ts';
import { assertAcceptablePassword } from './passwords.ts';
import { hashPassword, type PasswordGate, PasswordNotAllowed, passwordContext } from './service.ts';
import {
  deleteUserSessions,
  findPasswordReset,
  findUserByEmail,
  findUserById,
  replacePasswordReset,
  setPasswordHash,
  takePasswordReset,
} from './store.ts';

/** Long enough to fetch the mail, short enough that a link found later in a mailbox is dead. */
export const RESET_LINK_TTL_MS = 60 * 60 * 1000;

const SPENT = 'this reset link is no longer valid (it was used, replaced by a newer one, or expired); ask for a new one';

/**
 * "Forgot password": mails a single-use link when the address has an account, and does nothing else
 * otherwise; the caller answers the same either way, so the form reveals no accounts.
 */
export async function requestPasswordReset(
  ctx: RequestContext,
  email: string,
  baseUrl: string,
  gate?: PasswordGate,
): Promise<void> {
  const token = newSecret();
  const now = ctx.clock.now();
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const user = await findUserByEmail(tx, email);
    const refusal = user && gate ? await gate(tx, ctx, user) : undefined;
    if (user && refusal) {
      // No link for someone who may not use a password; the form still answers as for anyone.
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'auth.password_reset_refused',
        target: { type: 'user', id: user.id },
        outcome: 'denied',
        details: { email, reason: 'password_not_allowed' },
      });
      return;
    }
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'auth.password_reset_requested',
      target: { type: 'user', id: user?.id ?? null },
      details: { email, known: user !== undefined },
    });
    if (!user) return;
    await replacePasswordReset(tx, {
      tenantId: ctx.tenant.id,
      userId: user.id,
      tokenHash: sha256Hex(token),
      expiresAt: new Date(now.getTime() + RESET_LINK_TTL_MS),
    });
    await ctx.mail.enqueue(tx, ctx.tenant.id, {
      to: user.email,
      subject: `Reset your ${ctx.tenant.name} password`,
      text: [
        `Someone (hopefully you) asked to reset the password of ${user.email} for ${ctx.tenant.name}.`,
        '',
        `Choose a new password here within the hour: ${baseUrl}/admin/reset-password/${token}`,
        '',
        'The link works once. If you did not ask for it, ignore this mail: your password stays as it is.',
      ].join('\n'),
    });
  });
}

/** Whether a reset link can still be spent (for showing its form). */
export async function checkResetLink(ctx: RequestContext, token: string): Promise<void> {
  const row = await ctx.db.withTenant(ctx.tenant.id, (tx) => findPasswordReset(tx, sha256Hex(token)));
  if (!row || row.expiresAt <= ctx.clock.now()) throw new Gone(SPENT);
}

/** Spends a reset link: sets the new password under the policy and ends every session of the person. */
export async function resetPassword(ctx: RequestContext, token: string, newPassword: string, gate?: PasswordGate): Promise<void> {
  const tenantId = ctx.tenant.id;
  const pending = await ctx.db.withTenant(tenantId, async (tx) => {
    const row = await findPasswordReset(tx, sha256Hex(token));
    return row && { row, user: await findUserById(tx, row.userId) };
  });
  if (!pending?.user || pending.row.expiresAt <= ctx.clock.now()) throw new Gone(SPENT);
  // Refused passwords leave the link usable: the person just tries another password.
  const password = assertAcceptablePassword(newPassword, passwordContext(ctx, pending.user.email), 'newPassword');
  const passwordHash = await hashPassword(password);
  const user = pending.user;
  const refusal = await ctx.db.withTenant(tenantId, async (tx) => {
    // A link mailed before the workspace went SSO-only does not bring passwords back.
    const refused = gate ? await gate(tx, ctx, user) : undefined;
    if (refused) {
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'auth.password_reset_refused',
        target: { type: 'user', id: user.id },
        outcome: 'denied',
        details: { reason: 'password_not_allowed' },
      });
      return refused;
    }
    // Deleting the row is the single use: of two requests racing with one link, only one deletes it.
    const taken = await takePasswordReset(tx, sha256Hex(token));
    if (!taken || taken.userId !== user.id) throw new Gone(SPENT);
    await setPasswordHash(tx, user.id, passwordHash);
    const ended = await deleteUserSessions(tx, user.id);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'auth.password_reset',
      target: { type: 'user', id: user.id },
      details: { sessionsEnded: ended },
    });
    return undefined;
  });
  if (refusal) throw new PasswordNotAllowed(refusal);
}
