import { auditScope, type RecordedEvent } from '../../platform/audit/audit.ts';
import type { JsonValue } from '../../platform/audit/canonical.ts';
import { actorLabel, type RequestContext, type Runtime } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Conflict, NotFound } from '../../platform/errors.ts';
import { ownerEmails, requirePermission } from '../access/service.ts';
import { tenantBaseUrl, tenantInTransaction } from '../tenants/service.ts';
import { RULES, type RuleDefinition, type RuleHit, ruleById } from './rules.ts';
import { AlertSettings, CloseAlertForm, COUNTED_RULES, defaultAlertSettings, type StatusFilter } from './schema.ts';
import {
  type AlertEventRow,
  type AlertRow,
  addEventToAlert,
  countAlertRows,
  deleteClosedAlerts,
  eventsBySeqs,
  findActiveAlert,
  findAlert,
  insertAlert,
  lastClosedAt,
  listAlertRows,
  matchingEventSeqs,
  readSettingsRow,
  updateAlert,
  writeSettingsRow,
} from './store.ts';

export type { AlertEventRow, AlertRow } from './store.ts';

export const ALERTS_PAGE_SIZE = 25;
/** An alert keeps the sequence numbers of at most this many events; its count keeps growing past it. */
export const MAX_ALERT_SEQS = 1000;

/**
 * The tenant's settings, completed with defaults (a tenant that never saved any has all defaults). Saved
 * settings that a later version no longer accepts fall back to the defaults: detection must keep running.
 */
async function settingsOf(tx: Tx, tenantId: string): Promise<AlertSettings> {
  const parsed = AlertSettings.safeParse((await readSettingsRow(tx, tenantId)) ?? { thresholds: {} });
  return parsed.success ? parsed.data : defaultAlertSettings();
}

/** The security contacts a tenant configured for alert mail (empty: the defaults apply), for offboarding. */
export async function configuredAlertContacts(tx: Tx, tenantId: string): Promise<string[]> {
  return (await settingsOf(tx, tenantId)).contacts;
}

/** Who gets alert mail: the configured contacts, else the owners and the tenant's public security contact. */
async function securityContacts(tx: Tx, tenantId: string, settings: AlertSettings): Promise<string[]> {
  if (settings.contacts.length > 0) return settings.contacts;
  return defaultContacts(tx, tenantId);
}

async function defaultContacts(tx: Tx, tenantId: string): Promise<string[]> {
  const tenant = await tenantInTransaction(tx, tenantId);
  const addresses = [...(await ownerEmails(tx, tenantId)), ...(tenant?.contactEmail ? [tenant.contactEmail] : [])];
  return [...new Set(addresses.map((a) => a.toLowerCase()))];
}

/**
 * Runs the detection rules on one event as it is recorded, inside the recording transaction: a hit opens an
 * alert (and queues mail to the security contacts, in the same transaction) or adds the event to the alert
 * already open for the same rule and key. Writers of one tenant's trail are serialized by the chain head
 * lock, so two events cannot both open "the" alert.
 */
export async function evaluateAlertRules(runtime: Runtime, tx: Tx, event: RecordedEvent): Promise<void> {
  const watching = RULES.filter((rule) => rule.watches(event.action));
  if (watching.length === 0) return;
  const settings = await settingsOf(tx, event.tenant);
  for (const rule of watching) {
    const hit = rule.evaluate(event, settings);
    if (hit) await applyHit(runtime, tx, event, rule, hit, settings);
  }
}

async function applyHit(
  runtime: Runtime,
  tx: Tx,
  event: RecordedEvent,
  rule: RuleDefinition,
  hit: RuleHit,
  settings: AlertSettings,
): Promise<void> {
  const tenantId = event.tenant;
  const at = new Date(event.time);
  const active = await findActiveAlert(tx, tenantId, hit.rule, hit.key);
  if (active) {
    // Evidence for an alert someone is already handling; it does not mail again.
    await addEventToAlert(tx, tenantId, active.id, { seq: event.seq, at }, MAX_ALERT_SEQS);
    return;
  }
  let seqs = [event.seq];
  if (hit.match && hit.threshold > 1) {
    // Events before the last alert for this key was closed were judged there; they do not count again.
    seqs = await matchingEventSeqs(
      tx,
      tenantId,
      hit.match,
      { since: new Date(at.getTime() - hit.windowMinutes * 60_000), after: await lastClosedAt(tx, tenantId, hit.rule, hit.key) },
      MAX_ALERT_SEQS,
    );
  }
  if (seqs.length < hit.threshold) return;
  const alert = await insertAlert(tx, {
    tenantId,
    rule: hit.rule,
    key: hit.key,
    status: 'open',
    severity: rule.severity,
    title: hit.title.slice(0, 300),
    eventSeqs: seqs,
    eventCount: seqs.length,
    openedAt: at,
    lastEventAt: at,
  });
  const to = await securityContacts(tx, tenantId, settings);
  if (to.length === 0) {
    runtime.log.warn(
      { tenant: tenantId, alert: alert.id, rule: hit.rule },
      'alert raised but the tenant has no security contact',
    );
    return;
  }
  const tenant = await tenantInTransaction(tx, tenantId);
  const base = tenant ? tenantBaseUrl(runtime.config.publicUrl, tenant) : runtime.config.publicUrl;
  await runtime.mail.enqueue(tx, tenantId, {
    to,
    subject: `[Candor alert] ${alert.title}`,
    text: alertMailText({
      alert,
      rule,
      hit,
      tenantName: tenant?.name ?? 'your workspace',
      url: `${base}/admin/alerts/${alert.id}`,
    }),
  });
}

function alertMailText(input: { alert: AlertRow; rule: RuleDefinition; hit: RuleHit; tenantName: string; url: string }): string {
  const { alert, rule, hit } = input;
  const window = hit.threshold > 1 ? ` within ${hit.windowMinutes} minutes` : '';
  return [
    `Candor raised a security alert for ${input.tenantName}.`,
    '',
    alert.title,
    '',
    `Rule:      ${rule.name}`,
    `Severity:  ${alert.severity}`,
    `${`${hit.subjectLabel}:`.padEnd(10)} ${hit.subjectValue}`,
    `Events:    ${alert.eventCount}${window}`,
    `Raised at: ${alert.openedAt.toISOString()}`,
    '',
    rule.description,
    '',
    `Review it, acknowledge it and close it with a note here:`,
    input.url,
    '',
    'Further matching events are added to this alert without another message until it is closed.',
    '',
    '— Candor',
  ].join('\n');
}

export interface AlertPage {
  alerts: AlertRow[];
  status: StatusFilter;
  page: number;
  size: number;
  total: number;
}

export async function listAlerts(ctx: RequestContext, status: StatusFilter, page: number): Promise<AlertPage> {
  requirePermission(ctx.actor, 'alerts.read');
  const size = ALERTS_PAGE_SIZE;
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => ({
    alerts: await listAlertRows(tx, ctx.tenant.id, status, size, (page - 1) * size),
    total: await countAlertRows(tx, ctx.tenant.id, status),
    status,
    page,
    size,
  }));
}

export interface AlertDetail {
  alert: AlertRow;
  events: AlertEventRow[];
  rule: RuleDefinition | undefined;
}

/**
 * One alert with the events that caused it. The events name accounts and addresses, so opening an alert is
 * a read the trail records (`alert.viewed`).
 */
export async function getAlert(ctx: RequestContext, id: string): Promise<AlertDetail> {
  requirePermission(ctx.actor, 'alerts.read');
  const detail = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const alert = await findAlert(tx, ctx.tenant.id, id);
    if (!alert) return undefined;
    await ctx.audit.record(tx, auditScope(ctx), { action: 'alert.viewed', target: { type: 'alert', id } });
    return { alert, events: await eventsBySeqs(tx, ctx.tenant.id, alert.eventSeqs), rule: ruleById(alert.rule) };
  });
  if (!detail) throw new NotFound('alert', id);
  return detail;
}

/** Marks an alert as being looked at. Acknowledging it again changes nothing. */
export async function acknowledgeAlert(ctx: RequestContext, id: string): Promise<AlertRow> {
  requirePermission(ctx.actor, 'alerts.manage');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const alert = await findAlert(tx, ctx.tenant.id, id, true);
    if (!alert) throw new NotFound('alert', id);
    if (alert.status === 'closed') throw new Conflict('this alert is closed');
    if (alert.status === 'acknowledged') return alert;
    const updated = await updateAlert(tx, ctx.tenant.id, id, {
      status: 'acknowledged',
      acknowledgedBy: actorLabel(ctx.actor),
      acknowledgedAt: ctx.clock.now(),
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'alert.acknowledged',
      target: { type: 'alert', id },
      details: { rule: alert.rule, key: alert.key },
    });
    return updated;
  });
}

/** Closes an alert with a note saying what was found or done; a new matching event then opens a new alert. */
export async function closeAlert(ctx: RequestContext, id: string, input: CloseAlertForm): Promise<AlertRow> {
  requirePermission(ctx.actor, 'alerts.manage');
  const { note } = CloseAlertForm.parse(input);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const alert = await findAlert(tx, ctx.tenant.id, id, true);
    if (!alert) throw new NotFound('alert', id);
    if (alert.status === 'closed') throw new Conflict('this alert is already closed');
    const updated = await updateAlert(tx, ctx.tenant.id, id, {
      status: 'closed',
      closedBy: actorLabel(ctx.actor),
      closedAt: ctx.clock.now(),
      closeNote: note,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'alert.closed',
      target: { type: 'alert', id },
      details: { rule: alert.rule, key: alert.key, note },
    });
    return updated;
  });
}

export interface AlertSettingsView {
  settings: AlertSettings;
  /** Who gets mail while no contacts are configured. */
  defaultContacts: string[];
}

export async function getAlertSettings(ctx: RequestContext): Promise<AlertSettingsView> {
  requirePermission(ctx.actor, 'alerts.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => ({
    settings: await settingsOf(tx, ctx.tenant.id),
    defaultContacts: await defaultContacts(tx, ctx.tenant.id),
  }));
}

/** What changed between two settings, as flat `field: { from, to }` pairs for the trail. */
function settingsChanges(before: AlertSettings, after: AlertSettings): Record<string, JsonValue> {
  const flat = (s: AlertSettings): Record<string, JsonValue> => ({
    ...Object.fromEntries(
      COUNTED_RULES.flatMap((rule) => [
        [`${rule}.count`, s.thresholds[rule].count],
        [`${rule}.windowMinutes`, s.thresholds[rule].windowMinutes],
      ]),
    ),
    'businessHours.start': s.businessHours.start,
    'businessHours.end': s.businessHours.end,
    'businessHours.timeZone': s.businessHours.timeZone,
    contacts: s.contacts,
  });
  const a = flat(before);
  const b = flat(after);
  const changes: Record<string, JsonValue> = {};
  for (const [field, value] of Object.entries(b)) {
    if (JSON.stringify(a[field]) !== JSON.stringify(value)) changes[field] = { from: a[field] ?? null, to: value };
  }
  return changes;
}

export async function updateAlertSettings(ctx: RequestContext, input: AlertSettings): Promise<void> {
  requirePermission(ctx.actor, 'alerts.manage');
  const settings = AlertSettings.parse(input);
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const before = await settingsOf(tx, ctx.tenant.id);
    const changes = settingsChanges(before, settings);
    if (Object.keys(changes).length === 0) return;
    await writeSettingsRow(tx, {
      tenantId: ctx.tenant.id,
      settings,
      updatedAt: ctx.clock.now(),
      updatedBy: actorLabel(ctx.actor),
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'alert_settings.updated',
      target: { type: 'alert_settings', id: ctx.tenant.id },
      details: { changes },
    });
  });
}

/** Retention (the retention capability's `closed-alerts` category): one batch of alerts closed before `cutoff`. */
export function purgeClosedAlerts(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  return deleteClosedAlerts(tx, tenantId, cutoff, batchSize);
}
