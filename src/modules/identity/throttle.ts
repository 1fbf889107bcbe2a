import type { RequestContext } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { blockLogin, clearLoginFailures, countLoginFailure, findLoginBlock } from './store.ts';

/**
 * Progressive delay for password sign-in, per account and per client address. An account's first few
 * failures are free (typos), then each failure doubles the wait, up to a cap: a guesser gets a handful of
 * tries an hour while the owner is never locked out for long. The address counter allows more free failures
 * (an office behind one address) and catches credential stuffing: many accounts tried from one address.
 */
export const ACCOUNT_FREE_FAILURES = 3;
export const IP_FREE_FAILURES = 20;
export const MAX_DELAY_MS = 15 * 60 * 1000;
// Failures older than this no longer count: an occasional typo over weeks never adds up to a lockout.
const FAILURE_MEMORY_MS = 24 * 60 * 60 * 1000;

/** The wait after the `failures`-th failure: none while free, then 1 s, 2 s, 4 s … capped at 15 minutes. */
export function delayAfter(failures: number, free: number): number {
  if (failures <= free) return 0;
  return Math.min(1000 * 2 ** Math.min(failures - free - 1, 30), MAX_DELAY_MS);
}

/** Sign-in is refused until `retryAt`; the same wording whether or not the account exists. */
export class SignInThrottled extends Error {
  constructor(
    readonly retryAt: Date,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `Too many failed sign-ins. Try again in ${describeWait(retryAfterSeconds)} (after ${retryAt.toISOString().slice(11, 19)} UTC).`,
    );
  }
}

function describeWait(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

const accountKey = (email: string) => `account:${email.trim().toLowerCase()}`;
const ipKey = (ip: string) => `ip:${ip}`;

/** Refuses the attempt while the account or the address waits out a delay. */
export async function checkSignInAllowed(tx: Tx, ctx: RequestContext, email: string): Promise<void> {
  const now = ctx.clock.now();
  const until = await findLoginBlock(tx, [accountKey(email), ipKey(ctx.ip)], now);
  if (until) throw new SignInThrottled(until, Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)));
}

/** Counts a failure for the account and the address and sets the delay each has earned. */
export async function recordSignInFailure(tx: Tx, ctx: RequestContext, email: string): Promise<void> {
  const at = ctx.clock.now();
  const since = new Date(at.getTime() - FAILURE_MEMORY_MS);
  const counters: [string, number][] = [
    [accountKey(email), ACCOUNT_FREE_FAILURES],
    [ipKey(ctx.ip), IP_FREE_FAILURES],
  ];
  for (const [key, free] of counters) {
    const failures = await countLoginFailure(tx, { tenantId: ctx.tenant.id, key, at, since });
    const delay = delayAfter(failures, free);
    if (delay > 0) await blockLogin(tx, key, new Date(at.getTime() + delay));
  }
}

/** A successful sign-in clears the account's failures (the address keeps its count). */
export async function recordSignInSuccess(tx: Tx, email: string): Promise<void> {
  await clearLoginFailures(tx, accountKey(email));
}

// Second-factor failures have their own per-account count: a correct password clears the account's sign-in
// count, and must not also hand a code guesser a fresh set of free tries.
const secondFactorKey = (email: string) => `mfa:${email.trim().toLowerCase()}`;

/** Refuses a second-factor attempt while the account (or the address) waits out a delay. */
export async function checkSecondFactorAllowed(tx: Tx, ctx: RequestContext, email: string): Promise<void> {
  const now = ctx.clock.now();
  const until = await findLoginBlock(tx, [secondFactorKey(email), ipKey(ctx.ip)], now);
  if (until) throw new SignInThrottled(until, Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)));
}

/** Counts a wrong code (or a refused passkey) for the account and the address, like a wrong password. */
export async function recordSecondFactorFailure(tx: Tx, ctx: RequestContext, email: string): Promise<void> {
  const at = ctx.clock.now();
  const since = new Date(at.getTime() - FAILURE_MEMORY_MS);
  const counters: [string, number][] = [
    [secondFactorKey(email), ACCOUNT_FREE_FAILURES],
    [ipKey(ctx.ip), IP_FREE_FAILURES],
  ];
  for (const [key, free] of counters) {
    const failures = await countLoginFailure(tx, { tenantId: ctx.tenant.id, key, at, since });
    const delay = delayAfter(failures, free);
    if (delay > 0) await blockLogin(tx, key, new Date(at.getTime() + delay));
  }
}

/** A proven second factor clears the account's second-factor failures. */
export async function recordSecondFactorSuccess(tx: Tx, email: string): Promise<void> {
  await clearLoginFailures(tx, secondFactorKey(email));
}
