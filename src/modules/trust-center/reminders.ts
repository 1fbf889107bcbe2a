import type { AuditScope } from '../../platform/audit/audit.ts';
import type { Actor, RequestContext, Runtime } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { emailsWithPermission, requirePermission } from '../access/service.ts';
import { tenantBaseUrl, tenantInTransaction } from '../tenants/service.ts';
import { DEFAULT_LOCALE } from './schema.ts';
import { claimReminder, readLiveCertificationsEverywhere, readSentReminders, readVersions, type VersionRow } from './store.ts';

/** Days before valid-until at which the people who publish content are reminded, widest first. */
export const REMINDER_THRESHOLDS = [60, 30, 7] as const;

const DAY_MS = 86_400_000;
const REMINDER_ACTOR: Actor = { kind: 'system', name: 'certificate reminders' };

/** Whole days from `today` to `date` (both `YYYY-MM-DD`); negative once it has passed. */
export function daysUntil(date: string, today: string): number {
  return Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / DAY_MS);
}

/**
 * The thresholds a certification has reached and not yet been reminded of. A threshold counts once reached,
 * not only on its exact day, so a day the job did not run loses nothing; an expired one gets no more.
 */
export function dueThresholds(daysLeft: number, sent: ReadonlySet<number>): number[] {
  if (daysLeft < 0) return [];
  return REMINDER_THRESHOLDS.filter((t) => daysLeft <= t && !sent.has(t));
}

function reminderText(input: {
  tenantName: string;
  standard: string;
  issuer: string;
  validUntil: string;
  daysLeft: number;
  url: string;
}): string {
  const when = input.daysLeft === 0 ? 'today' : `in ${input.daysLeft} day${input.daysLeft === 1 ? '' : 's'}`;
  return [
    `The ${input.standard} certification of ${input.tenantName} expires ${when}, on ${input.validUntil}.`,
    '',
    `Issuer: ${input.issuer}`,
    '',
    'Once it has expired, the public Trust Center shows it as expired. When it is renewed, enter the new dates',
    'and attach the new certificate file, then publish:',
    input.url,
    '',
    'You receive this because you can publish Trust Center content. Reminders go 60, 30 and 7 days before expiry.',
    '',
    '— Candor',
  ].join('\n');
}

/** One tenant's reminders, in one transaction: claimed, mailed through the outbox and audited together. */
async function remindTenant(runtime: Runtime, live: VersionRow, today: string): Promise<number> {
  const tenantId = live.tenantId;
  return runtime.db.withTenant(tenantId, async (tx) => {
    const sent = await readSentReminders(tx, tenantId);
    let reminded = 0;
    for (const item of live.document.items) {
      const standard = item.standard ?? '';
      const validUntil = item.validUntil ?? '';
      const daysLeft = daysUntil(validUntil, today);
      const already = new Set(sent.filter((r) => r.standard === standard && r.validUntil === validUntil).map((r) => r.threshold));
      const due = dueThresholds(daysLeft, already);
      if (due.length === 0) continue;
      if (await sendReminder(tx, runtime, { tenantId, standard, issuer: item.issuer ?? '', validUntil, daysLeft, due }))
        reminded++;
    }
    return reminded;
  });
}

async function sendReminder(
  tx: Tx,
  runtime: Runtime,
  r: { tenantId: string; standard: string; issuer: string; validUntil: string; daysLeft: number; due: number[] },
): Promise<boolean> {
  const tenant = await tenantInTransaction(tx, r.tenantId);
  const to = await emailsWithPermission(tx, r.tenantId, 'content.publish');
  if (to.length === 0 && tenant?.contactEmail) to.push(tenant.contactEmail);
  const now = runtime.clock.now();
  let claimed = 0;
  for (const threshold of r.due) {
    const row = { tenantId: r.tenantId, standard: r.standard, validUntil: r.validUntil, threshold };
    if (await claimReminder(tx, { ...row, sentAt: now, daysLeft: r.daysLeft, recipients: to.length })) claimed++;
  }
  // Another process claimed them first: it sends the mail.
  if (claimed === 0) return false;
  if (to.length > 0) {
    const base = tenant ? tenantBaseUrl(runtime.config.publicUrl, tenant) : runtime.config.publicUrl;
    await runtime.mail.enqueue(tx, r.tenantId, {
      to,
      subject: `${r.standard} certification expires in ${r.daysLeft} day${r.daysLeft === 1 ? '' : 's'} (${r.validUntil})`,
      text: reminderText({ ...r, tenantName: tenant?.name ?? 'your company', url: `${base}/admin/trust-center/certifications` }),
    });
  } else {
    runtime.log.warn({ tenant: r.tenantId, standard: r.standard }, 'certificate expiry reminder has nobody to go to');
  }
  const scope: AuditScope = { tenantId: r.tenantId, actor: REMINDER_ACTOR, requestId: 'trust-center.certificate-reminders' };
  await runtime.audit.record(tx, scope, {
    action: 'trust_center.certificate_reminder_sent',
    target: { type: 'certification', id: r.standard },
    details: { validUntil: r.validUntil, daysLeft: r.daysLeft, thresholds: r.due, recipients: to.length },
  });
  return true;
}

/**
 * The daily `trust-center.certificate-reminders` job: every published certification that reached 60, 30 or
 * 7 days before its valid-until (since the last run) gets one mail to the people who can publish content.
 * Returns how many reminders went out.
 */
export async function sendCertificateReminders(runtime: Runtime): Promise<number> {
  const today = runtime.clock.now().toISOString().slice(0, 10);
  const live = await runtime.db.withSystem((tx) => readLiveCertificationsEverywhere(tx, DEFAULT_LOCALE));
  let reminded = 0;
  for (const version of live) {
    try {
      reminded += await remindTenant(runtime, version, today);
    } catch (err) {
      // One tenant's failure does not hold up the others; its reminders stay due for the next run.
      runtime.log.error({ err, tenant: version.tenantId }, 'certificate reminders failed');
    }
  }
  return reminded;
}

export interface ExpiringCertification {
  standard: string;
  validUntil: string;
  daysLeft: number;
}

/** Published certifications that expire within 60 days or have expired, soonest first (back-office notice). */
export async function expiringCertifications(ctx: RequestContext, locale = DEFAULT_LOCALE): Promise<ExpiringCertification[]> {
  requirePermission(ctx.actor, 'content.read');
  const today = ctx.clock.now().toISOString().slice(0, 10);
  const [live] = await ctx.db.withTenant(ctx.tenant.id, (tx) => readVersions(tx, ctx.tenant.id, locale, 'certifications'));
  return (live?.document.items ?? [])
    .map((i) => ({ standard: i.standard ?? '', validUntil: i.validUntil ?? '', daysLeft: daysUntil(i.validUntil ?? '', today) }))
    .filter((c) => c.daysLeft <= REMINDER_THRESHOLDS[0])
    .sort((a, b) => a.daysLeft - b.daysLeft);
}
