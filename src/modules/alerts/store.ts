import { and, asc, count, desc, eq, gt, gte, inArray, isNull, like, lt, ne, or, type SQL, sql } from 'drizzle-orm';
import { auditEvents } from '../../platform/audit/tables.ts';
import type { Tx } from '../../platform/db/client.ts';
import type { EventMatch, Subject } from './rules.ts';
import type { StatusFilter } from './schema.ts';
import { alertSettings, alerts } from './tables.ts';

export type AlertRow = typeof alerts.$inferSelect;
export type AlertEventRow = typeof auditEvents.$inferSelect;

// Every query names its tenant: the detection hook also runs inside system transactions (tenant creation),
// which row-level security does not filter.

function subjectCondition(subject: Subject): SQL | undefined {
  switch (subject.by) {
    case 'email':
      return sql`${auditEvents.details} ->> 'email' = ${subject.email}`;
    case 'ip':
      return eq(auditEvents.ip, subject.ip);
    case 'actor':
      return and(eq(auditEvents.actorType, subject.type), eq(auditEvents.actorId, subject.id));
    case 'actorLabel':
      return and(eq(auditEvents.actorType, subject.type), isNull(auditEvents.actorId), eq(auditEvents.actorLabel, subject.label));
    case 'anonymousIp':
      return and(eq(auditEvents.actorType, 'anonymous'), eq(auditEvents.ip, subject.ip));
    case 'account':
      // Mirrors accountOf() in rules.ts.
      return sql`coalesce(case when ${auditEvents.targetType} = 'user' then ${auditEvents.targetId} end, ${auditEvents.actorId}, ${auditEvents.details} ->> 'email') = ${subject.account}`;
  }
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Sequence numbers of the tenant's events since `since` that match, oldest first, at most `limit`. */
export async function matchingEventSeqs(
  tx: Tx,
  tenantId: string,
  match: EventMatch,
  window: { since: Date; after?: Date | undefined },
  limit: number,
): Promise<number[]> {
  const actions = match.actions?.length ? inArray(auditEvents.action, [...match.actions]) : undefined;
  const suffixes = match.suffixes?.length
    ? or(...match.suffixes.map((s) => like(auditEvents.action, `%${escapeLike(s)}`)))
    : undefined;
  const rows = await tx
    .select({ seq: auditEvents.seq })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.tenantId, tenantId),
        gte(auditEvents.occurredAt, window.since),
        window.after ? gt(auditEvents.occurredAt, window.after) : undefined,
        actions,
        suffixes,
        match.outcome ? eq(auditEvents.outcome, match.outcome) : undefined,
        subjectCondition(match.subject),
      ),
    )
    .orderBy(asc(auditEvents.seq))
    .limit(limit);
  return rows.map((r) => r.seq);
}

export async function eventsBySeqs(tx: Tx, tenantId: string, seqs: number[]): Promise<AlertEventRow[]> {
  if (seqs.length === 0) return [];
  return tx
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenantId), inArray(auditEvents.seq, seqs)))
    .orderBy(asc(auditEvents.seq));
}

/** The alert for this rule and key that is not closed yet, locked for the rest of the transaction. */
export async function findActiveAlert(tx: Tx, tenantId: string, rule: string, key: string): Promise<AlertRow | undefined> {
  const [row] = await tx
    .select()
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenantId), eq(alerts.rule, rule), eq(alerts.key, key), ne(alerts.status, 'closed')))
    .for('update');
  return row;
}

/** When the latest closed alert for this rule and key was closed, if there is one. */
export async function lastClosedAt(tx: Tx, tenantId: string, rule: string, key: string): Promise<Date | undefined> {
  const [row] = await tx
    .select({ closedAt: alerts.closedAt })
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenantId), eq(alerts.rule, rule), eq(alerts.key, key), eq(alerts.status, 'closed')))
    .orderBy(desc(alerts.closedAt))
    .limit(1);
  return row?.closedAt ?? undefined;
}

export async function insertAlert(tx: Tx, row: typeof alerts.$inferInsert): Promise<AlertRow> {
  const [created] = await tx.insert(alerts).values(row).returning();
  if (!created) throw new Error('alert insert returned nothing');
  return created;
}

/** Adds one event to an alert; past `maxSeqs` only the count grows, so a flood cannot bloat the row. */
export async function addEventToAlert(
  tx: Tx,
  tenantId: string,
  id: string,
  event: { seq: number; at: Date },
  maxSeqs: number,
): Promise<void> {
  await tx
    .update(alerts)
    .set({
      eventSeqs: sql`case when cardinality(${alerts.eventSeqs}) < ${maxSeqs} then array_append(${alerts.eventSeqs}, ${event.seq}::bigint) else ${alerts.eventSeqs} end`,
      eventCount: sql`${alerts.eventCount} + 1`,
      lastEventAt: event.at,
    })
    .where(and(eq(alerts.tenantId, tenantId), eq(alerts.id, id)));
}

function statusCondition(status: StatusFilter): SQL | undefined {
  switch (status) {
    case 'active':
      return ne(alerts.status, 'closed');
    case 'all':
      return undefined;
    default:
      return eq(alerts.status, status);
  }
}

export async function listAlertRows(
  tx: Tx,
  tenantId: string,
  status: StatusFilter,
  limit: number,
  offset: number,
): Promise<AlertRow[]> {
  return tx
    .select()
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenantId), statusCondition(status)))
    .orderBy(desc(alerts.openedAt), desc(alerts.id))
    .limit(limit)
    .offset(offset);
}

export async function countAlertRows(tx: Tx, tenantId: string, status: StatusFilter): Promise<number> {
  const [row] = await tx
    .select({ n: count() })
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenantId), statusCondition(status)));
  return row?.n ?? 0;
}

export async function findAlert(tx: Tx, tenantId: string, id: string, lock = false): Promise<AlertRow | undefined> {
  const query = tx
    .select()
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenantId), eq(alerts.id, id)));
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function updateAlert(
  tx: Tx,
  tenantId: string,
  id: string,
  changes: Partial<Pick<AlertRow, 'status' | 'acknowledgedBy' | 'acknowledgedAt' | 'closedBy' | 'closedAt' | 'closeNote'>>,
): Promise<AlertRow> {
  const [row] = await tx
    .update(alerts)
    .set(changes)
    .where(and(eq(alerts.tenantId, tenantId), eq(alerts.id, id)))
    .returning();
  if (!row) throw new Error('alert update returned nothing');
  return row;
}

export async function readSettingsRow(tx: Tx, tenantId: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await tx
    .select({ settings: alertSettings.settings })
    .from(alertSettings)
    .where(eq(alertSettings.tenantId, tenantId));
  return row?.settings;
}

export async function writeSettingsRow(
  tx: Tx,
  row: { tenantId: string; settings: Record<string, unknown>; updatedAt: Date; updatedBy: string | null },
): Promise<void> {
  await tx
    .insert(alertSettings)
    .values(row)
    .onConflictDoUpdate({
      target: alertSettings.tenantId,
      set: { settings: row.settings, updatedAt: row.updatedAt, updatedBy: row.updatedBy },
    });
}

/** Retention: deletes up to `limit` alerts closed before `before`; open and acknowledged alerts never. */
export async function deleteClosedAlerts(tx: Tx, tenantId: string, before: Date, limit: number): Promise<number> {
  const batch = tx
    .select({ id: alerts.id })
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenantId), eq(alerts.status, 'closed'), lt(alerts.closedAt, before)))
    .limit(limit);
  const rows = await tx
    .delete(alerts)
    .where(and(eq(alerts.tenantId, tenantId), inArray(alerts.id, batch)))
    .returning({ id: alerts.id });
  return rows.length;
}
