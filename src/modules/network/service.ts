import { type AuditScope, auditScope } from '../../platform/audit/audit.ts';
import { actorLabel, type RequestContext, type Runtime } from '../../platform/context.ts';
import type { Database } from '../../platform/db/client.ts';
import { InvalidInput } from '../../platform/errors.ts';
import { type CidrBlock, inAnyCidr, parseCidr, parseIpAddress } from '../../platform/http/client-ip.ts';
import { requirePermission } from '../access/service.ts';
import {
  ALLOWLIST_NAMES,
  ALLOWLIST_TITLES,
  type Allowlist,
  type AllowlistEntry,
  type AllowlistEntryInput,
  type AllowlistName,
  AllowlistUpdate,
} from './schema.ts';
import { type AllowlistRow, readAllowlistRow, readAllowlistRows, writeAllowlistRow } from './store.ts';

// --- the lists in force, cached per process ------------------------------------------------------------

/** A list as the per-request check needs it: parsed once when loaded, never per request. */
interface ListInForce {
  enabled: boolean;
  blocks: CidrBlock[];
}

type ListsInForce = Record<AllowlistName, ListInForce>;

/**
 * How long a process trusts its copy of a tenant's lists. A change made in this process forgets the copy at
 * once; a change made by another process (a second server on PostgreSQL, a CLI run without a server) is
 * seen within this time. Short enough for a break-glass `candor allowlist disable`, long enough that a warm
 * cache spares every /admin and /api request a database round trip.
 */
export const ALLOWLIST_CACHE_TTL_MS = 10_000;

// Keyed by the database first: each test app (and each process) has its own, and tenants never share ids.
const cachedLists = new WeakMap<Database, Map<string, { lists: ListsInForce; loadedAt: number }>>();

function cacheOf(db: Database) {
  let cache = cachedLists.get(db);
  if (!cache) {
    cache = new Map();
    cachedLists.set(db, cache);
  }
  return cache;
}

const OPEN: ListInForce = { enabled: false, blocks: [] };

function listInForce(row: AllowlistRow | undefined): ListInForce {
  if (!row?.enabled) return OPEN;
  // Stored entries were canonical when saved; one that no longer parses is skipped rather than trusted.
  const blocks = row.entries.flatMap((e) => {
    const parsed = parseCidr(e.cidr);
    return parsed.ok ? [parsed.block] : [];
  });
  return { enabled: true, blocks };
}

async function loadListsInForce(runtime: Runtime, tenantId: string): Promise<ListsInForce> {
  const rows = await runtime.db.withTenant(tenantId, (tx) => readAllowlistRows(tx, tenantId));
  return {
    admin: listInForce(rows.find((r) => r.list === 'admin')),
    api: listInForce(rows.find((r) => r.list === 'api')),
  };
}

async function listsInForce(runtime: Runtime, tenantId: string): Promise<ListsInForce> {
  const cache = cacheOf(runtime.db);
  const now = runtime.clock.now().getTime();
  const cached = cache.get(tenantId);
  if (cached && now - cached.loadedAt < ALLOWLIST_CACHE_TTL_MS && now >= cached.loadedAt) return cached.lists;
  const lists = await loadListsInForce(runtime, tenantId);
  cache.set(tenantId, { lists, loadedAt: now });
  return lists;
}

/** Drops this process's copy of a tenant's lists: the next request reads them afresh. */
export function forgetAllowlists(db: Database, tenantId: string): void {
  cacheOf(db).delete(tenantId);
}

function contains(blocks: readonly CidrBlock[], ip: string): boolean {
  const address = parseIpAddress(ip);
  return address !== undefined && inAnyCidr(blocks, address);
}

/** Whether a client address may use a surface of a tenant: always when its list is off. */
export async function addressAllowed(runtime: Runtime, tenantId: string, list: AllowlistName, ip: string): Promise<boolean> {
  const inForce = (await listsInForce(runtime, tenantId))[list];
  return !inForce.enabled || contains(inForce.blocks, ip);
}

// --- recording outside requests ------------------------------------------------------------------------

/**
 * At most one `access.outside_allowlist` event per tenant, list and address per minute, counted in this
 * process: a flood from outside must not write the trail (and its hash chain) without bound. The first
 * request of each minute is recorded, which is all the alert rule needs; the rest are refused silently.
 */
const OUTSIDE_RECORD_EVERY_MS = 60_000;
// Beyond this many remembered addresses, the stale ones are dropped (a spray of IPv6 addresses, say).
const OUTSIDE_MEMORY_LIMIT = 10_000;
const lastOutsideRecord = new Map<string, number>();

function shouldRecordOutside(key: string, now: number): boolean {
  const last = lastOutsideRecord.get(key);
  if (last !== undefined && now - last < OUTSIDE_RECORD_EVERY_MS && now >= last) return false;
  if (lastOutsideRecord.size >= OUTSIDE_MEMORY_LIMIT) {
    for (const [k, at] of lastOutsideRecord) if (now - at >= OUTSIDE_RECORD_EVERY_MS) lastOutsideRecord.delete(k);
  }
  lastOutsideRecord.set(key, now);
  return true;
}

export interface OutsideRequest {
  list: AllowlistName;
  method: string;
  path: string;
}

/** Records a request refused by an allow-list (throttled as above); the caller answers 403 either way. */
export async function recordOutsideRequest(ctx: RequestContext, request: OutsideRequest): Promise<void> {
  const key = `${ctx.tenant.id}|${request.list}|${ctx.ip}`;
  if (!shouldRecordOutside(key, ctx.clock.now().getTime())) return;
  await ctx.db.withTenant(ctx.tenant.id, (tx) =>
    ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.outside_allowlist',
      target: { type: 'ip_allowlist', id: request.list },
      outcome: 'denied',
      details: { list: request.list, method: request.method, path: request.path },
    }),
  );
}

// --- reading and changing the lists ----------------------------------------------------------------------

function allowlistOf(list: AllowlistName, row: AllowlistRow | undefined): Allowlist {
  return {
    list,
    enabled: row?.enabled ?? false,
    entries: row?.entries.map((e) => ({ cidr: e.cidr, label: e.label })) ?? [],
    updatedAt: row?.updatedAt ?? null,
    updatedBy: row?.updatedBy ?? null,
  };
}

/** Both lists of the tenant, as saved (a list never saved is off and empty). Needs `settings.read`. */
export async function listAllowlists(ctx: RequestContext): Promise<Allowlist[]> {
  requirePermission(ctx.actor, 'settings.read');
  const rows = await ctx.db.withTenant(ctx.tenant.id, (tx) => readAllowlistRows(tx, ctx.tenant.id));
  return ALLOWLIST_NAMES.map((list) =>
    allowlistOf(
      list,
      rows.find((r) => r.list === list),
    ),
  );
}

/** Whether an address falls inside a list's entries (whether or not the list is on). */
export function entriesContain(entries: readonly AllowlistEntry[], ip: string): boolean {
  return contains(
    entries.flatMap((e) => {
      const parsed = parseCidr(e.cidr);
      return parsed.ok ? [parsed.block] : [];
    }),
    ip,
  );
}

/** Entries in canonical form; every bad one is named (`entries.<n>.cidr`) and nothing is saved. */
function canonicalEntries(entries: readonly { cidr: string; label: string }[]): AllowlistEntry[] {
  const errors: Record<string, string> = {};
  const canonical: AllowlistEntry[] = [];
  for (const [i, entry] of entries.entries()) {
    const parsed = parseCidr(entry.cidr);
    if (parsed.ok) canonical.push({ cidr: parsed.block.text, label: entry.label });
    else errors[`entries.${i}.cidr`] = parsed.error;
  }
  const bad = Object.keys(errors).length;
  if (bad > 0) {
    throw new InvalidInput(
      bad === 1 ? 'an entry is not an IP address or CIDR range' : `${bad} entries are not IP addresses or CIDR ranges`,
      errors,
    );
  }
  return canonical;
}

/** The list the actor is using right now: a person works in the back office, a token through the API. */
function surfaceOf(ctx: RequestContext): AllowlistName | undefined {
  if (ctx.actor.kind === 'user') return 'admin';
  if (ctx.actor.kind === 'token') return 'api';
  return undefined;
}

/**
 * Why saving would lock the person making the change out of the surface they are using, or undefined. The
 * command line (the break-glass path) is never locked out: it does not go through an allow-list.
 */
function lockoutReason(
  ctx: RequestContext,
  list: AllowlistName,
  enabled: boolean,
  entries: AllowlistEntry[],
): string | undefined {
  if (!enabled || surfaceOf(ctx) !== list) return undefined;
  if (entriesContain(entries, ctx.ip)) return undefined;
  return (
    `your address ${ctx.ip} is not in this list, so saving it would lock you out of the ${ALLOWLIST_TITLES[list]}; ` +
    `add ${ctx.ip} or a range that contains it first`
  );
}

function listDetails(a: { enabled: boolean; entries: AllowlistEntry[] }) {
  return { enabled: a.enabled, entries: a.entries.map((e) => ({ cidr: e.cidr, label: e.label })) };
}

/**
 * Replaces one list. Refused (422, nothing saved): a bad entry (each named), an enabled list with no entries,
 * and a change that would put the person making it outside the list they are using; that last refusal is
 * recorded. The change is recorded with before and after, and this process's cache is forgotten at once.
 */
export async function updateAllowlist(ctx: RequestContext, list: AllowlistName, input: AllowlistUpdate): Promise<Allowlist> {
  requirePermission(ctx.actor, 'settings.manage');
  const update = AllowlistUpdate.parse(input);
  const entries = canonicalEntries(update.entries);
  if (update.enabled && entries.length === 0) {
    throw new InvalidInput('an allow-list that is on needs at least one entry: with none it would let nobody in', {
      entries: 'add at least one address or range, or turn the list off',
    });
  }
  const lockout = lockoutReason(ctx, list, update.enabled, entries);
  const tenantId = ctx.tenant.id;
  const saved = await ctx.db.withTenant(tenantId, async (tx) => {
    const before = allowlistOf(list, await readAllowlistRow(tx, tenantId, list, true));
    if (lockout) {
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'ip_allowlist.change_refused',
        target: { type: 'ip_allowlist', id: list },
        outcome: 'denied',
        details: { list, reason: 'would_lock_out', attempted: listDetails({ enabled: update.enabled, entries }) },
      });
      return undefined;
    }
    const row: AllowlistRow = {
      tenantId,
      list,
      enabled: update.enabled,
      entries,
      updatedAt: ctx.clock.now(),
      updatedBy: actorLabel(ctx.actor),
    };
    await writeAllowlistRow(tx, row);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'ip_allowlist.updated',
      target: { type: 'ip_allowlist', id: list },
      details: { list, before: listDetails(before), after: listDetails(row) },
    });
    return allowlistOf(list, row);
  });
  if (!saved) throw new InvalidInput(lockout ?? 'refused', { entries: lockout ?? 'refused' });
  forgetAllowlists(ctx.db, tenantId);
  return saved;
}

/**
 * Break-glass: turns a list off (its entries stay, to turn it back on once fixed). Used from the command
 * line when nobody can reach the back office any more. Returns whether anything changed.
 */
export async function disableAllowlist(runtime: Runtime, scope: AuditScope, list: AllowlistName): Promise<boolean> {
  requirePermission(scope.actor, 'settings.manage');
  const changed = await runtime.db.withTenant(scope.tenantId, async (tx) => {
    const row = await readAllowlistRow(tx, scope.tenantId, list, true);
    if (!row?.enabled) return false;
    await writeAllowlistRow(tx, { ...row, enabled: false, updatedAt: runtime.clock.now(), updatedBy: actorLabel(scope.actor) });
    await runtime.audit.record(tx, scope, {
      action: 'ip_allowlist.disabled',
      target: { type: 'ip_allowlist', id: list },
      details: { list, before: listDetails(row) },
    });
    return true;
  });
  forgetAllowlists(runtime.db, scope.tenantId);
  return changed;
}

/** Both lists for the command line (which acts as the system and needs no permission check here). */
export async function allowlistsOfTenant(runtime: Runtime, tenantId: string): Promise<Allowlist[]> {
  const rows = await runtime.db.withTenant(tenantId, (tx) => readAllowlistRows(tx, tenantId));
  return ALLOWLIST_NAMES.map((list) =>
    allowlistOf(
      list,
      rows.find((r) => r.list === list),
    ),
  );
}

/** Parses the form's text: one entry a line, `CIDR label…`; blank lines are skipped. Line numbers are kept. */
export function entriesFromText(text: string): { entries: AllowlistEntryInput[]; lines: number[] } {
  const entries: AllowlistEntryInput[] = [];
  const lines: number[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const [cidr = '', ...label] = line.split(/\s+/);
    entries.push({ cidr, label: label.join(' ') });
    lines.push(i + 1);
  }
  return { entries, lines };
}

/** The form's text for a list: what entriesFromText reads back. */
export function entriesToText(entries: readonly AllowlistEntry[]): string {
  return entries.map((e) => (e.label ? `${e.cidr} ${e.label}` : e.cidr)).join('\n');
}
