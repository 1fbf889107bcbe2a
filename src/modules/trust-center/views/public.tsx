import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { formatDate, formatNumber } from '../../../platform/i18n/format.ts';
import type { Locale } from '../../../platform/i18n/locales.ts';
import type { Messages } from '../../../platform/i18n/messages/index.ts';
import { PublicLayout, type PublicNavItem } from '../../../platform/ui/layout.tsx';
import type { PublicBrand } from '../branding.ts';
import { alternatesOf, canonicalPath } from '../locale.ts';
import { isSafeUrl, renderMarkdown } from '../markdown.ts';
import { policySlugOf, SECTIONS } from '../schema.ts';
import { type CertificationStatus, certificationStatus, type PublishedContent } from '../service.ts';
import type { VersionRow } from '../store.ts';
import type { StoredDocument } from '../tables.ts';
import { BrandStylesheet } from './brand-head.tsx';
import { CertificateDownload } from './certificate-link.tsx';
import { LanguageSwitcher } from './language-switcher.tsx';
import { SubscribeBox, UpcomingSubprocessors, WriteToUs } from './subscribe.tsx';

/** What every public page knows besides its own content. */
export interface PublicPageContext {
  companyName: string;
  origin: string;
  path: string;
  today: string;
  content: PublishedContent;
  locale: Locale;
  /** The interface strings of `locale`. */
  t: Messages;
  /** What internal links start with: `/es` on a page asked for by prefix, empty on one negotiated from the browser. */
  base: string;
  /** The tenant's branding (name, colours, logo); absent: Candor's defaults. */
  brand?: PublicBrand | undefined;
}

/** An internal link that keeps the visitor in the language they chose. */
export function linkTo(ctx: PublicPageContext, path: string): string {
  if (ctx.base === '') return path;
  return path === '/' ? ctx.base : `${ctx.base}${path}`;
}

function Markdown({ source, lang }: { source: string | undefined; lang?: string | undefined }) {
  return source ? (
    <div class="prose" lang={lang}>
      {raw(renderMarkdown(source))}
    </div>
  ) : null;
}

/** The language of a section's content when it is not the page's (English shown in place of a translation). */
function langOf(ctx: PublicPageContext, key: string): string | undefined {
  const row = ctx.content.sections.get(key);
  return row && row.locale !== ctx.locale ? row.locale : undefined;
}

/** The public navigation: only sections that have been published. */
export function publicNav(ctx: PublicPageContext): PublicNavItem[] {
  const { content, t } = ctx;
  const policies = { href: linkTo(ctx, '/policies'), label: t.nav.policies };
  const items: PublicNavItem[] = [];
  for (const spec of SECTIONS) {
    if (spec.key === 'overview') continue;
    if (spec.key === 'faq' && content.policies.length > 0) items.push(policies);
    if (content.sections.has(spec.key))
      items.push({ href: linkTo(ctx, spec.path), label: t.nav[spec.key as keyof Messages['nav']] ?? spec.title });
  }
  if (content.policies.length > 0 && !items.includes(policies)) items.push(policies);
  if (content.documents) items.push({ href: linkTo(ctx, '/documents'), label: t.nav.documents });
  return items;
}

function Page({
  ctx,
  title,
  description,
  children,
}: {
  ctx: PublicPageContext;
  title: string;
  description: string;
  children: Child;
}) {
  const canonical = `${ctx.origin}${canonicalPath(ctx.locale, ctx.path)}`;
  const head = (
    <>
      <meta name="description" content={description} />
      <link rel="canonical" href={canonical} />
      <meta property="og:type" content="website" />
      {alternatesOf(ctx.origin, ctx.path).map((a) => (
        <link rel="alternate" hreflang={a.hreflang} href={a.href} />
      ))}
      <meta property="og:site_name" content={ctx.t.layout.siteTitle(ctx.companyName)} />
      <meta property="og:title" content={`${title} · ${ctx.companyName}`} />
      <meta property="og:description" content={description} />
      <meta property="og:url" content={canonical} />
      <meta property="og:locale" content={ctx.locale} />
      {ctx.content.sections.has('updates') ? (
        <link rel="alternate" type="application/atom+xml" title={ctx.t.feeds.updates} href={linkTo(ctx, '/updates.atom')} />
      ) : null}
      {ctx.content.sections.has('subprocessors') ? (
        <link
          rel="alternate"
          type="application/atom+xml"
          title={ctx.t.feeds.subprocessors}
          href={linkTo(ctx, '/subprocessors.atom')}
        />
      ) : null}
      <BrandStylesheet brand={ctx.brand} />
    </>
  );
  return (
    <PublicLayout
      title={title}
      companyName={ctx.companyName}
      nav={publicNav(ctx)}
      current={linkTo(ctx, ctx.path)}
      head={head}
      lang={ctx.locale}
      homeHref={linkTo(ctx, '/')}
      languages={<LanguageSwitcher locale={ctx.locale} path={ctx.path} label={ctx.t.layout.language} />}
      logoUrl={ctx.brand?.logoUrl}
    >
      {children}
    </PublicLayout>
  );
}

function PageHero({
  eyebrow,
  title,
  intro,
  lang,
}: {
  eyebrow: string;
  title: string;
  intro?: string | undefined;
  lang?: string | undefined;
}) {
  return (
    <section class="hero hero--page">
      <div class="container">
        <p class="eyebrow">{eyebrow}</p>
        <h1>{title}</h1>
        {intro ? <Markdown source={intro} lang={lang} /> : null}
      </div>
    </section>
  );
}

function docOf(ctx: PublicPageContext, key: string): StoredDocument | undefined {
  return ctx.content.sections.get(key)?.document;
}

function groupBy<T>(items: T[], key: (item: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups];
}

// --- pages ------------------------------------------------------------------------------------------------

export function OverviewPage({ ctx }: { ctx: PublicPageContext }) {
  const overview = docOf(ctx, 'overview');
  const { t } = ctx;
  const nav = publicNav(ctx);
  const headline = overview?.fields.title || t.overview.defaultHeadline(ctx.companyName);
  const updates = [...(docOf(ctx, 'updates')?.items ?? [])]
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''))
    .slice(0, 3);
  const certifications = docOf(ctx, 'certifications')?.items ?? [];
  return (
    <Page ctx={ctx} title={t.overview.title} description={headline}>
      <section class="hero">
        <div class="container hero__inner">
          <div class="hero__text">
            <p class="eyebrow">{t.layout.trustCenter}</p>
            <h1>{headline}</h1>
            {overview?.fields.intro ? (
              <div class="lead">
                <Markdown source={overview.fields.intro} />
              </div>
            ) : (
              <p class="lead">{t.overview.defaultLead(ctx.companyName)}</p>
            )}
          </div>
          <div class="hero__art" aria-hidden="true">
            <span class="hero__shield" />
          </div>
        </div>
      </section>
      {certifications.length > 0 ? (
        <section class="section" aria-labelledby="certs-title">
          <div class="container">
            <h2 id="certs-title">{t.overview.certifications}</h2>
            <ul class="card-grid">
              {certifications.map((c) => (
                <li class="card">
                  <h3>{c.standard}</h3>
                  <p>
                    <StatusBadge ctx={ctx} status={certificationStatus(c.validFrom ?? '', c.validUntil ?? '', ctx.today)} />
                  </p>
                  <p class="muted">{c.issuer}</p>
                </li>
              ))}
            </ul>
          </div>
        </section>
      ) : null}
      {nav.length > 0 ? (
        <section class="section section--muted" aria-labelledby="explore-title">
          <div class="container">
            <h2 id="explore-title">{t.overview.explore}</h2>
            <ul class="card-grid">
              {nav.map((item) => (
                <li class="card card--link">
                  <h3>
                    <a href={item.href}>{item.label}</a>
                  </h3>
                </li>
              ))}
            </ul>
          </div>
        </section>
      ) : null}
      {updates.length > 0 ? (
        <section class="section" aria-labelledby="updates-title">
          <div class="container">
            <h2 id="updates-title">{t.overview.latestUpdates}</h2>
            <ul class="notice-list">
              {updates.map((u) => (
                <li>
                  <time datetime={u.date}>{formatDate(u.date ?? '', ctx.locale)}</time>{' '}
                  <a href={`${linkTo(ctx, '/updates')}#${u.slug}`}>{u.title}</a>
                </li>
              ))}
            </ul>
          </div>
        </section>
      ) : null}
    </Page>
  );
}

export function SecurityPage({ ctx }: { ctx: PublicPageContext }) {
  const doc = docOf(ctx, 'security');
  return (
    <Page ctx={ctx} title={ctx.t.security.title} description={ctx.t.security.description(ctx.companyName)}>
      <PageHero
        eyebrow={ctx.t.layout.trustCenter}
        title={ctx.t.security.title}
        intro={doc?.fields.intro}
        lang={langOf(ctx, 'security')}
      />
      <div class="container section" lang={langOf(ctx, 'security')}>
        {groupBy(doc?.items ?? [], (i) => i.group ?? '').map(([group, items]) => (
          <section class="tc-group" aria-label={group}>
            <h2>{group}</h2>
            <ul class="card-grid">
              {items.map((item) => (
                <li class="card">
                  <h3>{item.title}</h3>
                  <Markdown source={item.body} />
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
    </Page>
  );
}

const STATUS_TONE: Record<CertificationStatus, 'success' | 'warning' | 'danger' | 'info'> = {
  current: 'success',
  expiring: 'warning',
  expired: 'danger',
  upcoming: 'info',
};

function StatusBadge({ ctx, status }: { ctx: PublicPageContext; status: CertificationStatus }) {
  return <span class={`badge badge--${STATUS_TONE[status]}`}>{ctx.t.status[status]}</span>;
}

export function CertificationsPage({ ctx }: { ctx: PublicPageContext }) {
  const doc = docOf(ctx, 'certifications');
  return (
    <Page ctx={ctx} title={ctx.t.certifications.title} description={ctx.t.certifications.description(ctx.companyName)}>
      <PageHero
        eyebrow={ctx.t.layout.trustCenter}
        title={ctx.t.certifications.heading}
        intro={doc?.fields.intro}
        lang={langOf(ctx, 'certifications')}
      />
      <div class="container section">
        <ul class="card-grid">
          {(doc?.items ?? []).map((c) => (
            <li class="card">
              <h2 class="card__title" lang={langOf(ctx, 'certifications')}>
                {c.standard}
                {c.version ? `:${c.version}` : ''}
              </h2>
              <p>
                <StatusBadge ctx={ctx} status={certificationStatus(c.validFrom ?? '', c.validUntil ?? '', ctx.today)} />
              </p>
              <dl class="details">
                <dt>{ctx.t.certifications.issuer}</dt>
                <dd lang={langOf(ctx, 'certifications')}>{c.issuer}</dd>
                <dt>{ctx.t.certifications.valid}</dt>
                <dd>
                  {formatDate(c.validFrom ?? '', ctx.locale)} – {formatDate(c.validUntil ?? '', ctx.locale)}
                </dd>
              </dl>
              <Markdown source={c.scope} lang={langOf(ctx, 'certifications')} />
              <CertificateDownload id={c.certificate} standard={c.standard} t={ctx.t.certifications} />
            </li>
          ))}
        </ul>
      </div>
    </Page>
  );
}

export function PoliciesPage({ ctx }: { ctx: PublicPageContext }) {
  return (
    <Page ctx={ctx} title={ctx.t.policies.title} description={ctx.t.policies.description(ctx.companyName)}>
      <PageHero eyebrow={ctx.t.layout.trustCenter} title={ctx.t.policies.title} />
      <div class="container section">
        <ul class="card-grid">
          {ctx.content.policies.map((p) => (
            <li class="card card--link">
              <h2 class="card__title">
                <a href={linkTo(ctx, `/policies/${policySlugOf(p.section)}`)}>{p.document.fields.title}</a>
              </h2>
              {p.document.fields.summary ? <p>{p.document.fields.summary}</p> : null}
              <p class="muted">
                {ctx.t.policies.lastUpdated} {formatDate(p.publishedAt, ctx.locale)}
              </p>
            </li>
          ))}
        </ul>
      </div>
    </Page>
  );
}

export function PolicyPage({ ctx, history }: { ctx: PublicPageContext; history: VersionRow[] }) {
  const [current] = history;
  if (!current) return null;
  const doc = current.document;
  const t = ctx.t.policies;
  const lang = current.locale !== ctx.locale ? current.locale : undefined;
  return (
    <Page
      ctx={ctx}
      title={doc.fields.title ?? t.untitled}
      description={doc.fields.summary || t.about(doc.fields.title ?? t.untitled, ctx.companyName)}
    >
      <PageHero eyebrow={t.eyebrow} title={doc.fields.title ?? ''} />
      <div class="container section tc-article">
        <p class="muted">
          {t.lastUpdated} <time datetime={current.publishedAt.toISOString()}>{formatDate(current.publishedAt, ctx.locale)}</time>
          {current.approvedBy ? ` · ${t.approvedByManagement}` : ''} · {t.version(formatNumber(current.version, ctx.locale))}
        </p>
        <Markdown source={doc.fields.body} lang={lang} />
        <h2>{t.versionHistory}</h2>
        <ol class="tc-history" reversed>
          {history.map((v) => (
            <li>
              {t.versionEntry(formatNumber(v.version, ctx.locale))},{' '}
              <time datetime={v.publishedAt.toISOString()}>{formatDate(v.publishedAt, ctx.locale)}</time>
              {v.note ? ` (${v.note})` : ''}
            </li>
          ))}
        </ol>
      </div>
    </Page>
  );
}

export function FaqPage({ ctx }: { ctx: PublicPageContext }) {
  const doc = docOf(ctx, 'faq');
  return (
    <Page ctx={ctx} title={ctx.t.faq.title} description={ctx.t.faq.description(ctx.companyName)}>
      <PageHero
        eyebrow={ctx.t.layout.trustCenter}
        title={ctx.t.faq.heading}
        intro={doc?.fields.intro}
        lang={langOf(ctx, 'faq')}
      />
      <div class="container section tc-article">
        {groupBy(doc?.items ?? [], (i) => i.category ?? '').map(([category, items]) => (
          <section class="tc-group" aria-label={category}>
            <h2 lang={langOf(ctx, 'faq')}>{category}</h2>
            {items.map((q) => (
              <details class="faq" id={q.slug}>
                <summary lang={langOf(ctx, 'faq')}>{q.question}</summary>
                <Markdown source={q.answer} lang={langOf(ctx, 'faq')} />
                <p class="faq__link">
                  <a href={`#${q.slug}`}>{ctx.t.faq.linkToQuestion}</a>
                </p>
              </details>
            ))}
          </section>
        ))}
      </div>
    </Page>
  );
}

function TablePage({
  ctx,
  section,
  title,
  description,
  columns,
  shown = () => true,
  children,
}: {
  ctx: PublicPageContext;
  section: string;
  title: string;
  description: string;
  columns: { name: string; label: string; markdown?: boolean; link?: string }[];
  shown?: (item: Record<string, string>) => boolean;
  children?: Child;
}) {
  const doc = docOf(ctx, section);
  return (
    <Page ctx={ctx} title={title} description={description}>
      <PageHero eyebrow={ctx.t.layout.trustCenter} title={title} intro={doc?.fields.intro} lang={langOf(ctx, section)} />
      <div class="container section">
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">{title}</caption>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th scope="col">{c.label}</th>
                ))}
              </tr>
            </thead>
            <tbody lang={langOf(ctx, section)}>
              {(doc?.items ?? []).filter(shown).map((item) => (
                <tr>
                  {columns.map((c) => {
                    const value = item[c.name] ?? '';
                    const url = c.link ? item[c.link] : undefined;
                    if (c.markdown) return <td>{raw(renderMarkdown(value))}</td>;
                    if (url && isSafeUrl(url)) {
                      return (
                        <td>
                          <a href={url} rel="nofollow noopener noreferrer">
                            {value}
                          </a>
                        </td>
                      );
                    }
                    return <td>{value}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {children}
      </div>
    </Page>
  );
}

export function DataPage({ ctx }: { ctx: PublicPageContext }) {
  const t = ctx.t.data;
  return (
    <TablePage
      ctx={ctx}
      section="data"
      title={t.title}
      description={t.description(ctx.companyName)}
      columns={[
        { name: 'category', label: t.category },
        { name: 'purposes', label: t.purposes, markdown: true },
        { name: 'legalBasis', label: t.legalBasis },
        { name: 'retention', label: t.retention },
      ]}
    />
  );
}

export function SubprocessorsPage({ ctx }: { ctx: PublicPageContext }) {
  const t = ctx.t.subprocessors;
  return (
    <TablePage
      ctx={ctx}
      section="subprocessors"
      title={t.title}
      description={t.description(ctx.companyName)}
      columns={[
        { name: 'name', label: t.name, link: 'website' },
        { name: 'purpose', label: t.purpose },
        { name: 'location', label: t.location },
        { name: 'dataCategories', label: t.dataCategories },
        { name: 'safeguards', label: t.safeguards },
      ]}
      shown={(item) => !((item.effectiveFrom ?? '') > ctx.today)}
    >
      <UpcomingSubprocessors
        at={ctx}
        doc={docOf(ctx, 'subprocessors')}
        lang={langOf(ctx, 'subprocessors')}
        today={ctx.today}
        formatDate={(iso) => formatDate(iso, ctx.locale)}
      />
      <SubscribeBox at={ctx} topic="subprocessors" feed="/subprocessors.atom" />
    </TablePage>
  );
}

export function UpdatesPage({ ctx }: { ctx: PublicPageContext }) {
  const doc = docOf(ctx, 'updates');
  const items = [...(doc?.items ?? [])].sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  return (
    <Page ctx={ctx} title={ctx.t.updates.title} description={ctx.t.updates.description(ctx.companyName)}>
      <PageHero
        eyebrow={ctx.t.layout.trustCenter}
        title={ctx.t.updates.heading}
        intro={doc?.fields.intro}
        lang={langOf(ctx, 'updates')}
      />
      <div class="container section tc-article">
        {items.map((u) => (
          <article class="tc-notice" id={u.slug}>
            <h2 lang={langOf(ctx, 'updates')}>{u.title}</h2>
            <p class="muted">
              <time datetime={u.date}>{formatDate(u.date ?? '', ctx.locale)}</time>
              {u.kind ? (
                <span class="badge badge--neutral" lang={langOf(ctx, 'updates')}>
                  {u.kind}
                </span>
              ) : null}
            </p>
            <Markdown source={u.body} lang={langOf(ctx, 'updates')} />
          </article>
        ))}
        <SubscribeBox at={ctx} topic="updates" feed="/updates.atom" />
      </div>
    </Page>
  );
}

export function ContactPage({ ctx }: { ctx: PublicPageContext }) {
  const doc = docOf(ctx, 'contact');
  const addresses = (['security', 'privacy', 'compliance'] as const).filter((k) => doc?.fields[k]);
  return (
    <Page ctx={ctx} title={ctx.t.contact.title} description={ctx.t.contact.description(ctx.companyName)}>
      <PageHero
        eyebrow={ctx.t.layout.trustCenter}
        title={ctx.t.contact.title}
        intro={doc?.fields.intro}
        lang={langOf(ctx, 'contact')}
      />
      <div class="container section">
        <WriteToUs at={ctx} />
        <ul class="card-grid">
          {addresses.map((k) => (
            <li class="card">
              <h2 class="card__title">{ctx.t.contact[k]}</h2>
              <p>
                <a href={`mailto:${doc?.fields[k]}`}>{doc?.fields[k]}</a>
              </p>
            </li>
          ))}
        </ul>
        {doc?.fields.postal ? (
          <section class="tc-group">
            <h2>{ctx.t.contact.postal}</h2>
            <Markdown source={doc.fields.postal} lang={langOf(ctx, 'contact')} />
          </section>
        ) : null}
      </div>
    </Page>
  );
}
