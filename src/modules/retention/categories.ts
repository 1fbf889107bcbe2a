import type { Runtime } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { purgeClosedAlerts } from '../alerts/service.ts';
import { RETENTION_DAYS as AUDIT_TRAIL_DAYS, purgeExpiredAuditEvents } from '../audit/service.ts';
import { purgeHandledContactMessages } from '../contact/service.ts';
import { purgeClosedSignedRequests, purgeClosedUnsignedRequests } from '../document-requests/service.ts';
import {
  purgeEndedApiTokens,
  purgeEndedSessions,
  purgeExpiredAccountLinks,
  purgeSpentSetupLinks,
  purgeStaleSignInCounters,
} from '../identity/service.ts';
import { purgeStaleSubscribers } from '../subscriptions/service.ts';
import { purgeOldDeletionRecords } from './store.ts';

/**
 * Deletes one batch (at most about `batchSize` rows) of the tenant's data in the category that is older than
 * `cutoff`, inside `tx`, and returns how many rows went; 0 means nothing more is due. Called again and again,
 * each time in a fresh transaction, until it returns 0. It must never delete anything younger than `cutoff`
 * and should filter by tenant explicitly (a `schema-owner` category runs without row-level security).
 */
export type PurgeBatch = (tx: Tx, tenantId: string, cutoff: Date, batchSize: number, runtime: Runtime) => Promise<number>;

/** One kind of data Candor keeps, how long by default, and how short a tenant may make that. */
export interface RetentionCategory {
  /** Stable identifier: stored in rules and deletion records, used in the API. */
  slug: string;
  title: string;
  /** What the data is, from when its age counts, and why it is kept at all. */
  description: string;
  defaultDays: number;
  /** The shortest period a tenant may set, and the legal, contractual or practical reason for it. */
  minimum: { days: number; reason: string };
  /**
   * `tenant`: purged under the tenant's row-level security, like a request. `schema-owner`: purged as the
   * owner of the schema, for tables the application role may not delete from (the append-only audit trail).
   */
  runsAs: 'tenant' | 'schema-owner';
  purge: PurgeBatch;
}

const YEAR = 365;

/**
 * Every category, in the order the back office lists them. A capability that keeps data adds one entry here
 * with a purge function exposed by its service.
 *
 * The privacy capability (data subject requests) will add its request records:
 *
 *   {
 *     slug: 'privacy-requests',
 *     title: 'Privacy request records',
 *     description: 'Each request, how and when it was answered, counted from the answer.',
 *     defaultDays: 3 * YEAR,
 *     minimum: { days: 731, reason: 'California’s CCPA regulations (11 CCR § 7101) require a record of every consumer request and its response for at least 24 months.' },
 *     runsAs: 'tenant',
 *     purge: (tx, tenantId, cutoff, batchSize) => purgeAnsweredPrivacyRequests(tx, tenantId, cutoff, batchSize),
 *   }
 *
 * It is not listed yet because nothing stores privacy requests yet: a category must name data it can purge.
 */
export const RETENTION_CATEGORIES: readonly RetentionCategory[] = [
  {
    slug: 'audit-trail',
    title: 'Audit trail',
    description:
      'Every recorded change and read of personal or confidential data, counted from when it happened. Kept as the ' +
      'evidence of who did what; removed only up to a signed checkpoint, so the rest still verifies.',
    defaultDays: AUDIT_TRAIL_DAYS,
    minimum: {
      days: YEAR,
      reason:
        'PCI DSS (requirement 10.5.1) asks for at least twelve months of audit log history, and SOC 2 and ISO 27001 ' +
        'audits look back over a period of up to a year.',
    },
    runsAs: 'schema-owner',
    purge: purgeExpiredAuditEvents,
  },
  {
    slug: 'closed-alerts',
    title: 'Closed security alerts',
    description:
      'Alerts raised by the detection rules, with their closing notes, counted from when they were closed. Open and ' +
      'acknowledged alerts are never purged.',
    defaultDays: 2 * YEAR,
    minimum: {
      days: YEAR,
      reason:
        'They show how security events were handled; SOC 2 and ISO 27001 auditors sample that evidence over a review ' +
        'period of up to a year.',
    },
    runsAs: 'tenant',
    purge: purgeClosedAlerts,
  },
  {
    slug: 'api-tokens',
    title: 'Revoked and expired API tokens',
    description:
      'Name, role, prefix and dates of tokens that no longer work (their secret was only ever stored as a hash), ' +
      'counted from revocation or expiry. Active tokens are never purged.',
    defaultDays: YEAR,
    minimum: {
      days: 90,
      reason:
        'The audit trail names tokens by id; keeping an ended token for a quarter lets the next quarterly access ' +
        'review account for what it could do.',
    },
    runsAs: 'tenant',
    purge: purgeEndedApiTokens,
  },
  {
    slug: 'sessions',
    title: 'Ended sign-in sessions',
    description:
      'Back-office sessions that timed out (IP address, browser, times), counted from when they ended. Useful when ' +
      'looking into a suspicious sign-in; an ended session can never be used again.',
    defaultDays: 30,
    minimum: {
      days: 0,
      reason: 'No law asks for ended sessions to be kept, and they hold IP addresses: they may go at the next purge.',
    },
    runsAs: 'tenant',
    purge: purgeEndedSessions,
  },
  {
    slug: 'setup-links',
    title: 'Used and expired setup links',
    description: 'One-time links that created an owner account (only a hash and dates), counted from use or expiry.',
    defaultDays: 30,
    minimum: { days: 0, reason: 'A spent link names nobody and opens nothing; no rule asks to keep it.' },
    runsAs: 'tenant',
    purge: purgeSpentSetupLinks,
  },
  {
    slug: 'account-links',
    title: 'Expired invitation and password-reset links',
    description:
      'Links mailed to people to choose or reset a password (only a hash, the person and dates), counted from ' +
      'expiry. A used link is deleted at once; an open one is never purged.',
    defaultDays: 30,
    minimum: { days: 0, reason: 'An expired link opens nothing, and the audit trail keeps that it was sent.' },
    runsAs: 'tenant',
    purge: purgeExpiredAccountLinks,
  },
  {
    slug: 'sign-in-throttle',
    title: 'Failed sign-in counters',
    description:
      'How many times an email address or an IP address recently failed to sign in, which slows guessing down; ' +
      'counted from the last failure. A counter that still blocks sign-in is never purged.',
    defaultDays: 1,
    minimum: {
      days: 1,
      reason: 'A day keeps a slow guesser slowed down; each failure itself stays in the audit trail.',
    },
    runsAs: 'tenant',
    purge: purgeStaleSignInCounters,
  },
  {
    slug: 'stale-subscribers',
    title: 'Unconfirmed and cancelled subscriptions',
    description:
      'Trust Center subscribers who never confirmed their address or who unsubscribed (encrypted address, topics, ' +
      'dates), counted from the request or the unsubscribe. Confirmed subscribers are never purged.',
    defaultDays: 7,
    minimum: {
      days: 1,
      reason: 'Nobody agreed to be kept on a list: a day lets a late confirmation still arrive, the audit trail keeps the rest.',
    },
    runsAs: 'tenant',
    purge: purgeStaleSubscribers,
  },
  {
    slug: 'contact-messages',
    title: 'Handled contact messages',
    description:
      'Messages from the Trust Center contact form (sender, encrypted address and text), counted from when they were ' +
      'marked handled. Open messages are never purged.',
    defaultDays: 2 * YEAR,
    minimum: {
      days: 90,
      reason: 'A quarter lets a follow-up question be read against the first one; no rule asks for longer.',
    },
    runsAs: 'tenant',
    purge: purgeHandledContactMessages,
  },
  {
    slug: 'document-requests',
    title: 'Closed document requests without a signed NDA',
    description:
      'Requests for gated documents (encrypted name, email, company, reason, IP address, browser) that were refused ' +
      'for their mail domain or abandoned before the NDA, counted from the refusal or from when their link expired. ' +
      'Requests waiting for an approver are never purged.',
    defaultDays: YEAR,
    minimum: {
      days: 90,
      reason:
        'A quarter lets a requester’s question about a refused or lost request be answered; the audit trail keeps that ' +
        'the request was made and how it ended.',
    },
    runsAs: 'tenant',
    purge: purgeClosedUnsignedRequests,
  },
  {
    slug: 'signed-ndas',
    title: 'Document requests with a signed NDA, and their grants',
    description:
      'Requests whose requester signed the NDA, with the signature (who, which text, IP address, browser, time) and ' +
      'the grants, counted from when the request closed: the end of its last grant (expiry or revocation), or the ' +
      'denial. A request with a grant still open is never purged.',
    defaultDays: 6 * YEAR,
    minimum: {
      days: 3 * YEAR,
      reason:
        'The signature is the evidence of the recipient’s duty of confidentiality: it must outlive the grant by the ' +
        'limitation period for a claim on the NDA (3 years in many EU countries, e.g. Germany’s § 195 BGB).',
    },
    runsAs: 'tenant',
    purge: purgeClosedSignedRequests,
  },
  {
    slug: 'outgoing-mail',
    title: 'Copies of outgoing mail',
    description:
      'Messages Candor sent, wrote to a file or gave up on (recipients, subject, body), counted from delivery. Mail ' +
      'still waiting to be delivered is never purged.',
    defaultDays: 90,
    minimum: {
      days: 30,
      reason:
        'A month of copies lets you answer “was I told?” and look into delivery problems, which are usually reported ' +
        'within weeks.',
    },
    runsAs: 'tenant',
    purge: (tx, tenantId, cutoff, batchSize, runtime) => runtime.mail.purgeFinished(tx, tenantId, cutoff, batchSize),
  },
  {
    slug: 'deletion-records',
    title: 'Deletion records',
    description:
      'The records of these purges: category, rule, cutoff and how many rows went, never what they held. Counted ' +
      'from the run.',
    defaultDays: 7 * YEAR,
    minimum: {
      days: YEAR,
      reason:
        'They prove that data was erased on schedule (the GDPR’s accountability principle, Article 5(2)); an auditor ' +
        'reviewing a year must be able to see that year’s purges.',
    },
    runsAs: 'tenant',
    purge: purgeOldDeletionRecords,
  },
];

export function findCategory(slug: string): RetentionCategory | undefined {
  return RETENTION_CATEGORIES.find((c) => c.slug === slug);
}

/**
 * A period as people say it: whole years when it is one — n years of 365 days, with or without their leap
 * days (so 2190, 2191 and 2192 days are all "6 years") — else days.
 */
export function describePeriod(days: number): string {
  const years = Math.floor(days / 365);
  const leapDays = days - years * 365;
  if (years >= 1 && leapDays <= Math.ceil(years / 4)) return years === 1 ? '1 year' : `${years} years`;
  return days === 1 ? '1 day' : `${days} days`;
}
