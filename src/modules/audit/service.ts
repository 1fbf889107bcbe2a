import type { KeyObject } from 'node:crypto';
import { type AuditScope, auditScope, chainedEventOf } from '../../platform/audit/audit.ts';
import type { JsonValue } from '../../platform/audit/canonical.ts';
import { type ChainedEvent, FORMAT_VERSION } from '../../platform/audit/event.ts';
import {
  type AuditEventRow,
  allHeads,
  type CheckpointRow,
  checkpointAtOrBefore,
  checkpointBetween,
  checkpointsAfter,
  countEvents,
  type EventFilter,
  findEvent,
  firstEventSeq,
  headsWithoutCheckpoint,
  latestCheckpoint,
  purgeEventsThrough,
  readHead,
  recentCheckpoints,
  searchEvents,
  searchEventsBefore,
  seqBefore,
} from '../../platform/audit/store.ts';
import { describeResult, type VerifyResult, verifyLines } from '../../platform/audit/verify.ts';
import type { RequestContext, Runtime, TenantRef } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { NotFound } from '../../platform/errors.ts';
import { requirePermission } from '../access/service.ts';
import { findVerification, saveVerification, type VerificationRow } from './store.ts';

export const AUDIT_PAGE_SIZE = 50;
/**
 * Seven years, the longest retention duty customers commonly carry (SOX, HIPAA): the default period of the
 * retention capability's audit-trail category, which a tenant may change down to its minimum.
 */
export const RETENTION_DAYS = 2557;
/** How many checkpoints the public document lists at a time. */
export const PUBLISHED_CHECKPOINTS = 100;
export const PUBLIC_CHECKPOINTS_PATH = '/.well-known/candor/audit-checkpoints.json';
const CSV_BATCH = 500;

export type Verification = VerificationRow;

/** The scope of an event recorded for `ctx`; a command or job has no address, browser or request id. */
function scopeOf(ctx: RequestContext): AuditScope {
  return { ...auditScope(ctx), ip: ctx.ip || null, userAgent: ctx.userAgent || null, requestId: ctx.requestId || null };
}

/** The context of a command or job working on one tenant: the system acts, from this machine. */
export function systemContext(runtime: Runtime, tenant: TenantRef, name: string): RequestContext {
  return { ...runtime, tenant, actor: { kind: 'system', name }, requestId: '', ip: '', userAgent: '' };
}

/** An event as the API and the detail page show it: exactly what was hashed, plus the hash. */
export function eventView(row: AuditEventRow): ChainedEvent & { hash: string } {
  return { ...chainedEventOf(row), hash: row.hash };
}

export interface AuditEventPage {
  events: AuditEventRow[];
  page: number;
  size: number;
  total: number;
}

/** A page of the tenant's trail matching `filter`, newest first. */
export function listAuditEvents(
  ctx: RequestContext,
  filter: EventFilter,
  page: number,
  size = AUDIT_PAGE_SIZE,
): Promise<AuditEventPage> {
  requirePermission(ctx.actor, 'audit.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => ({
    events: await searchEvents(tx, filter, size, (page - 1) * size),
    total: await countEvents(tx, filter),
    page,
    size,
  }));
}

export async function getAuditEvent(ctx: RequestContext, seq: number): Promise<AuditEventRow> {
  requirePermission(ctx.actor, 'audit.read');
  const row = await ctx.db.withTenant(ctx.tenant.id, (tx) => findEvent(tx, ctx.tenant.id, seq));
  if (!row) throw new NotFound('audit event', String(seq));
  return row;
}

/** An event and how far the chain goes, for the detail page's previous/next links. */
export async function getAuditEventWithHead(
  ctx: RequestContext,
  seq: number,
): Promise<{ event: AuditEventRow; headSeq: number }> {
  const event = await getAuditEvent(ctx, seq);
  const head = await ctx.db.withTenant(ctx.tenant.id, (tx) => readHead(tx, ctx.tenant.id));
  return { event, headSeq: head?.seq ?? event.seq };
}

export interface TrailStatus {
  head: { seq: number; hash: string } | undefined;
  latestCheckpoint: CheckpointRow | undefined;
  keys: { keyId: string; publicKey: string; createdAt: Date; retiredAt: Date | null }[];
  lastVerification: Verification | undefined;
}

/** Where the chain stands: its head, its latest signed checkpoint, the signing keys and the last verification. */
export function auditTrailStatus(ctx: RequestContext): Promise<TrailStatus> {
  requirePermission(ctx.actor, 'audit.read');
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => ({
    head: await readHead(tx, tenantId),
    latestCheckpoint: await latestCheckpoint(tx, tenantId),
    keys: await ctx.audit.publicKeys(tx, tenantId),
    lastVerification: await findVerification(tx, tenantId),
  }));
}

function filterDetails(filter: EventFilter): Record<string, JsonValue> {
  const details: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (value instanceof Date) details[key] = value.toISOString();
    else if (typeof value === 'string') details[key] = value;
  }
  return details;
}

/** Reading the trail out of Candor is itself on the trail: who took a copy of what, and when. */
async function recordExport(ctx: RequestContext, details: Record<string, JsonValue>): Promise<void> {
  await ctx.db.withTenant(ctx.tenant.id, (tx) =>
    ctx.audit.record(tx, scopeOf(ctx), { action: 'audit.exported', target: { type: 'audit_trail' }, details }),
  );
}

/**
 * The verifiable export (JSON Lines, docs/audit-log-format.md) of the tenant's trail, optionally limited to a
 * time range. The export is recorded first, so a full export carries its own record.
 */
export async function exportAuditTrail(
  ctx: RequestContext,
  range: { from?: Date | undefined; to?: Date | undefined } = {},
): Promise<AsyncGenerator<string>> {
  requirePermission(ctx.actor, 'audit.export');
  await recordExport(ctx, { format: 'jsonl', ...filterDetails(range) });
  // The range's end is exclusive everywhere in this module; the export's `to` is inclusive.
  const to = range.to ? new Date(range.to.getTime() - 1) : undefined;
  return ctx.audit.exportLines(ctx.db, ctx.tenant.id, { from: range.from, to });
}

const CSV_COLUMNS = [
  'seq',
  'time',
  'actor_type',
  'actor_id',
  'actor',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'ip',
  'user_agent',
  'request_id',
  'details',
  'prev_hash',
  'hash',
] as const;

/**
 * One CSV field (RFC 4180). A value a spreadsheet would run as a formula (=, +, -, @ first) gets a leading
 * apostrophe: actor names and targets come from users, and this file is made to be opened in Excel.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvRow(row: AuditEventRow): string {
  return [
    row.seq,
    row.occurredAt.toISOString(),
    row.actorType,
    row.actorId,
    row.actorLabel,
    row.action,
    row.targetType,
    row.targetId,
    row.outcome,
    row.ip,
    row.userAgent,
    row.requestId,
    JSON.stringify(row.details),
    row.prevHash,
    row.hash,
  ]
    .map(csvField)
    .join(',');
}

/** Every event matching `filter`, newest first, as CSV lines (header first) for spreadsheets. */
export async function exportAuditEventsCsv(ctx: RequestContext, filter: EventFilter): Promise<AsyncGenerator<string>> {
  requirePermission(ctx.actor, 'audit.export');
  await recordExport(ctx, { format: 'csv', ...filterDetails(filter) });
  const tenantId = ctx.tenant.id;
  return (async function* () {
    yield CSV_COLUMNS.join(',');
    let before = Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = await ctx.db.withTenant(tenantId, (tx) => searchEventsBefore(tx, tenantId, filter, before, CSV_BATCH));
      for (const row of rows) yield csvRow(row);
      const last = rows.at(-1);
      if (!last || rows.length < CSV_BATCH) return;
      before = last.seq;
    }
  })();
}

/**
 * What the database's own copy must satisfy beyond what the verifier checks in any export: it starts at the
 * genesis or at a signed checkpoint (a start removed without a retention anchor is tampering, not a partial
 * export), and it reaches the chain head recorded before reading (a removed tail would otherwise go unseen).
 */
function checkCompleteness(result: VerifyResult, headSeq: number): VerifyResult {
  if (!result.ok) return result;
  if (result.anchor === 'none') {
    const seq = result.firstSeq;
    return {
      ...result,
      ok: false,
      problem: { seq, line: 0, kind: 'missing', message: `the trail starts at seq ${seq} with no signed checkpoint before it` },
    };
  }
  const lastSeq = result.lastSeq ?? 0;
  if (lastSeq < headSeq) {
    return {
      ...result,
      ok: false,
      problem: {
        seq: lastSeq + 1,
        line: 0,
        kind: 'missing',
        message: `the chain head is at seq ${headSeq} but the stored trail ends at seq ${result.lastSeq ?? 'nothing'}`,
      },
    };
  }
  return result;
}

/**
 * Verifies a tenant's whole stored trail the way an outsider verifies an export, keeps the result as the
 * tenant's last verification, and records the run (`audit.verified`, failed when the chain is not intact).
 */
export async function verifyTenantTrail(runtime: Runtime, scope: AuditScope, trustedKey?: KeyObject): Promise<Verification> {
  const tenantId = scope.tenantId;
  // Read before the export: the export reads its own head, which can only be at or after this one.
  const head = await runtime.db.withTenant(tenantId, (tx) => readHead(tx, tenantId));
  const verified = await verifyLines(runtime.audit.exportLines(runtime.db, tenantId), trustedKey);
  const result = checkCompleteness(verified, head?.seq ?? 0);
  const checkedBy =
    scope.actor.kind === 'user' ? scope.actor.email : scope.actor.kind === 'anonymous' ? 'anonymous' : scope.actor.name;
  const verification: Verification = {
    tenantId,
    checkedAt: runtime.clock.now(),
    ok: result.ok,
    events: result.events,
    checkpoints: result.checkpoints,
    firstSeq: result.firstSeq,
    lastSeq: result.lastSeq,
    lastHash: result.lastHash,
    anchor: result.anchor,
    problem: result.problem ?? null,
    summary: describeResult(result),
    checkedBy,
  };
  await runtime.db.withTenant(tenantId, async (tx) => {
    await saveVerification(tx, verification);
    await runtime.audit.record(tx, scope, {
      action: 'audit.verified',
      target: { type: 'audit_trail' },
      outcome: result.ok ? 'success' : 'failed',
      details: {
        events: result.events,
        checkpoints: result.checkpoints,
        lastSeq: result.lastSeq,
        anchor: result.anchor,
        signaturesTrusted: result.signaturesTrusted,
        problem: result.problem ? { seq: result.problem.seq, kind: result.problem.kind, message: result.problem.message } : null,
      },
    });
  });
  return verification;
}

/** "Verify now" in the back office and the API. */
export function verifyAuditTrail(ctx: RequestContext): Promise<Verification> {
  requirePermission(ctx.actor, 'audit.verify');
  return verifyTenantTrail(ctx, scopeOf(ctx));
}

/** A command-line verification of one tenant's stored trail, optionally against a key obtained elsewhere. */
export function verifyTrailFromCommand(runtime: Runtime, tenant: TenantRef, trustedKey?: KeyObject): Promise<Verification> {
  return verifyTenantTrail(runtime, scopeOf(systemContext(runtime, tenant, 'cli')), trustedKey);
}

/** Records a command-line export, then yields its lines. */
export function exportTrailFromCommand(
  runtime: Runtime,
  tenant: TenantRef,
  range: { from?: Date | undefined; to?: Date | undefined },
): Promise<AsyncGenerator<string>> {
  return exportAuditTrail(systemContext(runtime, tenant, 'cli'), range);
}

/** The periodic checkpoint: signs the head of every tenant whose chain moved since its latest checkpoint. */
export async function signMovedHeads(runtime: Runtime): Promise<number> {
  const moved = await runtime.db.withSystem((tx) => headsWithoutCheckpoint(tx));
  let signed = 0;
  const failures: unknown[] = [];
  for (const head of moved) {
    try {
      const checkpoint = await runtime.db.withTenant(head.tenantId, (tx) => runtime.audit.checkpoint(tx, head.tenantId));
      if (checkpoint) signed++;
    } catch (err) {
      // One tenant's failure must not leave every other tenant's head unsigned.
      runtime.log.error({ err, tenantId: head.tenantId }, 'audit checkpoint failed');
      failures.push(err);
    }
  }
  if (failures.length > 0) throw new Error(`audit checkpoint failed for ${failures.length} tenant(s)`);
  return signed;
}

/** The daily verification of every tenant's trail; each result is kept as that tenant's last verification. */
export async function verifyAllTrails(runtime: Runtime): Promise<Verification[]> {
  const heads = await runtime.db.withSystem((tx) => allHeads(tx));
  const results: Verification[] = [];
  for (const head of heads) {
    const verification = await verifyTenantTrail(runtime, {
      tenantId: head.tenantId,
      actor: { kind: 'system', name: 'audit.verify' },
    });
    // Nobody is watching a nightly run: the log is where an operator hears of it (the alerts capability may too).
    if (!verification.ok) runtime.log.error({ tenantId: head.tenantId, problem: verification.problem }, 'audit trail NOT intact');
    results.push(verification);
  }
  return results;
}

/**
 * Retention of the trail (a category of the retention capability, which runs it daily in batches): deletes
 * one batch of the tenant's events older than `cutoff`, but only through the newest signed checkpoint among
 * them, so what remains starts right after a signed anchor and still verifies. Events after that checkpoint
 * stay even when older than the cutoff; the next checkpoint lets a later run take them.
 *
 * Each batch ends at a checkpoint too, so the trail is anchored after every committed batch (a purge stopped
 * half-way leaves a trail that verifies). A batch holds about `batchSize` events: at most that many when a
 * checkpoint falls within them, else up to the first checkpoint after them (checkpoints come every 1,000
 * events at most). Runs as the schema owner in `tx`: only it may delete from the trail, and only with the
 * purge setting (see policies). Returns how many events went; 0 when nothing more may go.
 */
export async function purgeExpiredAuditEvents(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  // Every event before the first one at or after the cutoff is older than the cutoff, whatever the clock did.
  const lastExpired = await seqBefore(tx, tenantId, cutoff);
  if (lastExpired < 1) return 0;
  const anchor = await checkpointAtOrBefore(tx, tenantId, lastExpired);
  const first = await firstEventSeq(tx, tenantId);
  if (!anchor || first === undefined || first > anchor.seq) return 0;
  const within = { from: first, to: Math.min(anchor.seq, first + batchSize - 1) };
  const end =
    (await checkpointBetween(tx, tenantId, within, 'newest')) ??
    (await checkpointBetween(tx, tenantId, { from: first, to: anchor.seq }, 'oldest')) ??
    anchor;
  return purgeEventsThrough(tx, tenantId, end.seq);
}

export interface PublishedCheckpoints {
  tenant: { slug: string; name: string };
  algorithm: 'Ed25519';
  keys: { keyId: string; publicKey: string; createdAt: string; retiredAt: string | null }[];
  checkpoints: { v: number; tenant: string; seq: number; hash: string; time: string; keyId: string; signature: string }[];
  /** The next page (`?after=`), when this page is full. */
  next: string | null;
}

/**
 * The tenant's signed checkpoints and public keys for anyone to keep: the latest ones, or the ones after a
 * sequence number, oldest first. A copy kept outside Candor proves later whether the trail was rewritten.
 */
export async function publishedCheckpoints(runtime: Runtime, tenant: TenantRef, after?: number): Promise<PublishedCheckpoints> {
  const { keys, rows } = await runtime.db.withTenant(tenant.id, async (tx) => ({
    keys: await runtime.audit.publicKeys(tx, tenant.id),
    rows:
      after === undefined
        ? (await recentCheckpoints(tx, tenant.id, PUBLISHED_CHECKPOINTS)).reverse()
        : await checkpointsAfter(tx, tenant.id, after, PUBLISHED_CHECKPOINTS),
  }));
  const last = rows.at(-1);
  return {
    tenant: { slug: tenant.slug, name: tenant.name },
    algorithm: 'Ed25519',
    keys: keys.map((k) => ({
      keyId: k.keyId,
      publicKey: k.publicKey,
      createdAt: k.createdAt.toISOString(),
      retiredAt: k.retiredAt?.toISOString() ?? null,
    })),
    checkpoints: rows.map((c) => ({
      v: FORMAT_VERSION,
      tenant: c.tenantId,
      seq: c.seq,
      hash: c.hash,
      time: c.signedAt.toISOString(),
      keyId: c.keyId,
      signature: c.signature,
    })),
    next:
      after !== undefined && last && rows.length === PUBLISHED_CHECKPOINTS
        ? `${PUBLIC_CHECKPOINTS_PATH}?after=${last.seq}`
        : null,
  };
}
