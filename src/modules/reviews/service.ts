import { auditScope } from '../../platform/audit/audit.ts';
import type { JsonValue } from '../../platform/audit/canonical.ts';
import { type Actor, actorLabel, type RequestContext, type Runtime } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Conflict, InvalidInput, NotFound } from '../../platform/errors.ts';
import {
  AccessDenied,
  applyRoleRevocation,
  can,
  findRole,
  ownerEmails,
  type Permission,
  type RoleDefinition,
  requirePermission,
  resolveAccess,
} from '../access/service.ts';
import { csvField } from '../audit/service.ts';
import type { Tenant } from '../tenants/schema.ts';
import { listAllTenants, tenantBaseUrl } from '../tenants/service.ts';
import { Decision, StartCampaign } from './schema.ts';
import {
  activeGrants,
  activePeople,
  type CampaignCounts,
  type CampaignRow,
  campaignItems,
  claimNotice,
  closeCampaignRow,
  countsByCampaign,
  findActivePerson,
  findCampaign,
  type ItemWithGrant,
  insertCampaign,
  insertItems,
  lastNoticeDay,
  listCampaignRows,
  lockItem,
  type NewItemRow,
  openCampaignRows,
  openItemsOfReviewer,
  readSettings,
  reviewersWithOpenItems,
  saveSettings,
  tokenCreator,
  updateItem,
} from './store.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** A reviewer hears about open items at most once in this many days (and the same for overdue alerts). */
export const NOTICE_INTERVAL_DAYS = 3;
const SCHEDULE_ACTOR: Actor = { kind: 'system', name: 'access-reviews.schedule' };
const NOTICE_ACTOR: Actor = { kind: 'system', name: 'access-reviews.notices' };
const NO_REVIEWER = 'no one other than this person may manage people’s roles; reassign it or add an administrator';

export type { ItemWithGrant } from './store.ts';

export interface Campaign extends CampaignRow {
  counts: CampaignCounts;
  overdue: boolean;
}

export interface Reviewer {
  id: string;
  email: string;
  name: string;
  permissions: ReadonlySet<Permission>;
}

export interface CampaignDetail {
  campaign: Campaign;
  items: ItemWithGrant[];
  /** True when the viewer lacks reviews.read and sees only the items assigned to them. */
  ownItemsOnly: boolean;
}

const EMPTY_COUNTS: CampaignCounts = { total: 0, undecided: 0, kept: 0, revoked: 0, flagged: 0 };

function withCounts(row: CampaignRow, counts: CampaignCounts | undefined, now: Date): Campaign {
  return { ...row, counts: counts ?? EMPTY_COUNTS, overdue: row.status === 'open' && row.dueAt < now };
}

/** The quarter a date falls in, as campaigns name their period: "2026-Q2". */
export function quarterOf(at: Date): string {
  return `${at.getUTCFullYear()}-Q${Math.floor(at.getUTCMonth() / 3) + 1}`;
}

// ─── Reviewer assignment ────────────────────────────────────────────────────────────────────────────────────

/** Active people who may manage roles: the only ones who can act on a revoke decision. */
async function reviewerPool(tx: Tx, tenantId: string): Promise<Reviewer[]> {
  const people = await activePeople(tx, tenantId);
  const pool: Reviewer[] = [];
  for (const person of people) {
    const { permissions } = await resolveAccess(tx, tenantId, person.id);
    if (permissions.has('users.manage')) pool.push({ ...person, permissions });
  }
  return pool;
}

function mayRevokeAll(reviewer: Reviewer, roles: readonly RoleDefinition[]): boolean {
  return roles.every((role) => role.permissions.every((p) => reviewer.permissions.has(p)));
}

export interface Subject {
  userId: string;
  roles: RoleDefinition[];
}

export type Assignment = { reviewer: Reviewer } | { flag: string };

/**
 * Gives each person's grants to one reviewer who is never that person: the chosen reviewer when there is one,
 * otherwise the least-loaded of the administrators who could revoke every role the person holds (falling back to
 * any other administrator). Nobody left means the person's items are flagged, never self-assigned.
 */
export function assignReviewers(
  subjects: readonly Subject[],
  pool: readonly Reviewer[],
  chosen?: Reviewer,
): Map<string, Assignment> {
  const load = new Map<string, number>(pool.map((r) => [r.id, 0]));
  const result = new Map<string, Assignment>();
  for (const subject of subjects) {
    const others = pool.filter((r) => r.id !== subject.userId);
    let reviewer: Reviewer | undefined;
    if (chosen && chosen.id !== subject.userId) {
      reviewer = chosen;
    } else {
      const capable = others.filter((r) => mayRevokeAll(r, subject.roles));
      const candidates = capable.length > 0 ? capable : others;
      reviewer = [...candidates].sort(
        (a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) || a.email.localeCompare(b.email),
      )[0];
    }
    if (!reviewer) {
      result.set(subject.userId, { flag: NO_REVIEWER });
      continue;
    }
    load.set(reviewer.id, (load.get(reviewer.id) ?? 0) + subject.roles.length);
    result.set(subject.userId, { reviewer });
  }
  return result;
}

async function roleDefinitions(tx: Tx, tenantId: string, slugs: string[]): Promise<Map<string, RoleDefinition>> {
  const roles = new Map<string, RoleDefinition>();
  for (const slug of new Set(slugs)) {
    roles.set(
      slug,
      (await findRole(tx, tenantId, slug)) ?? { slug, name: slug, description: '', builtIn: false, permissions: [] },
    );
  }
  return roles;
}

/** A reviewer someone picked: an active person, not deactivated, who may manage roles. */
async function eligibleReviewer(tx: Tx, tenantId: string, id: string): Promise<Reviewer> {
  const person = await findActivePerson(tx, tenantId, id);
  if (!person) throw new InvalidInput('unknown reviewer', { reviewerId: 'choose an active person from the list' });
  const { permissions } = await resolveAccess(tx, tenantId, id);
  if (!permissions.has('users.manage')) {
    throw new InvalidInput('the reviewer cannot revoke roles', {
      reviewerId: 'choose someone who may manage people’s roles (users.manage): only they can act on a revoke',
    });
  }
  return { ...person, permissions };
}

// ─── Starting ───────────────────────────────────────────────────────────────────────────────────────────────

interface CampaignStart {
  name: string;
  period: string;
  trigger: 'schedule' | 'manual';
  dueInDays: number;
  reviewerId?: string | undefined;
}

/** Snapshots every grant of every active person into a new campaign; undefined when this quarter's scheduled one exists. */
async function startCampaignIn(tx: Tx, ctx: RequestContext, start: CampaignStart): Promise<CampaignRow | undefined> {
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  const chosen = start.reviewerId ? await eligibleReviewer(tx, tenantId, start.reviewerId) : undefined;
  const starter = ctx.actor.kind === 'user' ? ctx.actor.id : null;
  const campaign = await insertCampaign(tx, {
    tenantId,
    name: start.name,
    period: start.period,
    trigger: start.trigger,
    startedById: starter,
    startedByLabel: actorLabel(ctx.actor),
    startedAt: now,
    dueAt: new Date(now.getTime() + start.dueInDays * DAY_MS),
  });
  if (!campaign) return undefined;
  const grants = await activeGrants(tx, tenantId);
  const roles = await roleDefinitions(
    tx,
    tenantId,
    grants.map((g) => g.role),
  );
  const bySubject = new Map<string, typeof grants>();
  for (const grant of grants) bySubject.set(grant.userId, [...(bySubject.get(grant.userId) ?? []), grant]);
  const subjects = [...bySubject].map(([userId, held]) => ({
    userId,
    roles: held.flatMap((g) => roles.get(g.role) ?? []),
  }));
  const assignments = assignReviewers(subjects, await reviewerPool(tx, tenantId), chosen);
  const items: NewItemRow[] = grants.map((grant) => {
    const assignment = assignments.get(grant.userId);
    const reviewer = assignment && 'reviewer' in assignment ? assignment.reviewer : undefined;
    return {
      tenantId,
      campaignId: campaign.id,
      subjectId: grant.userId,
      subjectEmail: grant.email,
      subjectName: grant.name,
      role: grant.role,
      roleName: roles.get(grant.role)?.name ?? grant.role,
      reviewerId: reviewer?.id ?? null,
      reviewerEmail: reviewer?.email ?? null,
      flag: reviewer ? null : NO_REVIEWER,
    };
  });
  await insertItems(tx, items);
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'access_review.started',
    target: { type: 'access_review', id: campaign.id },
    details: {
      name: campaign.name,
      period: campaign.period,
      trigger: campaign.trigger,
      dueAt: campaign.dueAt.toISOString(),
      items: items.length,
      flagged: items.filter((i) => i.reviewerId === null).length,
      ...(chosen ? { reviewer: chosen.email } : {}),
    },
  });
  return campaign;
}

/** Starts a campaign by hand (reviews.manage): now, due in 14 days unless told otherwise. */
export async function startCampaign(ctx: RequestContext, input: StartCampaign): Promise<Campaign> {
  requirePermission(ctx.actor, 'reviews.manage');
  const data = StartCampaign.parse(input);
  const now = ctx.clock.now();
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const row = await startCampaignIn(tx, ctx, {
      name: data.name ?? `Access review ${now.toISOString().slice(0, 10)}`,
      period: quarterOf(now),
      trigger: 'manual',
      dueInDays: data.dueInDays,
      reviewerId: data.reviewerId,
    });
    if (!row) throw new Conflict('the campaign could not be started'); // manual campaigns never collide
    return withCounts(row, (await countsByCampaign(tx, tenantId, [row.id])).get(row.id), now);
  });
}

function systemContext(runtime: Runtime, tenant: Tenant, actor: Actor): RequestContext {
  return {
    ...runtime,
    tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
    actor,
    requestId: '',
    ip: '',
    userAgent: '',
  };
}

/**
 * The quarterly run: one campaign per tenant whose schedule is on, named after the quarter. Idempotent: a
 * tenant that has this quarter's scheduled campaign already gets nothing new. Returns how many were started.
 */
export async function startScheduledCampaigns(runtime: Runtime): Promise<number> {
  const now = runtime.clock.now();
  const period = quarterOf(now);
  let started = 0;
  for (const tenant of await listAllTenants(runtime.db)) {
    const ctx = systemContext(runtime, tenant, SCHEDULE_ACTOR);
    const row = await runtime.db.withTenant(tenant.id, async (tx) => {
      if (!(await readSettings(tx, tenant.id)).scheduleEnabled) return undefined;
      return startCampaignIn(tx, ctx, { name: `Access review ${period}`, period, trigger: 'schedule', dueInDays: 14 });
    });
    if (row) started++;
  }
  return started;
}

// ─── Reading ────────────────────────────────────────────────────────────────────────────────────────────────

export async function listCampaigns(ctx: RequestContext): Promise<Campaign[]> {
  requirePermission(ctx.actor, 'reviews.read');
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  return ctx.db.withTenant(tenantId, async (tx) => {
    const rows = await listCampaignRows(tx, tenantId);
    const counts = await countsByCampaign(
      tx,
      tenantId,
      rows.map((r) => r.id),
    );
    return rows.map((r) => withCounts(r, counts.get(r.id), now));
  });
}

/**
 * A campaign with its items. Holders of reviews.read see every item (optionally one reviewer's); a reviewer
 * without it sees only the items assigned to them, and someone with neither is refused.
 */
export async function getCampaign(
  ctx: RequestContext,
  id: string,
  filter: { reviewerId?: string | undefined } = {},
): Promise<CampaignDetail> {
  const tenantId = ctx.tenant.id;
  const readsAll = can(ctx.actor, 'reviews.read');
  const detail = await ctx.db.withTenant(tenantId, async (tx) => {
    const row = await findCampaign(tx, tenantId, id);
    if (!row) return undefined;
    const self = readsAll ? undefined : await actingPersonId(tx, ctx);
    const items = await campaignItems(tx, tenantId, id, readsAll ? filter.reviewerId : (self ?? undefined));
    if (!readsAll && (!self || items.length === 0)) requirePermission(ctx.actor, 'reviews.read');
    const counts = (await countsByCampaign(tx, tenantId, [id])).get(id);
    return { campaign: withCounts(row, counts, ctx.clock.now()), items, ownItemsOnly: !readsAll };
  });
  if (!detail) {
    requirePermission(ctx.actor, 'reviews.read');
    throw new NotFound('access review', id);
  }
  return detail;
}

/** The undecided items of open campaigns assigned to the signed-in person ("my reviews"). */
export async function myReviewItems(ctx: RequestContext): Promise<(ItemWithGrant & { campaignName: string; dueAt: Date })[]> {
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const self = await actingPersonId(tx, ctx);
    return self ? openItemsOfReviewer(tx, tenantId, self) : [];
  });
}

/** Who may be given items: active people who may manage roles (for the start and reassign forms). */
export async function reviewerOptions(ctx: RequestContext): Promise<Reviewer[]> {
  if (!can(ctx.actor, 'reviews.manage')) return [];
  return ctx.db.withTenant(ctx.tenant.id, (tx) => reviewerPool(tx, ctx.tenant.id));
}

/**
 * The person behind the request: a signed-in person, or the creator of the API token in use (so a reviewer's own
 * token may carry their decision). Other tokens and the system are nobody's reviewer.
 */
async function actingPersonId(tx: Tx, ctx: RequestContext): Promise<string | null> {
  if (ctx.actor.kind === 'user') return ctx.actor.id;
  if (ctx.actor.kind === 'token') return tokenCreator(tx, ctx.tenant.id, ctx.actor.id);
  return null;
}

// ─── Deciding, reassigning, closing ─────────────────────────────────────────────────────────────────────────

export interface DecisionResult {
  outcome: 'kept' | 'revoked' | 'already_gone';
  email: string;
  roleName: string;
  campaignClosed: boolean;
}

/** Revokes through the access capability (its rules apply); a grant removed meanwhile is reported, not an error. */
async function revokeReviewedGrant(
  tx: Tx,
  ctx: RequestContext,
  subjectId: string,
  role: string,
): Promise<'revoked' | 'already_gone'> {
  try {
    await applyRoleRevocation(tx, ctx, subjectId, role);
    return 'revoked';
  } catch (error) {
    if (error instanceof NotFound) return 'already_gone';
    throw error;
  }
}

/**
 * Keep or revoke one grant. Only the assigned reviewer decides (never the person: assignment sees to that, and the
 * access capability refuses changes to one's own roles again). Revoking takes effect at once, in this transaction,
 * and is recorded as the revocation and as the decision. A keep may become a revoke while the campaign is open; a
 * revoke is final, and so is everything once the campaign is closed. The last decision closes the campaign.
 */
export async function decideItem(
  ctx: RequestContext,
  campaignId: string,
  itemId: string,
  input: Decision,
): Promise<DecisionResult> {
  const data = Decision.parse(input);
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  return ctx.db.withTenant(tenantId, async (tx) => {
    const campaign = await findCampaign(tx, tenantId, campaignId, true);
    const item = campaign && (await lockItem(tx, tenantId, campaignId, itemId));
    if (!campaign || !item) throw new NotFound('access review item', itemId);
    const self = await actingPersonId(tx, ctx);
    if (!self || item.reviewerId !== self) {
      throw new AccessDenied(
        `decide an access review item assigned to ${item.reviewerEmail ?? 'nobody'}`,
        'only the reviewer this item is assigned to can decide it',
      );
    }
    if (campaign.status !== 'open') throw new Conflict('this campaign is closed: its decisions are final');
    if (item.decision === 'revoke') throw new Conflict('this grant was revoked in this review already');
    const outcome = data.decision === 'revoke' ? await revokeReviewedGrant(tx, ctx, item.subjectId, item.role) : 'kept';
    const by = actorLabel(ctx.actor);
    await updateItem(tx, tenantId, itemId, {
      decision: data.decision,
      outcome,
      decidedById: self,
      decidedByLabel: by,
      decidedAt: now,
      note: data.note ?? null,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access_review.item_decided',
      target: { type: 'access_review_item', id: itemId },
      details: {
        campaignId,
        userId: item.subjectId,
        email: item.subjectEmail,
        role: item.role,
        decision: data.decision,
        outcome,
        ...(item.decision ? { previousDecision: item.decision } : {}),
        ...(data.note ? { note: data.note } : {}),
      },
    });
    const counts = (await countsByCampaign(tx, tenantId, [campaignId])).get(campaignId) ?? EMPTY_COUNTS;
    if (counts.undecided === 0) await closeIn(tx, ctx, campaign, counts, 'every item decided');
    return { outcome, email: item.subjectEmail, roleName: item.roleName, campaignClosed: counts.undecided === 0 };
  });
}

/** Gives an undecided item to another reviewer (reviews.manage); never to the person whose grant it is. */
export async function reassignItem(ctx: RequestContext, campaignId: string, itemId: string, reviewerId: string): Promise<void> {
  requirePermission(ctx.actor, 'reviews.manage');
  const tenantId = ctx.tenant.id;
  await ctx.db.withTenant(tenantId, async (tx) => {
    const campaign = await findCampaign(tx, tenantId, campaignId, true);
    const item = campaign && (await lockItem(tx, tenantId, campaignId, itemId));
    if (!campaign || !item) throw new NotFound('access review item', itemId);
    if (campaign.status !== 'open') throw new Conflict('this campaign is closed: nothing can be reassigned');
    if (item.decision) throw new Conflict('this item is decided already');
    if (reviewerId === item.subjectId) {
      throw new InvalidInput('nobody reviews their own access', {
        reviewerId: 'nobody reviews their own access; choose someone else',
      });
    }
    const reviewer = await eligibleReviewer(tx, tenantId, reviewerId);
    await updateItem(tx, tenantId, itemId, { reviewerId: reviewer.id, reviewerEmail: reviewer.email, flag: null });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access_review.item_reassigned',
      target: { type: 'access_review_item', id: itemId },
      details: { campaignId, email: item.subjectEmail, role: item.role, from: item.reviewerEmail, to: reviewer.email },
    });
  });
}

async function closeIn(
  tx: Tx,
  ctx: RequestContext,
  campaign: CampaignRow,
  counts: CampaignCounts,
  reason: string,
): Promise<void> {
  const tenantId = ctx.tenant.id;
  await closeCampaignRow(tx, tenantId, campaign.id, ctx.clock.now(), actorLabel(ctx.actor));
  const undecided =
    counts.undecided > 0
      ? (await campaignItems(tx, tenantId, campaign.id))
          .filter((i) => !i.decision)
          .slice(0, 200)
          .map((i): JsonValue => `${i.subjectEmail}: ${i.role}`)
      : [];
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'access_review.closed',
    target: { type: 'access_review', id: campaign.id },
    details: { name: campaign.name, reason, ...counts, undecidedItems: undecided },
  });
}

/** Closes a campaign by hand (reviews.manage); undecided items stay undecided and are listed as such. */
export async function closeCampaign(ctx: RequestContext, id: string): Promise<Campaign> {
  requirePermission(ctx.actor, 'reviews.manage');
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const campaign = await findCampaign(tx, tenantId, id, true);
    if (!campaign) throw new NotFound('access review', id);
    if (campaign.status !== 'open') throw new Conflict('this campaign is closed already');
    const counts = (await countsByCampaign(tx, tenantId, [id])).get(id) ?? EMPTY_COUNTS;
    await closeIn(tx, ctx, campaign, counts, 'closed by hand');
    const closed = await findCampaign(tx, tenantId, id);
    return withCounts(closed ?? campaign, counts, ctx.clock.now());
  });
}

// ─── Settings ───────────────────────────────────────────────────────────────────────────────────────────────

export interface ReviewSettings {
  scheduleEnabled: boolean;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export function getReviewSettings(ctx: RequestContext): Promise<ReviewSettings> {
  requirePermission(ctx.actor, 'reviews.read');
  return ctx.db.withTenant(ctx.tenant.id, (tx) => readSettings(tx, ctx.tenant.id));
}

export async function updateReviewSettings(ctx: RequestContext, change: { scheduleEnabled: boolean }): Promise<ReviewSettings> {
  requirePermission(ctx.actor, 'reviews.manage');
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const before = await readSettings(tx, tenantId);
    await saveSettings(tx, tenantId, change.scheduleEnabled, ctx.clock.now(), actorLabel(ctx.actor));
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access_review.settings_changed',
      target: { type: 'access_review_settings' },
      details: { scheduleEnabled: change.scheduleEnabled, before: { scheduleEnabled: before.scheduleEnabled } },
    });
    return readSettings(tx, tenantId);
  });
}

// ─── Evidence ───────────────────────────────────────────────────────────────────────────────────────────────

const CSV_COLUMNS = ['campaign', 'person', 'email', 'role', 'reviewer', 'decision', 'decided_at', 'note'] as const;

function decisionText(item: ItemWithGrant): string {
  if (!item.decision) return item.reviewerId ? 'undecided' : 'undecided (no reviewer)';
  if (item.outcome === 'already_gone') return `${item.decision} (grant already gone)`;
  return item.decision;
}

/** The evidence as CSV lines (RFC 4180 fields, formula-safe), header first. */
export function evidenceCsv(detail: CampaignDetail): string[] {
  const lines = [CSV_COLUMNS.join(',')];
  for (const item of detail.items) {
    lines.push(
      [
        detail.campaign.name,
        item.subjectName,
        item.subjectEmail,
        item.role,
        item.reviewerEmail ?? '',
        decisionText(item),
        item.decidedAt?.toISOString() ?? '',
        item.note ?? '',
      ]
        .map(csvField)
        .join(','),
    );
  }
  return lines;
}

/**
 * A closed campaign as evidence (reviews.read): every item, who decided what and when. Exporting is recorded.
 * An open campaign is refused: evidence of a review still under way would be overtaken by its decisions.
 */
export async function campaignEvidence(ctx: RequestContext, id: string, format: 'csv' | 'print'): Promise<CampaignDetail> {
  requirePermission(ctx.actor, 'reviews.read');
  const detail = await getCampaign(ctx, id);
  if (detail.campaign.status !== 'closed') throw new Conflict('evidence is available once the campaign is closed');
  await ctx.db.withTenant(ctx.tenant.id, (tx) =>
    ctx.audit.record(tx, auditScope(ctx), {
      action: 'access_review.exported',
      target: { type: 'access_review', id },
      details: { format, items: detail.items.length },
    }),
  );
  return detail;
}

// ─── Reminders and overdue alerts ───────────────────────────────────────────────────────────────────────────

function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Whether a notice last sent on `lastDay` may go again today (at most once every few days). */
function dueAgain(lastDay: string | undefined, today: string): boolean {
  if (!lastDay) return true;
  return Date.parse(today) - Date.parse(lastDay) >= NOTICE_INTERVAL_DAYS * DAY_MS;
}

/** Queues one notice unless it went out within the interval or already today; true when queued. */
async function noticeOnce(
  tx: Tx,
  runtime: Runtime,
  tenantId: string,
  notice: { recipient: string; key: string; subject: string; text: string },
): Promise<boolean> {
  const now = runtime.clock.now();
  const today = dayOf(now);
  if (!dueAgain(await lastNoticeDay(tx, tenantId, notice.recipient, notice.key), today)) return false;
  if (!(await claimNotice(tx, { tenantId, recipient: notice.recipient, notice: notice.key, sentOn: today, sentAt: now }))) {
    return false;
  }
  await runtime.mail.enqueue(tx, tenantId, { to: notice.recipient, subject: notice.subject, text: notice.text });
  return true;
}

/** One tenant's reminders (reviewers with open items) and overdue alerts (their reviewers and the owners). */
async function sendTenantNotices(runtime: Runtime, tenant: Tenant): Promise<{ reminders: number; overdue: number }> {
  const base = tenantBaseUrl(runtime.config.publicUrl, tenant);
  const now = runtime.clock.now();
  return runtime.db.withTenant(tenant.id, async (tx) => {
    const open = await reviewersWithOpenItems(tx, tenant.id);
    if (open.length === 0) return { reminders: 0, overdue: 0 };
    const campaigns = new Map((await openCampaignRows(tx, tenant.id)).map((c) => [c.id, c]));
    let reminders = 0;
    let overdue = 0;
    const byReviewer = new Map<string, typeof open>();
    for (const row of open) byReviewer.set(row.email, [...(byReviewer.get(row.email) ?? []), row]);
    for (const [email, rows] of byReviewer) {
      const lines = rows.map((r) => {
        const c = campaigns.get(r.campaignId);
        return `- ${c?.name ?? 'A campaign'}: ${r.open} grant(s) to review, due ${c ? dayOf(c.dueAt) : '?'}`;
      });
      const sent = await noticeOnce(tx, runtime, tenant.id, {
        recipient: email,
        key: 'reminder',
        subject: `Access review: ${rows.reduce((n, r) => n + r.open, 0)} grant(s) await your decision`,
        text: [
          `You review who keeps which role in ${tenant.name}. These campaigns wait for your decisions:`,
          '',
          ...lines,
          '',
          `Keep or revoke each grant here: ${base}/admin/access-reviews/mine`,
        ].join('\n'),
      });
      if (sent) reminders++;
    }
    const owners = await ownerEmails(tx, tenant.id);
    for (const campaign of campaigns.values()) {
      if (campaign.dueAt >= now) continue;
      const late = open.filter((r) => r.campaignId === campaign.id);
      if (late.length === 0) continue;
      const undecided = late.reduce((n, r) => n + r.open, 0);
      const recipients = new Set([...late.map((r) => r.email), ...owners]);
      for (const recipient of recipients) {
        const sent = await noticeOnce(tx, runtime, tenant.id, {
          recipient,
          key: `overdue:${campaign.id}`,
          subject: `Overdue access review: ${campaign.name}`,
          text: [
            `The access review “${campaign.name}” of ${tenant.name} was due on ${dayOf(campaign.dueAt)} and still has ${undecided} undecided grant(s).`,
            '',
            ...late.map((r) => `- ${r.email}: ${r.open} undecided`),
            '',
            `The campaign: ${base}/admin/access-reviews/${campaign.id}`,
          ].join('\n'),
        });
        if (sent) overdue++;
      }
    }
    if (reminders + overdue > 0) {
      await runtime.audit.record(tx, auditScope(systemContext(runtime, tenant, NOTICE_ACTOR)), {
        action: 'access_review.notices_sent',
        target: { type: 'access_review' },
        details: { reminders, overdue },
      });
    }
    return { reminders, overdue };
  });
}

/** The daily run over every tenant; idempotent within a day (each notice is claimed per recipient and day). */
export async function sendReviewNotices(runtime: Runtime): Promise<{ reminders: number; overdue: number }> {
  const total = { reminders: 0, overdue: 0 };
  for (const tenant of await listAllTenants(runtime.db)) {
    const sent = await sendTenantNotices(runtime, tenant);
    total.reminders += sent.reminders;
    total.overdue += sent.overdue;
  }
  return total;
}

// ─── For offboarding ────────────────────────────────────────────────────────────────────────────────────────

export interface ReviewDuty {
  capability: string;
  description: string;
  href: string;
}

/**
 * Items of open campaigns awaiting this person's decision, in the caller's transaction: when the person leaves,
 * these are duties to reassign (offboarding lists them).
 */
export async function openReviewAssignments(tx: Tx, tenantId: string, userId: string): Promise<ReviewDuty[]> {
  const items = await openItemsOfReviewer(tx, tenantId, userId);
  return items.map((item) => ({
    capability: 'Access reviews',
    description: `Review ${item.subjectEmail}’s role “${item.roleName}” in “${item.campaignName}”`,
    href: `/admin/access-reviews/${item.campaignId}?reviewer=${userId}`,
  }));
}
