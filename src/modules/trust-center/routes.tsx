import { createRoute } from '@hono/zod-openapi';
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { Conflict, InvalidInput, PayloadTooLarge } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, ProblemSchema, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { LOCALES, type Locale, negotiateLocale } from '../../platform/i18n/locales.ts';
import { messagesFor } from '../../platform/i18n/messages/index.ts';
import { can, routeRequires } from '../access/service.ts';
import { normalizeHost } from '../tenants/service.ts';
import { getBranding, publicBrand, publicLogo, updateBranding } from './branding.ts';
import {
  cachedPage,
  cacheTicket,
  EVERY_LOCALE,
  keepPage,
  matchesEtag,
  pageHeaders,
  pageKey,
  type RenderedPage,
  renderDay,
  strongEtag,
} from './cache.ts';
import { type Download, draftCertificate, publishedCertificate } from './certificates.ts';
import {
  addDomain,
  httpDomainProbe,
  listDomains,
  removeDomain,
  VERIFICATION_PATH,
  verificationTokens,
  verifyDomain,
} from './domains.ts';
import { robots, sitemap, subprocessorFeed, updatesFeed } from './feeds.ts';
import { MAX_CERTIFICATE_BYTES, type Upload } from './files.ts';
import { localeParam, localizedRoutes } from './locale.ts';
import { expiringCertifications } from './reminders.ts';
import {
  BrandingJson,
  BrandingUpdate,
  CertificateIndexParam,
  CertificateUpload,
  DEFAULT_LOCALE,
  type DocumentInput,
  DocumentJson,
  DomainInput,
  DomainJson,
  DomainsJson,
  DraftJson,
  ExpiringJson,
  HostnameParam,
  isPolicySection,
  LocaleQuery,
  POLICY_SPEC,
  ScheduleJson,
  SectionParam,
  SectionsJson,
  specOf,
  VersionJson,
  VersionParam,
  VersionsJson,
} from './schema.ts';
import {
  approveDraft,
  attachCertificate,
  createPolicy,
  type DraftView,
  diffDocuments,
  filesOf,
  getDraft,
  getVersion,
  listSections,
  listVersions,
  type PublishedContent,
  publishDraft,
  publishedContent,
  publishedPolicyHistory,
  publishedSectionHistory,
  requestReview,
  rollbackTo,
  saveDraft,
  schedulePublish,
} from './service.ts';
import type { DraftRow, VersionRow } from './store.ts';
import {
  type Abilities,
  EditSectionPage,
  type FormState,
  inLocale,
  NewPolicyPage,
  SectionsPage,
  VersionPage,
} from './views/admin.tsx';
import { type BrandingFormState, BrandingPage } from './views/branding.tsx';
import {
  CertificationsPage,
  ContactPage,
  DataPage,
  FaqPage,
  OverviewPage,
  PoliciesPage,
  PolicyPage,
  type PublicPageContext,
  SecurityPage,
  SubprocessorsPage,
  UpdatesPage,
} from './views/public.tsx';

// --- uploads ------------------------------------------------------------------------------------------------

/** The routes that take files get a larger body limit than the rest (the app applies it while reading). */
const UPLOAD_PATHS = [
  /^\/admin\/trust-center\/certifications$/,
  /^\/api\/v1\/trust-center\/certifications\/\d{1,3}\/certificate$/,
  /^\/admin\/trust-center\/branding$/,
  /^\/api\/v1\/trust-center\/branding\/logo$/,
];

/** The largest file plus room for the form's other fields and multipart framing. */
export const UPLOAD_BODY_LIMIT_BYTES = MAX_CERTIFICATE_BYTES + 512 * 1024;

export function isUploadPath(path: string): boolean {
  return UPLOAD_PATHS.some((p) => p.test(path));
}

// --- the public site, from the render cache -----------------------------------------------------------------

export const trustCenterPages = new Hono<AppEnv>();

type Rendered = { body: string; contentType: string } | undefined;

function today(c: AppContext): string {
  return renderDay(c.var.runtime.clock.now());
}

/**
 * Serves a public page from the per-process cache keyed by tenant, locale and page (the origin is part of
 * the page: canonical links name it). A hit touches no database; a miss reads published content only.
 * `chosen` is the locale an address's prefix names; without one the browser's Accept-Language decides, and the
 * page's links stay unprefixed so that the choice keeps being the browser's.
 */
async function servePublic(
  c: AppContext,
  page: string,
  chosen: Locale | undefined,
  render: (ctx: PublicPageContext) => Promise<Rendered> | Rendered,
) {
  const { db } = c.var.runtime;
  const locale = chosen ?? negotiateLocale(c.req.header('accept-language'));
  const base = chosen ? `/${chosen}` : '';
  const origin = new URL(c.req.url).origin;
  const day = today(c);
  const key = pageKey(origin, `${base}${page}`);
  let entry = cachedPage(db, c.var.tenant.id, locale, key, day);
  if (!entry) {
    const ticket = await cacheTicket(db);
    const content = await publishedContent(c.var.runtime, c.var.tenant.id, locale);
    const t = messagesFor(locale);
    const brand = await publicBrand(c.var.runtime, c.var.tenant.id);
    const companyName = brand.displayName ?? c.var.tenant.name;
    const rendered = await render({ companyName, origin, path: page, today: day, content, locale, t, base, brand });
    if (!rendered) return c.notFound();
    entry = { ...rendered, etag: strongEtag(rendered.body), day };
    keepPage(db, ticket, c.var.tenant.id, locale, key, entry);
  }
  return answer(c, entry, chosen === undefined);
}

/** `negotiated`: the bytes depend on Accept-Language, so shared caches must key on it too. */
function answer(c: AppContext, entry: RenderedPage, negotiated: boolean) {
  const notModified = matchesEtag(c.req.header('if-none-match'), entry.etag);
  for (const [name, value] of Object.entries(pageHeaders(entry, notModified, negotiated))) c.header(name, value);
  return notModified ? c.body(null, 304) : c.body(entry.body, 200);
}

const HTML = 'text/html; charset=utf-8';

function html(node: Child): Rendered {
  return { body: `${node}`, contentType: HTML };
}

/** Answers a public page at its unprefixed address and under every language prefix (`/es/faq`). */
function publicPage(
  path: string,
  render: (ctx: PublicPageContext, c: AppContext) => Promise<Rendered> | Rendered,
  route: string = path,
) {
  for (const { route: at, locale } of localizedRoutes(route)) {
    trustCenterPages.get(at, (c) =>
      servePublic(c, path.includes(':') ? concrete(c, path) : path, locale, (ctx) => render(ctx, c)),
    );
  }
}

/** `/policies/:slug` with the slug filled in. */
function concrete(c: AppContext, path: string): string {
  return path.replace(/:([a-z]+)(\{[^}]*\})?/g, (_, name: string) => c.req.param(name) ?? '');
}

const publicPages: [string, (ctx: PublicPageContext) => Child, section?: string][] = [
  ['/', (ctx) => <OverviewPage ctx={ctx} />],
  ['/security', (ctx) => <SecurityPage ctx={ctx} />, 'security'],
  ['/certifications', (ctx) => <CertificationsPage ctx={ctx} />, 'certifications'],
  ['/faq', (ctx) => <FaqPage ctx={ctx} />, 'faq'],
  ['/privacy/data', (ctx) => <DataPage ctx={ctx} />, 'data'],
  ['/subprocessors', (ctx) => <SubprocessorsPage ctx={ctx} />, 'subprocessors'],
  ['/updates', (ctx) => <UpdatesPage ctx={ctx} />, 'updates'],
  ['/contact', (ctx) => <ContactPage ctx={ctx} />, 'contact'],
];

for (const [path, page, section] of publicPages) {
  publicPage(path, (ctx) => (section && !ctx.content.sections.has(section) ? undefined : html(page(ctx))));
}

publicPage('/policies', (ctx) => (ctx.content.policies.length === 0 ? undefined : html(<PoliciesPage ctx={ctx} />)));

publicPage('/policies/:slug{[a-z0-9-]+}', async (ctx, c) => {
  const slug = c.req.param('slug') ?? '';
  const policy = ctx.content.policies.find((p) => p.section === `policy:${slug}`);
  if (!policy) return undefined;
  // The history of the language shown: the English one where the policy has no translation yet.
  const history = await publishedPolicyHistory(c.var.runtime, c.var.tenant.id, slug, policy.locale);
  return html(<PolicyPage ctx={ctx} history={history} />);
});

/**
 * A stored file as an attachment: its real type (sniffed at upload), a name reduced to safe characters, no
 * sniffing, and a sandbox in case a browser renders it anyway.
 */
function sendDownload(c: AppContext, file: Download, cacheControl: string) {
  const etag = `"${file.sha256.slice(0, 32)}"`;
  c.header('etag', etag);
  c.header('cache-control', cacheControl);
  c.header('x-content-type-options', 'nosniff');
  c.header('content-security-policy', "default-src 'none'; sandbox");
  c.header('content-disposition', `attachment; filename="${file.filename}"`);
  if (c.req.header('if-none-match') === etag) return c.body(null, 304);
  c.header('content-type', file.contentType);
  return c.body(new Uint8Array(file.content), 200);
}

/** Only a file the live certifications version references; anything else is 404, never a hint it exists. */
trustCenterPages.get('/certifications/files/:id', async (c) =>
  sendDownload(c, await publishedCertificate(c.var.runtime, c.var.tenant.id, c.req.param('id')), 'public, no-cache'),
);

/** The brand colours as custom properties (a file: the CSP allows no inline style). Versioned by its URL. */
trustCenterPages.get('/brand.css', (c) =>
  servePublic(c, '/brand.css', DEFAULT_LOCALE, (ctx) => ({ body: ctx.brand?.css ?? '', contentType: 'text/css; charset=utf-8' })),
);

/** The current logo; its URL changes with each upload, so it is cached for good. */
trustCenterPages.get('/brand/logo/:id', async (c) => {
  const logo = await publicLogo(c.var.runtime, c.var.tenant.id, c.req.param('id'));
  c.header('cache-control', 'public, max-age=31536000, immutable');
  c.header('x-content-type-options', 'nosniff');
  c.header('content-type', logo.contentType);
  return c.body(new Uint8Array(logo.content), 200);
});

const ATOM = 'application/atom+xml; charset=utf-8';

publicPage('/updates.atom', (ctx) =>
  ctx.content.sections.has('updates')
    ? { body: updatesFeed(ctx.origin, ctx.base, ctx.companyName, ctx.content, ctx.t), contentType: ATOM }
    : undefined,
);

publicPage('/subprocessors.atom', async (ctx, c) => {
  const live = ctx.content.sections.get('subprocessors');
  if (!live) return undefined;
  const history = await publishedSectionHistory(c.var.runtime, c.var.tenant.id, 'subprocessors', live.locale);
  return { body: subprocessorFeed(ctx.origin, ctx.base, ctx.companyName, history, ctx.t), contentType: ATOM };
});

/** Names every page in every language: cached apart from any one locale, forgotten on every publish. */
trustCenterPages.get('/sitemap.xml', async (c) => {
  const { db } = c.var.runtime;
  const key = `${new URL(c.req.url).origin}/sitemap.xml`;
  const day = today(c);
  let entry = cachedPage(db, c.var.tenant.id, EVERY_LOCALE, key, day);
  if (!entry) {
    const ticket = await cacheTicket(db);
    const contents = Object.fromEntries(
      await Promise.all(LOCALES.map(async (l) => [l, await publishedContent(c.var.runtime, c.var.tenant.id, l)] as const)),
    ) as Record<Locale, PublishedContent>;
    const body = sitemap(new URL(c.req.url).origin, contents);
    entry = { body, contentType: 'application/xml; charset=utf-8', etag: strongEtag(body), day };
    keepPage(db, ticket, c.var.tenant.id, EVERY_LOCALE, key, entry);
  }
  return answer(c, entry, false);
});

trustCenterPages.get('/robots.txt', (c) =>
  servePublic(c, '/robots.txt', DEFAULT_LOCALE, (ctx) => ({
    body: robots(ctx.origin),
    contentType: 'text/plain; charset=utf-8',
  })),
);

// --- back office ------------------------------------------------------------------------------------------

function abilities(c: AppContext): Abilities {
  const actor = c.var.actor;
  return { edit: can(actor, 'content.edit'), publish: can(actor, 'content.publish'), approve: can(actor, 'content.approve') };
}

/** `fields.title`, `items.3.answer` form names back into a document (the browser sends every row). */
async function documentFromForm(c: AppContext): Promise<DocumentInput> {
  return (await documentAndFilesFromForm(c)).input;
}

/**
 * The document and its uploads: `items.3.certificateFile` (a chosen file) replaces item 3's certificate,
 * `items.3.certificateRemove` drops it. An empty file input (nothing chosen) is ignored.
 */
async function documentAndFilesFromForm(c: AppContext): Promise<{ input: DocumentInput; uploads: Map<number, Upload> }> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  const items: Record<string, string>[] = [];
  const uploads = new Map<number, Upload>();
  const removed = new Set<number>();
  for (const [name, value] of Object.entries(body)) {
    const file = /^items\.(\d{1,3})\.([A-Za-z]+)(File|Remove)$/.exec(name);
    if (file?.[1]) {
      if (file[3] === 'Remove') removed.add(Number(file[1]));
      else if (value instanceof File && (value.size > 0 || value.name !== ''))
        uploads.set(Number(file[1]), {
          bytes: new Uint8Array(await value.arrayBuffer()),
          filename: value.name,
          declaredType: value.type,
        });
      continue;
    }
    if (typeof value !== 'string') continue;
    const field = /^fields\.([A-Za-z]+)$/.exec(name);
    if (field?.[1]) fields[field[1]] = value;
    const item = /^items\.(\d{1,3})\.([A-Za-z]+)$/.exec(name);
    if (item?.[1] && item[2]) {
      const index = Number(item[1]);
      items[index] ??= {};
      (items[index] as Record<string, string>)[item[2]] = value;
    }
  }
  const rows = Array.from(items, (i) => i ?? {});
  for (const index of removed) if (rows[index]) rows[index] = { ...rows[index], certificate: '' };
  return { input: { fields, items: rows }, uploads };
}

/** The content language a back-office request works in: `?locale=es`, English when absent. */
function editedLocale(c: AppContext): Locale {
  const locale = localeParam(c.req.query('locale'));
  if (!locale) throw new InvalidInput(`unsupported locale: use one of ${LOCALES.join(', ')}`, { locale: 'unsupported locale' });
  return locale;
}

function sectionTitle(view: { section: string; document: { fields: Record<string, string> } }): string {
  if (isPolicySection(view.section)) return view.document.fields.title || view.section;
  return specOf(view.section)?.title ?? view.section;
}

async function renderEdit(c: AppContext, section: string, form?: FormState) {
  const ctx = requestContext(c);
  const locale = editedLocale(c);
  const view: DraftView = await getDraft(ctx, section, locale);
  const versions = await listVersions(ctx, section, locale);
  const files = await filesOf(ctx, view);
  return renderAdmin(
    c,
    sectionTitle(view),
    <EditSectionPage
      view={view}
      title={sectionTitle(view)}
      versions={versions}
      csrfToken={csrfTokenOf(c)}
      can={abilities(c)}
      form={form}
      files={files}
    />,
    form ? 422 : 200,
  );
}

function formStateOf(error: unknown, input: DocumentInput): FormState | undefined {
  if (!(error instanceof InvalidInput)) return undefined;
  const values = {
    fields: input.fields ?? {},
    items: (input.items ?? []).filter((i) => Object.values(i).some((v) => v.trim() !== '')),
  };
  return { values, errors: error.fields, message: error.message };
}

trustCenterPages.get('/admin/trust-center', routeRequires('content.read'), async (c) => {
  const locale = editedLocale(c);
  const ctx = requestContext(c);
  const [sections, expiring] = [await listSections(ctx, locale), await expiringCertifications(ctx)];
  return renderAdmin(
    c,
    'Trust Center',
    <SectionsPage sections={sections} can={abilities(c)} locale={locale} expiring={expiring} />,
  );
});

trustCenterPages.get('/admin/trust-center/policies/new', routeRequires('content.edit'), (c) =>
  renderAdmin(c, 'New policy', <NewPolicyPage spec={POLICY_SPEC} csrfToken={csrfTokenOf(c)} />),
);

trustCenterPages.post('/admin/trust-center/policies', routeRequires('content.edit'), async (c) => {
  const input = await documentFromForm(c);
  try {
    const section = await createPolicy(requestContext(c), input);
    return redirectWithFlash(c, `/admin/trust-center/${section}`, 'The policy draft is saved.');
  } catch (error) {
    const form = formStateOf(error, input);
    if (!form) throw error;
    return renderAdmin(c, 'New policy', <NewPolicyPage spec={POLICY_SPEC} csrfToken={csrfTokenOf(c)} form={form} />, 422);
  }
});

// --- branding and custom domains ----------------------------------------------------------------------------

/** Answers the verification token(s) for a host name anyone claimed, whichever tenant it routes to (or none). */
export const domainVerificationPages = new Hono<AppEnv>();
domainVerificationPages.get(VERIFICATION_PATH, async (c) => {
  const tokens = await verificationTokens(c.var.runtime.db, normalizeHost(new URL(c.req.url).host));
  if (tokens.length === 0) return c.text('no domain verification is pending for this host\n', 404);
  c.header('cache-control', 'no-store');
  return c.text(`${tokens.join('\n')}\n`, 200);
});

function domainProbe(c: AppContext) {
  return httpDomainProbe(c.var.runtime.config.domainCheckVia);
}

async function renderBranding(
  c: AppContext,
  extra: { form?: BrandingFormState; domainError?: { value: string; message: string } } = {},
  status: 200 | 422 = 200,
) {
  const ctx = requestContext(c);
  const readDomains = can(c.var.actor, 'settings.read');
  return renderAdmin(
    c,
    'Branding and domain',
    <BrandingPage
      branding={await getBranding(ctx)}
      domains={readDomains ? await listDomains(ctx) : undefined}
      csrfToken={csrfTokenOf(c)}
      canEdit={can(c.var.actor, 'content.publish')}
      canManageDomains={can(c.var.actor, 'settings.manage')}
      form={extra.form}
      domainError={extra.domainError}
    />,
    status,
  );
}

trustCenterPages.get('/admin/trust-center/branding', routeRequires('content.read'), (c) => renderBranding(c));

trustCenterPages.post('/admin/trust-center/branding', routeRequires('content.publish'), async (c) => {
  const body = await c.req.parseBody();
  const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
  const values = { displayName: text('displayName'), primaryColor: text('primaryColor'), accentColor: text('accentColor') };
  const file = body.logo;
  const logo =
    file instanceof File && (file.size > 0 || file.name !== '')
      ? { bytes: new Uint8Array(await file.arrayBuffer()), filename: file.name, declaredType: file.type }
      : undefined;
  try {
    await updateBranding(requestContext(c), { ...values, removeLogo: text('removeLogo') === '1' }, logo);
    return redirectWithFlash(c, '/admin/trust-center/branding', 'Branding saved; the public site shows it now.');
  } catch (error) {
    if (!(error instanceof InvalidInput || error instanceof PayloadTooLarge)) throw error;
    const errors = error instanceof InvalidInput ? error.fields : { logo: error.message };
    return renderBranding(c, { form: { values, errors, message: error.message } }, 422);
  }
});

trustCenterPages.post('/admin/trust-center/domains', routeRequires('settings.manage'), async (c) => {
  const body = await c.req.parseBody();
  const value = typeof body.hostname === 'string' ? body.hostname : '';
  try {
    const row = await addDomain(requestContext(c), value);
    return redirectWithFlash(c, '/admin/trust-center/branding', `${row.hostname} added: serve it from this server, then verify.`);
  } catch (error) {
    if (!(error instanceof InvalidInput || error instanceof Conflict)) throw error;
    return renderBranding(c, { domainError: { value, message: error.message } }, 422);
  }
});

trustCenterPages.post('/admin/trust-center/domains/:hostname/verify', routeRequires('settings.manage'), async (c) => {
  const row = await verifyDomain(requestContext(c), c.req.param('hostname'), domainProbe(c));
  return row.lastError
    ? redirectWithFlash(c, '/admin/trust-center/branding', `${row.hostname} is not verified: ${row.lastError}.`, 'error')
    : redirectWithFlash(c, '/admin/trust-center/branding', `${row.hostname} is verified and now serves this Trust Center.`);
});

trustCenterPages.post('/admin/trust-center/domains/:hostname/remove', routeRequires('settings.manage'), async (c) => {
  await removeDomain(requestContext(c), c.req.param('hostname'));
  return redirectWithFlash(c, '/admin/trust-center/branding', `${c.req.param('hostname')} removed.`);
});

trustCenterPages.get('/admin/trust-center/files/:id', routeRequires('content.read'), async (c) =>
  sendDownload(c, await draftCertificate(requestContext(c), c.req.param('id')), 'private, no-store'),
);

trustCenterPages.get('/admin/trust-center/:section', routeRequires('content.read'), (c) => renderEdit(c, c.req.param('section')));

trustCenterPages.post('/admin/trust-center/:section', routeRequires('content.edit'), async (c) => {
  const section = c.req.param('section');
  const { input, uploads } = await documentAndFilesFromForm(c);
  const locale = editedLocale(c);
  try {
    await saveDraft(requestContext(c), section, input, locale, uploads);
    return redirectWithFlash(
      c,
      inLocale(`/admin/trust-center/${section}`, locale),
      'The draft is saved. Nothing public has changed yet.',
    );
  } catch (error) {
    const form = formStateOf(error, input);
    if (!form) throw error;
    return renderEdit(c, section, form);
  }
});

/** The public page as it would look with this draft published (never cached, never indexed). */
trustCenterPages.get('/admin/trust-center/:section/preview', routeRequires('content.read'), async (c) => {
  const ctx = requestContext(c);
  const section = c.req.param('section');
  const view = await getDraft(ctx, section, editedLocale(c));
  const content = await publishedContent(ctx, ctx.tenant.id, view.locale);
  const draftAsVersion: VersionRow = {
    tenantId: ctx.tenant.id,
    locale: view.locale,
    section,
    version: (view.publishedVersion ?? 0) + 1,
    document: view.document,
    publishedAt: ctx.clock.now(),
    publishedBy: 'preview',
    approvedBy: null,
    note: 'preview',
  };
  const origin = new URL(c.req.url).origin;
  const brand = await publicBrand(ctx, ctx.tenant.id);
  const pctx: PublicPageContext = {
    brand,
    companyName: brand.displayName ?? ctx.tenant.name,
    origin,
    path: '',
    today: today(c),
    content,
    locale: view.locale,
    t: messagesFor(view.locale),
    base: `/${view.locale}`,
  };
  c.header('cache-control', 'no-store');
  c.header('x-robots-tag', 'noindex');
  if (isPolicySection(section)) {
    const history = [draftAsVersion, ...(await listVersions(ctx, section, view.locale))];
    content.policies = [...content.policies.filter((p) => p.section !== section), draftAsVersion];
    return c.html(`${<PolicyPage ctx={{ ...pctx, path: `/policies/${section.slice(7)}` }} history={history} />}`);
  }
  content.sections.set(section, draftAsVersion);
  const entry = publicPages.find(([, , s]) => s === section) ?? publicPages[0];
  const [path, page] = entry ?? ['/', () => null];
  return c.html(`${page({ ...pctx, path })}`);
});

trustCenterPages.post('/admin/trust-center/:section/review', routeRequires('content.edit'), async (c) => {
  const section = c.req.param('section');
  const locale = editedLocale(c);
  await requestReview(requestContext(c), section, locale);
  return redirectWithFlash(
    c,
    inLocale(`/admin/trust-center/${section}`, locale),
    'Review requested: an approver can now approve this draft.',
  );
});

trustCenterPages.post('/admin/trust-center/:section/approve', routeRequires('content.approve'), async (c) => {
  const section = c.req.param('section');
  const locale = editedLocale(c);
  await approveDraft(requestContext(c), section, locale);
  return redirectWithFlash(c, inLocale(`/admin/trust-center/${section}`, locale), 'Approved. It can now be published.');
});

trustCenterPages.post('/admin/trust-center/:section/publish', routeRequires('content.publish'), async (c) => {
  const section = c.req.param('section');
  const locale = editedLocale(c);
  const version = await publishDraft(requestContext(c), section, locale);
  return redirectWithFlash(c, inLocale(`/admin/trust-center/${section}`, locale), `Published as version ${version.version}.`);
});

/** `2026-12-01T09:00` from a datetime-local field, read as UTC (the form says so); empty cancels. */
function scheduledTime(value: unknown): Date | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const at = new Date(`${value.trim()}${/Z$|[+-]\d\d:\d\d$/.test(value.trim()) ? '' : 'Z'}`);
  if (Number.isNaN(at.getTime())) throw new InvalidInput('enter a date and time', { publishAt: 'enter a date and time' });
  return at;
}

trustCenterPages.post('/admin/trust-center/:section/schedule', routeRequires('content.publish'), async (c) => {
  const section = c.req.param('section');
  const locale = editedLocale(c);
  const back = inLocale(`/admin/trust-center/${section}`, locale);
  const body = await c.req.parseBody();
  try {
    const at = scheduledTime(body.publishAt);
    await schedulePublish(requestContext(c), section, at, locale);
    const message = at
      ? `Scheduled to publish at ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC.`
      : 'The schedule is cancelled.';
    return redirectWithFlash(c, back, message);
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return redirectWithFlash(c, back, error.message, 'error');
  }
});

trustCenterPages.get('/admin/trust-center/:section/versions/:version{[0-9]+}', routeRequires('content.read'), async (c) => {
  const ctx = requestContext(c);
  const section = c.req.param('section');
  const number = Number(c.req.param('version'));
  const locale = editedLocale(c);
  const version = await getVersion(ctx, section, number, locale);
  const versions = await listVersions(ctx, section, locale);
  const previous = versions.find((v) => v.version < number);
  const spec = specOf(section) ?? POLICY_SPEC;
  const diff = diffDocuments(spec, previous?.document ?? { fields: {}, items: [] }, version.document);
  const title = isPolicySection(section) ? version.document.fields.title || section : spec.title;
  return renderAdmin(
    c,
    `${title}: version ${number}`,
    <VersionPage
      section={section}
      title={title}
      version={version}
      against={previous?.version ?? null}
      diff={diff}
      csrfToken={csrfTokenOf(c)}
      canPublish={can(c.var.actor, 'content.publish')}
      isLatest={versions[0]?.version === number}
    />,
  );
});

trustCenterPages.post(
  '/admin/trust-center/:section/versions/:version{[0-9]+}/rollback',
  routeRequires('content.publish'),
  async (c) => {
    const section = c.req.param('section');
    const locale = editedLocale(c);
    const version = await rollbackTo(requestContext(c), section, Number(c.req.param('version')), locale);
    return redirectWithFlash(
      c,
      inLocale(`/admin/trust-center/${section}`, locale),
      `Version ${c.req.param('version')} is live again as version ${version.version}.`,
    );
  },
);

// --- JSON API ---------------------------------------------------------------------------------------------

function draftJson(view: DraftView, row: DraftRow | undefined = view.draft) {
  return {
    section: view.section,
    locale: view.locale,
    document: row?.document ?? view.document,
    updatedAt: (row?.updatedAt ?? new Date(0)).toISOString(),
    updatedBy: row?.updatedBy ?? '',
    reviewState: (row?.reviewState ?? 'draft') as 'draft' | 'in_review' | 'approved',
    approvedBy: row?.approvedBy ?? null,
    publishAt: row?.publishAt?.toISOString() ?? null,
    publishedVersion: view.publishedVersion,
    unpublishedChanges: view.unpublishedChanges,
  };
}

function versionJson(v: VersionRow) {
  return {
    section: v.section,
    locale: v.locale,
    version: v.version,
    document: v.document,
    publishedAt: v.publishedAt.toISOString(),
    publishedBy: v.publishedBy,
    approvedBy: v.approvedBy,
    note: v.note,
  };
}

function withoutDocument<T extends { document: unknown }>(value: T): Omit<T, 'document'> {
  const { document: _document, ...rest } = value;
  return rest;
}

export const trustCenterApi = createApi();
const TAGS = ['Trust Center'];
const errors = { ...commonErrors, ...notFoundError, 409: validationErrors[422] };

trustCenterApi.openapi(
  createRoute({
    method: 'get',
    path: '/trust-center/sections',
    tags: TAGS,
    summary: 'Trust Center sections and policies',
    description:
      'Every section and policy of one language (`?locale=es`, English when absent) with its draft state and live version. ' +
      'A language without its own version of a section shows the English one publicly. Needs `content.read`.',
    security: BEARER,
    request: { query: LocaleQuery },
    responses: { 200: { description: 'Sections', content: { 'application/json': { schema: SectionsJson } } }, ...commonErrors },
  }),
  async (c) => {
    const { locale } = c.req.valid('query');
    const sections = await listSections(requestContext(c), locale);
    return c.json(
      {
        items: sections.map((s) => {
          return withoutDocument(
            draftJson({
              section: s.section,
              locale,
              spec: s.spec,
              draft: s.draft,
              document: s.draft?.document ?? { fields: {}, items: [] },
              publishedVersion: s.publishedVersion,
              unpublishedChanges: s.unpublishedChanges,
              translatingFrom: null,
            }),
          );
        }),
      },
      200,
    );
  },
);

trustCenterApi.openapi(
  createRoute({
    method: 'get',
    path: '/trust-center/sections/{section}/draft',
    tags: TAGS,
    summary: 'A section’s draft',
    description: 'The draft (or, before any draft, the live content). Needs `content.read`.',
    security: BEARER,
    request: { params: SectionParam, query: LocaleQuery },
    responses: { 200: { description: 'The draft', content: { 'application/json': { schema: DraftJson } } }, ...errors },
  }),
  async (c) =>
    c.json(draftJson(await getDraft(requestContext(c), c.req.valid('param').section, c.req.valid('query').locale)), 200),
);

trustCenterApi.openapi(
  createRoute({
    method: 'put',
    path: '/trust-center/sections/{section}/draft',
    tags: TAGS,
    summary: 'Save a section’s draft',
    description:
      'Replaces the draft; nothing public changes. Needs `content.edit`. A policy (`policy:<slug>`) is created by its first draft. ' +
      'An edit voids an approval. Recorded as `trust_center.draft_saved`. Bad fields are named in `errors` (`fields.title`, `items.2.answer`).',
    middleware: [routeRequires('content.edit')],
    security: BEARER,
    request: {
      params: SectionParam,
      query: LocaleQuery,
      body: { required: true, content: { 'application/json': { schema: DocumentJson } } },
    },
    responses: {
      200: { description: 'The saved draft', content: { 'application/json': { schema: DraftJson } } },
      ...errors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const ctx = requestContext(c);
    const { section } = c.req.valid('param');
    const { locale } = c.req.valid('query');
    await saveDraft(ctx, section, c.req.valid('json'), locale);
    return c.json(draftJson(await getDraft(ctx, section, locale)), 200);
  },
);

for (const [verb, summary, description, permission, act] of [
  [
    'review',
    'Ask for a policy’s review',
    'Needs `content.edit`. Recorded as `trust_center.review_requested`.',
    'content.edit',
    requestReview,
  ],
  [
    'approve',
    'Approve a policy in review',
    'Needs `content.approve`; the draft’s author or the person who asked for review cannot approve it (403, recorded as `trust_center.approval_refused`).',
    'content.approve',
    approveDraft,
  ],
] as const) {
  trustCenterApi.openapi(
    createRoute({
      method: 'post',
      path: `/trust-center/sections/{section}/${verb}`,
      tags: TAGS,
      summary,
      description,
      middleware: [routeRequires(permission)],
      security: BEARER,
      request: { params: SectionParam, query: LocaleQuery },
      responses: { 200: { description: 'The draft', content: { 'application/json': { schema: DraftJson } } }, ...errors },
    }),
    async (c) => {
      const ctx = requestContext(c);
      const { section } = c.req.valid('param');
      const { locale } = c.req.valid('query');
      await act(ctx, section, locale);
      return c.json(draftJson(await getDraft(ctx, section, locale)), 200);
    },
  );
}

trustCenterApi.openapi(
  createRoute({
    method: 'post',
    path: '/trust-center/sections/{section}/publish',
    tags: TAGS,
    summary: 'Publish a section’s draft',
    description:
      'Publishes the draft as a new immutable version. Needs `content.publish`; a policy must be approved first (409, recorded as `trust_center.publish_refused`). Recorded as `trust_center.published`.',
    middleware: [routeRequires('content.publish')],
    security: BEARER,
    request: { params: SectionParam, query: LocaleQuery },
    responses: { 201: { description: 'The new version', content: { 'application/json': { schema: VersionJson } } }, ...errors },
  }),
  async (c) =>
    c.json(versionJson(await publishDraft(requestContext(c), c.req.valid('param').section, c.req.valid('query').locale)), 201),
);

trustCenterApi.openapi(
  createRoute({
    method: 'put',
    path: '/trust-center/sections/{section}/schedule',
    tags: TAGS,
    summary: 'Schedule (or cancel) a draft’s publication',
    description:
      'Publishes the draft as it stands at `publishAt` (the `trust-center.publish-due` job runs every minute); `null` cancels. ' +
      'Editing the draft cancels the schedule. Needs `content.publish`; a policy must be approved first (409). ' +
      'Recorded as `trust_center.publish_scheduled` or `trust_center.schedule_cancelled`.',
    middleware: [routeRequires('content.publish')],
    security: BEARER,
    request: {
      params: SectionParam,
      query: LocaleQuery,
      body: { required: true, content: { 'application/json': { schema: ScheduleJson } } },
    },
    responses: {
      200: { description: 'The draft', content: { 'application/json': { schema: DraftJson } } },
      ...errors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const ctx = requestContext(c);
    const { section } = c.req.valid('param');
    const { publishAt } = c.req.valid('json');
    const { locale } = c.req.valid('query');
    await schedulePublish(ctx, section, publishAt ? new Date(publishAt) : null, locale);
    return c.json(draftJson(await getDraft(ctx, section, locale)), 200);
  },
);

trustCenterApi.openapi(
  createRoute({
    method: 'get',
    path: '/trust-center/sections/{section}/versions',
    tags: TAGS,
    summary: 'A section’s version history',
    description: 'Newest first. Needs `content.read`.',
    security: BEARER,
    request: { params: SectionParam, query: LocaleQuery },
    responses: { 200: { description: 'Versions', content: { 'application/json': { schema: VersionsJson } } }, ...errors },
  }),
  async (c) => {
    const versions = await listVersions(requestContext(c), c.req.valid('param').section, c.req.valid('query').locale);
    return c.json({ items: versions.map((v) => withoutDocument(versionJson(v))) }, 200);
  },
);

trustCenterApi.openapi(
  createRoute({
    method: 'get',
    path: '/trust-center/sections/{section}/versions/{version}',
    tags: TAGS,
    summary: 'One published version',
    description: 'Needs `content.read`.',
    security: BEARER,
    request: { params: VersionParam, query: LocaleQuery },
    responses: { 200: { description: 'The version', content: { 'application/json': { schema: VersionJson } } }, ...errors },
  }),
  async (c) => {
    const { section, version } = c.req.valid('param');
    return c.json(versionJson(await getVersion(requestContext(c), section, version, c.req.valid('query').locale)), 200);
  },
);

trustCenterApi.openapi(
  createRoute({
    method: 'post',
    path: '/trust-center/sections/{section}/versions/{version}/rollback',
    tags: TAGS,
    summary: 'Publish an earlier version again',
    description:
      'A new version with the earlier content; it also becomes the draft. Needs `content.publish`. Recorded as `trust_center.rolled_back`.',
    middleware: [routeRequires('content.publish')],
    security: BEARER,
    request: { params: VersionParam, query: LocaleQuery },
    responses: { 201: { description: 'The new version', content: { 'application/json': { schema: VersionJson } } }, ...errors },
  }),
  async (c) => {
    const { section, version } = c.req.valid('param');
    return c.json(versionJson(await rollbackTo(requestContext(c), section, version, c.req.valid('query').locale)), 201);
  },
);

trustCenterApi.openapi(
  createRoute({
    method: 'put',
    path: '/trust-center/certifications/{index}/certificate',
    tags: TAGS,
    summary: 'Attach a certificate file to a certification',
    description:
      'Stores the file (PDF, PNG or JPEG, judged by its content; at most 10 MiB) encrypted and references it from item `index` ' +
      '(0-based) of the certifications draft; it goes public only when the draft is published. A file whose name or type says ' +
      'another kind than its content is refused (422); a larger one is 413; nothing is stored on refusal. Needs `content.edit`. ' +
      'Recorded as `trust_center.certificate_uploaded` and `trust_center.draft_saved`. Remove a file by saving the draft with an empty `certificate`.',
    middleware: [routeRequires('content.edit')],
    security: BEARER,
    request: {
      params: CertificateIndexParam,
      body: { required: true, content: { 'multipart/form-data': { schema: CertificateUpload } } },
    },
    responses: {
      200: { description: 'The draft', content: { 'application/json': { schema: DraftJson } } },
      413: { description: 'The file is too large', content: { 'application/problem+json': { schema: ProblemSchema } } },
      ...errors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const ctx = requestContext(c);
    const { index } = c.req.valid('param');
    const { file } = c.req.valid('form');
    await attachCertificate(ctx, index, {
      bytes: new Uint8Array(await file.arrayBuffer()),
      filename: file.name,
      declaredType: file.type,
    });
    return c.json(draftJson(await getDraft(ctx, 'certifications')), 200);
  },
);

trustCenterApi.openapi(
  createRoute({
    method: 'get',
    path: '/trust-center/certifications/expiring',
    tags: TAGS,
    summary: 'Certifications near or past expiry',
    description:
      'Published certifications whose valid-until is within 60 days or past, soonest first. The daily ' +
      '`trust-center.certificate-reminders` job mails the people who can publish content at 60, 30 and 7 days ' +
      '(each once, recorded as `trust_center.certificate_reminder_sent`). Needs `content.read`.',
    security: BEARER,
    responses: {
      200: { description: 'Expiring certifications', content: { 'application/json': { schema: ExpiringJson } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json({ items: await expiringCertifications(requestContext(c)) }, 200),
);

function brandingJson(b: Awaited<ReturnType<typeof getBranding>>) {
  return {
    displayName: b.displayName,
    primaryColor: b.primaryColor,
    accentColor: b.accentColor,
    logoUrl: b.logoBlobId ? `/brand/logo/${b.logoBlobId}` : null,
    updatedAt: b.updatedAt?.toISOString() ?? null,
    updatedBy: b.updatedBy,
  };
}

trustCenterApi.openapi(
  createRoute({
    method: 'get',
    path: '/trust-center/branding',
    tags: TAGS,
    summary: 'The public site’s branding',
    description: 'Display name, colours and logo address. Needs `content.read`.',
    security: BEARER,
    responses: { 200: { description: 'Branding', content: { 'application/json': { schema: BrandingJson } } }, ...commonErrors },
  }),
  async (c) => c.json(brandingJson(await getBranding(requestContext(c))), 200),
);

trustCenterApi.openapi(
  createRoute({
    method: 'put',
    path: '/trust-center/branding',
    tags: TAGS,
    summary: 'Change the branding',
    description:
      'Replaces display name and colours (empty or null: the default); the logo stays unless `removeLogo`. A colour must be ' +
      '`#rrggbb` reaching WCAG AA contrast (4.5:1) against the page background and surface, else 422 naming the field. ' +
      'Live at once. Needs `content.publish`. Recorded as `trust_center.branding_updated`.',
    middleware: [routeRequires('content.publish')],
    security: BEARER,
    request: { body: { required: true, content: { 'application/json': { schema: BrandingUpdate } } } },
    responses: {
      200: { description: 'Branding', content: { 'application/json': { schema: BrandingJson } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const saved = await updateBranding(requestContext(c), {
      displayName: input.displayName ?? '',
      primaryColor: input.primaryColor ?? '',
      accentColor: input.accentColor ?? '',
      removeLogo: input.removeLogo,
    });
    return c.json(brandingJson(saved), 200);
  },
);

trustCenterApi.openapi(
  createRoute({
    method: 'put',
    path: '/trust-center/branding/logo',
    tags: TAGS,
    summary: 'Upload the logo',
    description:
      'PNG, JPEG or WebP judged by content (SVG refused), at most 1 MiB (413). Replaces the previous logo. Needs `content.publish`.',
    middleware: [routeRequires('content.publish')],
    security: BEARER,
    request: { body: { required: true, content: { 'multipart/form-data': { schema: CertificateUpload } } } },
    responses: {
      200: { description: 'Branding', content: { 'application/json': { schema: BrandingJson } } },
      413: { description: 'The file is too large', content: { 'application/problem+json': { schema: ProblemSchema } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const ctx = requestContext(c);
    const { file } = c.req.valid('form');
    const current = await getBranding(ctx);
    const saved = await updateBranding(
      ctx,
      {
        displayName: current.displayName ?? '',
        primaryColor: current.primaryColor ?? '',
        accentColor: current.accentColor ?? '',
      },
      { bytes: new Uint8Array(await file.arrayBuffer()), filename: file.name, declaredType: file.type },
    );
    return c.json(brandingJson(saved), 200);
  },
);

function domainJson(d: Awaited<ReturnType<typeof listDomains>>[number]) {
  return {
    hostname: d.hostname,
    token: d.token,
    verified: d.verifiedAt !== null,
    verifiedAt: d.verifiedAt?.toISOString() ?? null,
    lastCheckedAt: d.lastCheckedAt?.toISOString() ?? null,
    lastError: d.lastError,
  };
}

trustCenterApi.openapi(
  createRoute({
    method: 'get',
    path: '/trust-center/domains',
    tags: TAGS,
    summary: 'Custom domains',
    description: 'Needs `settings.read`.',
    middleware: [routeRequires('settings.read')],
    security: BEARER,
    responses: { 200: { description: 'Domains', content: { 'application/json': { schema: DomainsJson } } }, ...commonErrors },
  }),
  async (c) => c.json({ items: (await listDomains(requestContext(c))).map(domainJson) }, 200),
);

trustCenterApi.openapi(
  createRoute({
    method: 'post',
    path: '/trust-center/domains',
    tags: TAGS,
    summary: 'Add a custom domain',
    description:
      `A host name (lower-cased; no scheme, port or path; 409 when any workspace has or asked for it) with a token that ` +
      `Candor serves at \`${VERIFICATION_PATH}\` on that name. Verify it to route it here. Needs \`settings.manage\`. ` +
      'Recorded as `trust_center.domain_added`.',
    middleware: [routeRequires('settings.manage')],
    security: BEARER,
    request: { body: { required: true, content: { 'application/json': { schema: DomainInput } } } },
    responses: {
      201: { description: 'The domain', content: { 'application/json': { schema: DomainJson } } },
      409: validationErrors[422],
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => c.json(domainJson(await addDomain(requestContext(c), c.req.valid('json').hostname)), 201),
);

trustCenterApi.openapi(
  createRoute({
    method: 'post',
    path: '/trust-center/domains/{hostname}/verify',
    tags: TAGS,
    summary: 'Verify a custom domain',
    description:
      `Reads \`${VERIFICATION_PATH}\` on the domain (HTTPS, then HTTP; no redirects) and, when it answers the token, routes ` +
      'the domain to this workspace. A failed check is kept in `lastError`. Needs `settings.manage`. Recorded as ' +
      '`trust_center.domain_verified` or `trust_center.domain_verification_failed`.',
    middleware: [routeRequires('settings.manage')],
    security: BEARER,
    request: { params: HostnameParam },
    responses: {
      200: { description: 'The domain', content: { 'application/json': { schema: DomainJson } } },
      ...commonErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json(domainJson(await verifyDomain(requestContext(c), c.req.valid('param').hostname, domainProbe(c))), 200),
);

trustCenterApi.openapi(
  createRoute({
    method: 'delete',
    path: '/trust-center/domains/{hostname}',
    tags: TAGS,
    summary: 'Remove a custom domain',
    description: 'It stops routing here. Needs `settings.manage`. Recorded as `trust_center.domain_removed`.',
    middleware: [routeRequires('settings.manage')],
    security: BEARER,
    request: { params: HostnameParam },
    responses: { 204: { description: 'Removed' }, ...commonErrors, ...notFoundError },
  }),
  async (c) => {
    await removeDomain(requestContext(c), c.req.valid('param').hostname);
    return c.body(null, 204);
  },
);
