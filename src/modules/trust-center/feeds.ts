import { LOCALES, type Locale } from '../../platform/i18n/locales.ts';
import type { Messages } from '../../platform/i18n/messages/index.ts';
import { canonicalPath } from './locale.ts';
import { renderMarkdown } from './markdown.ts';
import { policySlugOf, SECTIONS } from './schema.ts';
import type { PublishedContent } from './service.ts';
import type { VersionRow } from './store.ts';

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

interface AtomEntry {
  id: string;
  title: string;
  updated: string;
  link: string;
  html: string;
}

function atom(origin: string, path: string, title: string, entries: AtomEntry[]): string {
  const updated =
    entries
      .map((e) => e.updated)
      .sort()
      .at(-1) ?? '1970-01-01T00:00:00Z';
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `<id>${xml(origin + path)}</id>`,
    `<title>${xml(title)}</title>`,
    `<updated>${updated}</updated>`,
    `<link rel="self" href="${xml(origin + path)}"/>`,
    ...entries.map((e) =>
      [
        '<entry>',
        `<id>${xml(e.id)}</id>`,
        `<title>${xml(e.title)}</title>`,
        `<updated>${e.updated}</updated>`,
        `<link href="${xml(e.link)}"/>`,
        `<content type="html">${xml(e.html)}</content>`,
        '</entry>',
      ].join(''),
    ),
    '</feed>',
    '',
  ].join('\n');
}

/** Security and incident notices, newest first. `base` is the language prefix the feed was asked under. */
export function updatesFeed(origin: string, base: string, companyName: string, content: PublishedContent, t: Messages): string {
  const items = [...(content.sections.get('updates')?.document.items ?? [])].sort((a, b) =>
    (b.date ?? '').localeCompare(a.date ?? ''),
  );
  return atom(
    origin,
    `${base}/updates.atom`,
    t.feeds.updatesTitle(companyName),
    items.map((u) => ({
      id: `${origin}${base}/updates#${u.slug}`,
      title: u.title ?? '',
      updated: `${u.date}T00:00:00Z`,
      link: `${origin}${base}/updates#${u.slug}`,
      html: renderMarkdown(u.body ?? ''),
    })),
  );
}

/** Each published version of the sub-processor list is an entry naming who was added and who removed. */
export function subprocessorFeed(origin: string, base: string, companyName: string, history: VersionRow[], t: Messages): string {
  const entries = history.map((v, i) => {
    const names = new Set(v.document.items.map((s) => s.name ?? ''));
    const before = new Set((history[i + 1]?.document.items ?? []).map((s) => s.name ?? ''));
    const effective = new Map(v.document.items.map((s) => [s.name ?? '', s.effectiveFrom ?? '']));
    // An announced sub-processor names its date: the feed entry is the advance notice.
    const added = [...names]
      .filter((n) => !before.has(n))
      .map((n) => (effective.get(n) ? `${n} (effective ${effective.get(n)})` : n));
    const removed = [...before].filter((n) => !names.has(n));
    const lines = [
      added.length > 0 ? t.feeds.added(added.join(', ')) : '',
      removed.length > 0 ? t.feeds.removed(removed.join(', ')) : '',
      added.length + removed.length === 0 ? t.feeds.detailsChanged : '',
    ].filter(Boolean);
    return {
      id: `${origin}${base}/subprocessors#version-${v.version}`,
      title: t.feeds.subprocessorList(String(v.version)),
      updated: v.publishedAt.toISOString(),
      link: `${origin}${base}/subprocessors`,
      html: lines.map((l) => `<p>${xml(l)}</p>`).join(''),
    };
  });
  return atom(origin, `${base}/subprocessors.atom`, t.feeds.subprocessorsTitle(companyName), entries);
}

/** The pages of one locale's site, each with when it last changed. */
function pagesOf(content: PublishedContent): Map<string, string> {
  const paths = [
    '/',
    ...SECTIONS.filter((s) => s.key !== 'overview' && content.sections.has(s.key)).map((s) => s.path),
    ...(content.policies.length > 0 ? ['/policies'] : []),
    ...content.policies.map((p) => `/policies/${policySlugOf(p.section)}`),
  ];
  const lastmod = (path: string) => {
    const row =
      content.policies.find((p) => `/policies/${policySlugOf(p.section)}` === path) ??
      content.sections.get(SECTIONS.find((s) => s.path === path)?.key ?? '');
    return row ? `<lastmod>${row.publishedAt.toISOString()}</lastmod>` : '';
  };
  return new Map(paths.map((p) => [p, lastmod(p)]));
}

/** Every page in every language at its canonical address, each listing its other languages (hreflang). */
export function sitemap(origin: string, contents: Record<Locale, PublishedContent>): string {
  const pages = LOCALES.map((locale) => [locale, pagesOf(contents[locale])] as const);
  const urls = pages.flatMap(([locale, paths]) =>
    [...paths].map(([path, lastmod]) => {
      const alternates = pages
        .filter(([, other]) => other.has(path))
        .map(([other]) => `<xhtml:link rel="alternate" hreflang="${other}" href="${xml(origin + canonicalPath(other, path))}"/>`);
      return `<url><loc>${xml(origin + canonicalPath(locale, path))}</loc>${lastmod}${alternates.join('')}</url>`;
    }),
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ...urls,
    '</urlset>',
    '',
  ].join('\n');
}

export function robots(origin: string): string {
  return `User-agent: *\nAllow: /\nDisallow: /admin\nDisallow: /api\nSitemap: ${origin}/sitemap.xml\n`;
}
