import { diffLines } from 'diff';
import { auditScope } from '../../platform/audit/audit.ts';
import { type Actor, actorLabel, type RequestContext, type Runtime } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Conflict, Forbidden, InvalidInput, NotFound } from '../../platform/errors.ts';
import { isLocale, LOCALES, type Locale } from '../../platform/i18n/locales.ts';
import { requirePermission } from '../access/service.ts';
import { readDocuments } from '../documents/store.ts';
import { getTenant } from '../tenants/service.ts';
import { announcePagesChanged, EVERY_LOCALE, forgetPages } from './cache.ts';
import {
  type CertificateFile,
  describeFiles,
  fileFieldOf,
  isBlobId,
  requireKnownFiles,
  stagedUploads,
  storePendingFiles,
} from './certificates.ts';
import type { Upload } from './files.ts';
import { isSafeUrl } from './markdown.ts';
import {
  DEFAULT_LOCALE,
  type DocumentInput,
  type FieldSpec,
  isPolicySection,
  MAX_ITEMS,
  MAX_MARKDOWN,
  MAX_TEXT,
  POLICY_PREFIX,
  SECTIONS,
  type SectionSpec,
  slugify,
  specOf,
} from './schema.ts';
import {
  type DraftRow,
  insertVersion,
  readDraft,
  readDrafts,
  readDueDrafts,
  readLatestVersions,
  readPublishedNumbers,
  readVersion,
  readVersions,
  type VersionRow,
  writeDraft,
} from './store.ts';
import type { StoredDocument } from './tables.ts';

export type ReviewState = 'draft' | 'in_review' | 'approved';

export interface SectionSummary {
  section: string;
  title: string;
  spec: SectionSpec;
  draft: DraftRow | undefined;
  publishedVersion: number | null;
  unpublishedChanges: boolean;
  /** In a locale other than English: nothing of its own is live, so the public site shows the English version. */
  showsEnglish: boolean;
}

// --- validation -------------------------------------------------------------------------------------------

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const EMAIL = /^[^\s@<>()"]+@[^\s@<>()"]+\.[^\s@<>()"]+$/;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function fieldError(spec: FieldSpec, value: string): string | undefined {
  if (value === '') return spec.required ? `enter the ${spec.label.toLowerCase()}` : undefined;
  const max = spec.kind === 'markdown' ? MAX_MARKDOWN : MAX_TEXT;
  if (value.length > max) return `use at most ${max} characters`;
  switch (spec.kind) {
    case 'date':
      return DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ? undefined : 'enter a date as YYYY-MM-DD';
    case 'email':
      return EMAIL.test(value) ? undefined : 'enter an email address';
    case 'slug':
      return SLUG.test(value) ? undefined : 'use lower-case letters, digits and hyphens';
    case 'url':
      return isSafeUrl(value) ? undefined : 'enter an http(s) address';
    case 'file':
      return isBlobId(value) ? undefined : 'upload the file again';
    default:
      return undefined;
  }
}

function clean(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\r\n?/g, '\n').trim() : '';
}

/**
 * The document as saved: known fields only, trimmed; empty items dropped; anchors filled in from the
 * question or title and kept unique. Every bad field is named (`fields.title`, `items.2.answer`).
 */
export function validateDocument(spec: SectionSpec, input: DocumentInput): StoredDocument {
  const errors: Record<string, string> = {};
  const fields: Record<string, string> = {};
  for (const f of spec.fields) {
    const value = clean(input.fields?.[f.name]);
    const error = fieldError(f, value);
    if (error) errors[`fields.${f.name}`] = error;
    fields[f.name] = value;
  }
  const items: Record<string, string>[] = [];
  if (spec.items) {
    const raw = input.items ?? [];
    if (raw.length > MAX_ITEMS) errors.items = `use at most ${MAX_ITEMS} items`;
    const anchors = new Set<string>();
    for (const [i, entry] of raw.entries()) {
      const item: Record<string, string> = {};
      for (const f of spec.items.fields) item[f.name] = clean(entry[f.name]);
      if (Object.values(item).every((v) => v === '')) continue;
      for (const f of spec.items.fields) {
        const error = fieldError(f, item[f.name] ?? '');
        if (error) errors[`items.${i}.${f.name}`] = error;
      }
      const slugField = spec.items.fields.find((f) => f.kind === 'slug');
      if (slugField) {
        const base = item[slugField.name] || slugify(item.question || item.title || '');
        let anchor = base;
        for (let n = 2; anchors.has(anchor); n++) anchor = `${base}-${n}`;
        anchors.add(anchor);
        item[slugField.name] = anchor;
      }
      items.push(item);
    }
  }
  const bad = Object.keys(errors).length;
  if (bad > 0) throw new InvalidInput(bad === 1 ? 'a field needs correcting' : `${bad} fields need correcting`, errors);
  return { fields, items };
}

// --- who is acting ----------------------------------------------------------------------------------------

/** A stable id for the separation-of-duties check: a person's id, a token's id, or null for the system. */
function actorId(actor: Actor): string | null {
  if (actor.kind === 'user') return `user:${actor.id}`;
  if (actor.kind === 'token') return `token:${actor.id}`;
  return null;
}

function sectionSpec(section: string): SectionSpec {
  const spec = specOf(section);
  if (!spec) throw new NotFound('Trust Center section', section);
  return spec;
}

function sameDocument(a: StoredDocument | undefined, b: StoredDocument | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Records a refusal in a transaction of its own (the refused change rolls back), then throws. */
async function refuse(ctx: RequestContext, action: string, section: string, reason: string, error: Error): Promise<never> {
  await ctx.db.withTenant(ctx.tenant.id, (tx) =>
    ctx.audit.record(tx, auditScope(ctx), {
      action,
      target: { type: 'trust_center_section', id: section },
      outcome: 'denied',
      details: { reason },
    }),
  );
  throw error;
}

// --- reading ----------------------------------------------------------------------------------------------

/** Every section and policy of a locale with its draft and what is live. Needs `content.read`. */
export async function listSections(ctx: RequestContext, locale: string = DEFAULT_LOCALE): Promise<SectionSummary[]> {
  requirePermission(ctx.actor, 'content.read');
  checkLocale(locale);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const drafts = await readDrafts(tx, ctx.tenant.id, locale);
    const published = await readPublishedNumbers(tx, ctx.tenant.id, locale);
    const latest = new Map((await readLatestVersions(tx, ctx.tenant.id, locale)).map((v) => [v.section, v]));
    // Another locale lists English's live policies too: they are what its translators translate.
    const english =
      locale === DEFAULT_LOCALE
        ? new Map<string, VersionRow>()
        : new Map((await readLatestVersions(tx, ctx.tenant.id, DEFAULT_LOCALE)).map((v) => [v.section, v]));
    const keys = [
      ...SECTIONS.map((s) => s.key),
      ...[...new Set([...drafts.map((d) => d.section), ...published.keys(), ...english.keys()])].filter(isPolicySection).sort(),
    ];
    return keys.map((section) => {
      const spec = sectionSpec(section);
      const draft = drafts.find((d) => d.section === section);
      const live = latest.get(section);
      const fallback = live ? undefined : english.get(section);
      return {
        section,
        title: isPolicySection(section) ? draft?.document.fields.title || fallback?.document.fields.title || section : spec.title,
        showsEnglish: fallback !== undefined,
        spec,
        draft,
        publishedVersion: published.get(section) ?? null,
        unpublishedChanges: draft !== undefined && !sameDocument(draft.document, live?.document),
      };
    });
  });
}

export interface DraftView {
  section: string;
  locale: Locale;
  spec: SectionSpec;
  draft: DraftRow | undefined;
  /** The document to edit: the draft, else the live version, else the live English one to translate, else empty. */
  document: StoredDocument;
  /** Set when the document is the English version a translation starts from (the locale has none yet). */
  translatingFrom: string | null;
  publishedVersion: number | null;
  unpublishedChanges: boolean;
}

export async function getDraft(ctx: RequestContext, section: string, locale: string = DEFAULT_LOCALE): Promise<DraftView> {
  requirePermission(ctx.actor, 'content.read');
  checkLocale(locale);
  const spec = sectionSpec(section);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const draft = await readDraft(tx, ctx.tenant.id, locale, section);
    const [live] = await readVersions(tx, ctx.tenant.id, locale, section);
    const [source] =
      draft || live || locale === DEFAULT_LOCALE ? [] : await readVersions(tx, ctx.tenant.id, DEFAULT_LOCALE, section);
    if (!draft && !live && !source && isPolicySection(section)) throw new NotFound('policy', section);
    return {
      section,
      locale,
      spec,
      draft,
      document: draft?.document ?? live?.document ?? source?.document ?? { fields: {}, items: [] },
      translatingFrom: source ? DEFAULT_LOCALE : null,
      publishedVersion: live?.version ?? null,
      unpublishedChanges: draft !== undefined && !sameDocument(draft.document, live?.document),
    };
  });
}

/** The files a draft's items reference (name, type, size), for the editing form. Needs `content.read`. */
export async function filesOf(ctx: RequestContext, view: DraftView): Promise<Map<string, CertificateFile>> {
  requirePermission(ctx.actor, 'content.read');
  const field = fileFieldOf(view.spec);
  if (!field) return new Map();
  const ids = view.document.items.map((i) => i[field] ?? '');
  return ctx.db.withTenant(ctx.tenant.id, (tx) => describeFiles(tx, ctx, ctx.tenant.id, ids));
}

/**
 * Attaches a certificate file to item `index` of the certifications draft (the API's upload): checked, stored
 * and referenced in one transaction, like any edit (it voids a schedule). Needs `content.edit`.
 */
export async function attachCertificate(ctx: RequestContext, index: number, upload: Upload, locale = DEFAULT_LOCALE) {
  requirePermission(ctx.actor, 'content.edit');
  const current = await getDraft(ctx, 'certifications', locale);
  if (!current.document.items[index]) throw new NotFound('certification', String(index));
  return saveDraft(ctx, 'certifications', current.document, locale, new Map([[index, upload]]));
}

export async function listVersions(ctx: RequestContext, section: string, locale: string = DEFAULT_LOCALE): Promise<VersionRow[]> {
  requirePermission(ctx.actor, 'content.read');
  checkLocale(locale);
  sectionSpec(section);
  return ctx.db.withTenant(ctx.tenant.id, (tx) => readVersions(tx, ctx.tenant.id, locale, section));
}

export async function getVersion(
  ctx: RequestContext,
  section: string,
  version: number,
  locale: string = DEFAULT_LOCALE,
): Promise<VersionRow> {
  requirePermission(ctx.actor, 'content.read');
  checkLocale(locale);
  sectionSpec(section);
  const row = await ctx.db.withTenant(ctx.tenant.id, (tx) => readVersion(tx, ctx.tenant.id, locale, section, version));
  if (!row) throw new NotFound('version', String(version));
  return row;
}

/** A document as lines a person can compare: one per field, items numbered. */
export function documentAsText(spec: SectionSpec, doc: StoredDocument): string {
  const lines: string[] = [];
  for (const f of spec.fields) lines.push(`${f.label}: ${doc.fields[f.name] ?? ''}`);
  for (const [i, item] of doc.items.entries()) {
    lines.push('', `${spec.items?.label ?? 'Item'} ${i + 1}`);
    for (const f of spec.items?.fields ?? []) lines.push(`  ${f.label}: ${item[f.name] ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface DiffLine {
  kind: 'added' | 'removed' | 'same';
  text: string;
}

/** What changed from one document to another, line by line. */
export function diffDocuments(spec: SectionSpec, from: StoredDocument, to: StoredDocument): DiffLine[] {
  return diffLines(documentAsText(spec, from), documentAsText(spec, to)).flatMap((part) =>
    part.value
      .replace(/\n$/, '')
      .split('\n')
      .map((text) => ({ kind: part.added ? 'added' : part.removed ? 'removed' : 'same', text }) as DiffLine),
  );
}

// --- changing ---------------------------------------------------------------------------------------------

function draftRowOf(ctx: RequestContext, section: string, locale: string, document: StoredDocument): DraftRow {
  return {
    tenantId: ctx.tenant.id,
    locale,
    section,
    document,
    updatedAt: ctx.clock.now(),
    updatedBy: actorLabel(ctx.actor),
    updatedById: actorId(ctx.actor),
    // Any edit voids an approval: an approver approves exact words.
    reviewState: 'draft',
    reviewRequestedBy: null,
    reviewRequestedById: null,
    approvedBy: null,
    approvedAt: null,
    // An edit also cancels a scheduled publish: what goes out at the set time is what the publisher saw.
    publishAt: null,
    publishScheduledBy: null,
  };
}

/**
 * Saves a section's draft (nothing public changes). Needs `content.edit`. `uploads` (item index → file) are
 * checked before anything is stored and stored encrypted in the draft's transaction: a refusal stores nothing.
 */
export async function saveDraft(
  ctx: RequestContext,
  section: string,
  input: DocumentInput,
  locale: string = DEFAULT_LOCALE,
  uploads: Map<number, Upload> = new Map(),
): Promise<DraftRow> {
  requirePermission(ctx.actor, 'content.edit');
  checkLocale(locale);
  const spec = sectionSpec(section);
  const { items, pending } = stagedUploads(spec, input.items ?? [], uploads);
  const validated = validateDocument(spec, { ...input, items });
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    await requireKnownFiles(tx, ctx, ctx.tenant.id, spec, validated, pending);
    const document = await storePendingFiles(tx, ctx, spec, validated, pending);
    const row = draftRowOf(ctx, section, locale, document);
    await writeDraft(tx, row);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'trust_center.draft_saved',
      target: { type: 'trust_center_section', id: section },
      details: { locale, items: document.items.length },
    });
    return row;
  });
}

/** Starts a new policy as a draft under a slug made from its title (refused when the slug is taken). */
export async function createPolicy(ctx: RequestContext, input: DocumentInput, locale: string = DEFAULT_LOCALE): Promise<string> {
  requirePermission(ctx.actor, 'content.edit');
  checkLocale(locale);
  const title = clean(input.fields?.title);
  const section = `${POLICY_PREFIX}${slugify(title)}`;
  const exists = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const draft = await readDraft(tx, ctx.tenant.id, locale, section);
    return draft !== undefined || (await readVersions(tx, ctx.tenant.id, locale, section)).length > 0;
  });
  if (exists && title !== '')
    throw new InvalidInput('a policy with this title exists', { 'fields.title': 'a policy with this title exists' });
  await saveDraft(ctx, section, input, locale);
  return section;
}

async function lockedDraft(tx: Tx, ctx: RequestContext, section: string, locale: string): Promise<DraftRow> {
  const draft = await readDraft(tx, ctx.tenant.id, locale, section, true);
  if (!draft) throw new NotFound('draft of', section);
  return draft;
}

/** The author asks for a policy's review. Needs `content.edit`. */
export async function requestReview(ctx: RequestContext, section: string, locale: string = DEFAULT_LOCALE): Promise<void> {
  requirePermission(ctx.actor, 'content.edit');
  checkLocale(locale);
  sectionSpec(section);
  if (!isPolicySection(section)) throw new Conflict('only policies go through review');
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const draft = await lockedDraft(tx, ctx, section, locale);
    if (draft.reviewState !== 'draft') throw new Conflict('this draft is already in review or approved');
    await writeDraft(tx, {
      ...draft,
      reviewState: 'in_review',
      reviewRequestedBy: actorLabel(ctx.actor),
      reviewRequestedById: actorId(ctx.actor),
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'trust_center.review_requested',
      target: { type: 'trust_center_section', id: section },
      details: { locale },
    });
  });
}

/**
 * An approver approves a policy draft in review. Separation of duties: whoever wrote the draft or asked for
 * its review cannot approve it (refused and recorded). Needs `content.approve`.
 */
export async function approveDraft(ctx: RequestContext, section: string, locale: string = DEFAULT_LOCALE): Promise<void> {
  requirePermission(ctx.actor, 'content.approve');
  checkLocale(locale);
  sectionSpec(section);
  const refusal = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const draft = await lockedDraft(tx, ctx, section, locale);
    if (draft.reviewState !== 'in_review') return { reason: 'not_in_review', error: new Conflict('this draft is not in review') };
    const me = actorId(ctx.actor);
    if (me === null || me === draft.updatedById || me === draft.reviewRequestedById) {
      return { reason: 'own_draft', error: new Forbidden('you cannot approve a policy you wrote or submitted') };
    }
    await writeDraft(tx, { ...draft, reviewState: 'approved', approvedBy: actorLabel(ctx.actor), approvedAt: ctx.clock.now() });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'trust_center.approved',
      target: { type: 'trust_center_section', id: section },
      details: { locale, author: draft.updatedBy },
    });
    return undefined;
  });
  if (refusal) await refuse(ctx, 'trust_center.approval_refused', section, refusal.reason, refusal.error);
}

/**
 * The render-cache locales a publish in `locale` changes: its own, and for English every locale's, since the
 * others show English wherever they have no version of their own; the sitemap speaks of all of them.
 */
export function localesChangedBy(locale: string): string[] {
  return [...(locale === DEFAULT_LOCALE ? LOCALES : [locale]), EVERY_LOCALE];
}

/** Tells every process, once `tx` commits, to forget the pages a publish in `locale` changes. */
async function announcePublish(tx: Tx, tenantId: string, locale: string): Promise<void> {
  for (const each of localesChangedBy(locale)) await announcePagesChanged(tx, tenantId, each);
}

/** This process forgets at once; the others when the publishing transaction's notification reaches them. */
function afterPublish(ctx: RequestContext, locale: string): void {
  for (const each of localesChangedBy(locale)) forgetPages(ctx.db, ctx.tenant.id, each);
}

/** Content is kept only in the languages the public site speaks. */
function checkLocale(locale: string): asserts locale is Locale {
  if (!isLocale(locale)) {
    throw new InvalidInput(`unsupported locale: use one of ${LOCALES.join(', ')}`, {
      locale: `use one of ${LOCALES.join(', ')}`,
    });
  }
}

async function nextVersion(tx: Tx, tenantId: string, locale: string, section: string): Promise<number> {
  const [latest] = await readVersions(tx, tenantId, locale, section);
  return (latest?.version ?? 0) + 1;
}

/** Publishes a section's draft as a new version. Policies must be approved first. Needs `content.publish`. */
export async function publishDraft(ctx: RequestContext, section: string, locale: string = DEFAULT_LOCALE): Promise<VersionRow> {
  requirePermission(ctx.actor, 'content.publish');
  checkLocale(locale);
  sectionSpec(section);
  const outcome = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const draft = await lockedDraft(tx, ctx, section, locale);
    if (isPolicySection(section) && draft.reviewState !== 'approved') {
      return {
        refused: { reason: 'not_approved', error: new Conflict('a policy is published only after an approver approved it') },
      };
    }
    const version: VersionRow = {
      tenantId: ctx.tenant.id,
      locale,
      section,
      version: await nextVersion(tx, ctx.tenant.id, locale, section),
      document: draft.document,
      publishedAt: ctx.clock.now(),
      publishedBy: actorLabel(ctx.actor),
      approvedBy: draft.approvedBy,
      note: null,
    };
    await insertVersion(tx, version);
    await announcePublish(tx, ctx.tenant.id, locale);
    if (draft.publishAt) await writeDraft(tx, { ...draft, publishAt: null, publishScheduledBy: null });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'trust_center.published',
      target: { type: 'trust_center_section', id: section },
      details: { locale, version: version.version, approvedBy: draft.approvedBy, scheduledBy: draft.publishScheduledBy },
    });
    return { version };
  });
  if (outcome.refused) return refuse(ctx, 'trust_center.publish_refused', section, outcome.refused.reason, outcome.refused.error);
  afterPublish(ctx, locale);
  return outcome.version;
}

/**
 * Publishes an earlier version's content again as a new version (history is never rewritten) and makes it the
 * draft too. A policy's earlier version was approved when it went out, so it needs no new approval.
 */
export async function rollbackTo(
  ctx: RequestContext,
  section: string,
  version: number,
  locale: string = DEFAULT_LOCALE,
): Promise<VersionRow> {
  requirePermission(ctx.actor, 'content.publish');
  checkLocale(locale);
  sectionSpec(section);
  const row = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const old = await readVersion(tx, ctx.tenant.id, locale, section, version);
    if (!old) throw new NotFound('version', String(version));
    const next: VersionRow = {
      ...old,
      version: await nextVersion(tx, ctx.tenant.id, locale, section),
      publishedAt: ctx.clock.now(),
      publishedBy: actorLabel(ctx.actor),
      note: `rollback to version ${version}`,
    };
    await insertVersion(tx, next);
    await announcePublish(tx, ctx.tenant.id, locale);
    await writeDraft(tx, {
      ...draftRowOf(ctx, section, locale, old.document),
      reviewState: old.approvedBy ? 'approved' : 'draft',
      approvedBy: old.approvedBy,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'trust_center.rolled_back',
      target: { type: 'trust_center_section', id: section },
      details: { locale, to: version, version: next.version },
    });
    return next;
  });
  afterPublish(ctx, locale);
  return row;
}

// --- the public site --------------------------------------------------------------------------------------

export interface PublishedContent {
  sections: Map<string, VersionRow>;
  policies: VersionRow[];
  /** Whether the tenant offers documents (public or on request): the navigation then links /documents. */
  documents?: boolean;
}

/**
 * What the public site shows: the newest version of each section and policy. Published content only, by
 * construction. A locale without its own version of a section or policy shows the English one (the row's
 * `locale` says which language it is in).
 */
export async function publishedContent(
  runtime: Runtime,
  tenantId: string,
  locale: Locale = DEFAULT_LOCALE,
): Promise<PublishedContent> {
  const rows = await runtime.db.withTenant(tenantId, async (tx) => {
    const own = await readLatestVersions(tx, tenantId, locale);
    if (locale === DEFAULT_LOCALE) return own;
    const translated = new Set(own.map((r) => r.section));
    const fallback = (await readLatestVersions(tx, tenantId, DEFAULT_LOCALE)).filter((r) => !translated.has(r.section));
    return [...own, ...fallback];
  });
  const offered = await runtime.db.withTenant(tenantId, (tx) => readDocuments(tx, tenantId));
  return {
    documents: offered.some((d) => d.accessLevel !== 'internal' && d.currentVersion !== null),
    sections: new Map(rows.filter((r) => !isPolicySection(r.section)).map((r) => [r.section, r])),
    policies: rows
      .filter((r) => isPolicySection(r.section))
      .sort((a, b) => (a.document.fields.title ?? '').localeCompare(b.document.fields.title ?? '', locale)),
  };
}

/** A section's published history, newest first (public: every version was published). */
export async function publishedSectionHistory(
  runtime: Runtime,
  tenantId: string,
  section: string,
  locale: string = DEFAULT_LOCALE,
) {
  return runtime.db.withTenant(tenantId, (tx) => readVersions(tx, tenantId, locale, section));
}

export async function publishedPolicyHistory(runtime: Runtime, tenantId: string, slug: string, locale: string = DEFAULT_LOCALE) {
  return publishedSectionHistory(runtime, tenantId, `${POLICY_PREFIX}${slug}`, locale);
}

/**
 * A published version and the one before it, read in the caller's transaction (the publishing one, from an
 * audit hook): what subscribers are told about is the difference between the two.
 */
export async function publishedChange(
  tx: Tx,
  tenantId: string,
  locale: string,
  section: string,
  version: number,
): Promise<{ current: VersionRow; previous: VersionRow | undefined } | undefined> {
  const current = await readVersion(tx, tenantId, locale, section, version);
  if (!current) return undefined;
  const previous = version > 1 ? await readVersion(tx, tenantId, locale, section, version - 1) : undefined;
  return { current, previous };
}

/** The items of a section as a language has it live now (empty when it has published none of its own). */
export async function liveItemsIn(tx: Tx, tenantId: string, locale: string, section: string): Promise<Record<string, string>[]> {
  const [latest] = await readVersions(tx, tenantId, locale, section);
  return latest?.document.items ?? [];
}

/** Sub-processors whose effective date is still ahead: announced, not yet in use. */
export function isUpcoming(item: Record<string, string>, today: string): boolean {
  return Boolean(item.effectiveFrom) && (item.effectiveFrom ?? '') > today;
}

export type CertificationStatus = 'current' | 'expiring' | 'expired' | 'upcoming';

/** Status from the dates alone: expiring when it ends within 60 days. */
export function certificationStatus(validFrom: string, validUntil: string, today: string): CertificationStatus {
  if (validFrom > today) return 'upcoming';
  if (validUntil < today) return 'expired';
  const days = (Date.parse(`${validUntil}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000;
  return days <= 60 ? 'expiring' : 'current';
}

/**
 * Publishes ready-made content as the system (the demo tenant's sample content): the draft and a first
 * version in one transaction, recorded as `trust_center.published`. Policies carry `approvedBy` as given,
 * since the sample has no people yet to approve them.
 */
export async function publishPrepared(
  ctx: RequestContext,
  section: string,
  input: DocumentInput,
  approvedBy: string | null = null,
  locale: string = DEFAULT_LOCALE,
  uploads: Map<number, Upload> = new Map(),
): Promise<void> {
  requirePermission(ctx.actor, 'content.publish');
  checkLocale(locale);
  const spec = sectionSpec(section);
  const { items, pending } = stagedUploads(spec, input.items ?? [], uploads);
  const validated = validateDocument(spec, { ...input, items });
  if (isPolicySection(section) && approvedBy === null) throw new Conflict('a policy is published only after an approval');
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const document = await storePendingFiles(tx, ctx, spec, validated, pending);
    const now = ctx.clock.now();
    const approved = isPolicySection(section) && approvedBy !== null;
    await writeDraft(tx, {
      ...draftRowOf(ctx, section, locale, document),
      reviewState: approved ? 'approved' : 'draft',
      approvedBy: approved ? approvedBy : null,
      approvedAt: approved ? now : null,
    });
    const version = await nextVersion(tx, ctx.tenant.id, locale, section);
    await insertVersion(tx, {
      tenantId: ctx.tenant.id,
      locale,
      section,
      version,
      document,
      publishedAt: now,
      publishedBy: actorLabel(ctx.actor),
      approvedBy: approved ? approvedBy : null,
      note: null,
    });
    await announcePublish(tx, ctx.tenant.id, locale);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'trust_center.published',
      target: { type: 'trust_center_section', id: section },
      details: { locale, version, approvedBy: approved ? approvedBy : null },
    });
  });
  afterPublish(ctx, locale);
}

// --- scheduled publishing ---------------------------------------------------------------------------------

/**
 * Sets (or with null, cancels) the time the draft as it stands is published. Policies must be approved
 * first. Needs `content.publish`. Recorded as `trust_center.publish_scheduled` / `trust_center.schedule_cancelled`.
 */
export async function schedulePublish(
  ctx: RequestContext,
  section: string,
  at: Date | null,
  locale: string = DEFAULT_LOCALE,
): Promise<void> {
  requirePermission(ctx.actor, 'content.publish');
  checkLocale(locale);
  sectionSpec(section);
  if (at && at.getTime() <= ctx.clock.now().getTime()) {
    throw new InvalidInput('choose a time in the future', { publishAt: 'choose a time in the future' });
  }
  const refused = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const draft = await lockedDraft(tx, ctx, section, locale);
    if (at && isPolicySection(section) && draft.reviewState !== 'approved') {
      return new Conflict('a policy is scheduled only after an approver approved it');
    }
    await writeDraft(tx, { ...draft, publishAt: at, publishScheduledBy: at ? actorLabel(ctx.actor) : null });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: at ? 'trust_center.publish_scheduled' : 'trust_center.schedule_cancelled',
      target: { type: 'trust_center_section', id: section },
      details: { locale, publishAt: at ? at.toISOString() : null },
    });
    return undefined;
  });
  if (refused) await refuse(ctx, 'trust_center.publish_refused', section, 'not_approved', refused);
}

const SCHEDULER: Actor = { kind: 'system', name: 'scheduled publish' };

/** Publishes every draft whose time has come (the `trust-center.publish-due` job). Returns how many went out. */
export async function publishDueDrafts(runtime: Runtime): Promise<number> {
  const due = await runtime.db.withSystem((tx) => readDueDrafts(tx, runtime.clock.now(), 100));
  let published = 0;
  for (const draft of due) {
    const tenant = await getTenant(runtime.db, draft.tenantId);
    if (!tenant) continue;
    const ctx: RequestContext = {
      ...runtime,
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      actor: SCHEDULER,
      requestId: 'trust-center.publish-due',
      ip: '',
      userAgent: '',
    };
    try {
      await publishDraft(ctx, draft.section, draft.locale);
      published++;
    } catch (err) {
      // A refused publish (an approval voided since) is recorded by publishDraft; the others still go out.
      runtime.log.warn({ err, tenantId: draft.tenantId, section: draft.section }, 'scheduled publish failed');
      // Refused for good (no longer approved): drop the schedule. Anything else stays due and is tried again.
      if (!(err instanceof Conflict)) continue;
      await runtime.db.withTenant(draft.tenantId, async (tx) => {
        const row = await readDraft(tx, draft.tenantId, draft.locale, draft.section, true);
        if (row) await writeDraft(tx, { ...row, publishAt: null, publishScheduledBy: null });
      });
    }
  }
  return published;
}
