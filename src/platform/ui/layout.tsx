import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { DEFAULT_LOCALE, isLocale } from '../i18n/locales.ts';
import { messagesFor } from '../i18n/messages/index.ts';
import { assetUrl } from './assets.ts';
import { type Flash, FlashMessage } from './components.tsx';

interface DocumentProps {
  title: string;
  lang?: string;
  bodyClass: string;
  robots?: string;
  /** Extra head elements (canonical link, Open Graph, feeds). */
  head?: Child;
  skipLabel?: string;
  children: Child;
}

function Document({ title, lang = 'en', bodyClass, robots, head, skipLabel = 'Skip to content', children }: DocumentProps) {
  // Without a doctype the browser renders in quirks mode (tables, line heights and box sizes differ).
  return (
    <>
      {raw('<!doctype html>')}
      <html lang={lang}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{title}</title>
          {robots ? <meta name="robots" content={robots} /> : null}
          <link rel="icon" href={assetUrl('logo.svg')} type="image/svg+xml" />
          <link rel="stylesheet" href={assetUrl('candor.css')} />
          <script src={assetUrl('candor.js')} defer />
          {head ?? null}
        </head>
        <body class={bodyClass}>
          <a class="skip-link" href="#main">
            {skipLabel}
          </a>
          {children}
        </body>
      </html>
    </>
  );
}

export interface PublicNavItem {
  href: string;
  label: string;
}

interface PublicLayoutProps {
  title: string;
  companyName: string;
  nav?: PublicNavItem[];
  current?: string;
  head?: Child;
  lang?: string;
  /** Where the company's name leads (the front page in the language shown). */
  homeHref?: string;
  /** The language switcher, shown in the header. */
  languages?: Child;
  /** The tenant's uploaded logo, shown in place of the initial. */
  logoUrl?: string | null | undefined;
  children: Child;
}

/** The Trust Center's frame: the company's name first, Candor only in the footer. */
export function PublicLayout(props: PublicLayoutProps) {
  const { title, companyName, nav = [], current, head, lang, homeHref = '/', languages, logoUrl, children } = props;
  const t = messagesFor(isLocale(lang) ? lang : DEFAULT_LOCALE).layout;
  return (
    <Document
      title={`${title} · ${t.siteTitle(companyName)}`}
      bodyClass="public"
      head={head}
      lang={lang}
      skipLabel={t.skipToContent}
    >
      <header class="site-header">
        <div class="container site-header__inner">
          <a class="brand" href={homeHref}>
            {logoUrl ? (
              <img class="brand__logo" src={logoUrl} alt="" height={36} />
            ) : (
              <span class="brand__mark" aria-hidden="true">
                {companyName.slice(0, 1).toUpperCase()}
              </span>
            )}
            <span class="brand__name">{companyName}</span>
            <span class="brand__suffix">{t.trustCenter}</span>
          </a>
          {nav.length > 0 ? (
            <nav aria-label={t.navigation}>
              <ul class="site-nav">
                {nav.map((item) => (
                  <li>
                    <a href={item.href} aria-current={item.href === current ? 'page' : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
          {languages ?? null}
        </div>
      </header>
      <main id="main" tabindex={-1}>
        {children}
      </main>
      <footer class="site-footer">
        <div class="container site-footer__inner">
          <p>
            © {new Date().getUTCFullYear()} {companyName}
          </p>
          <p class="muted">
            {t.poweredBy[0]} <span class="candor-word">Candor</span>
            {t.poweredBy[1] ? ` ${t.poweredBy[1]}` : null}
          </p>
        </div>
      </footer>
    </Document>
  );
}

export interface AdminNavItem {
  href: string;
  label: string;
  icon?: string;
  /** Shown only to people holding this permission (the page itself checks again). */
  permission?: string;
}

export interface AdminNavSection {
  label: string;
  items: AdminNavItem[];
}

interface AdminLayoutProps {
  title: string;
  tenantName: string;
  user: { name: string; email: string };
  nav: AdminNavSection[];
  current: string;
  csrfToken: string;
  flash?: Flash | undefined;
  children: Child;
}

/**
 * The navigation item the page belongs to: the one naming it, else the longest one it lies under (so
 * /admin/documents/analytics marks "Document analytics", not "Documents" too).
 */
function activeNavHref(nav: AdminNavSection[], current: string): string | undefined {
  let best: string | undefined;
  for (const { href } of nav.flatMap((section) => section.items)) {
    if (href === current) return href;
    const under = href !== '/admin' && current.startsWith(`${href}/`);
    if (under && href.length > (best?.length ?? 0)) best = href;
  }
  return best;
}

/** The back office's frame: a sidebar of capabilities, the signed-in person, and flash messages. */
export function AdminLayout({ title, tenantName, user, nav, current, csrfToken, flash, children }: AdminLayoutProps) {
  const active = activeNavHref(nav, current);
  return (
    <Document title={`${title} · ${tenantName} · Candor`} bodyClass="admin" robots="noindex, nofollow">
      <div class="admin-shell">
        <aside class="admin-sidebar">
          <a class="admin-brand" href="/admin">
            <img src={assetUrl('logo.svg')} alt="" width="28" height="28" />
            <span>
              <strong>Candor</strong>
              <span class="admin-brand__tenant">{tenantName}</span>
            </span>
          </a>
          <nav aria-label="Back office">
            {nav.map((section) => (
              <div class="admin-nav__section">
                <p class="admin-nav__label">{section.label}</p>
                <ul class="admin-nav">
                  {section.items.map((item) => (
                    <li>
                      <a href={item.href} aria-current={item.href === active ? 'page' : undefined}>
                        {item.label}
                      </a>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </nav>
          <div class="admin-user">
            <span class="avatar" aria-hidden="true">
              {initials(user.name)}
            </span>
            <span class="admin-user__who">
              <a class="admin-user__name" href="/admin/account" title="Your account: password and sessions">
                {user.name}
              </a>
              <span class="admin-user__email">{user.email}</span>
            </span>
            <form method="post" action="/admin/logout">
              <input type="hidden" name="_csrf" value={csrfToken} />
              <button type="submit" class="button button--ghost button--small">
                Sign out
              </button>
            </form>
          </div>
        </aside>
        <main id="main" class="admin-main" tabindex={-1}>
          {flash ? <FlashMessage flash={flash} /> : null}
          {children}
        </main>
      </div>
    </Document>
  );
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? (parts.at(-1)?.[0] ?? '') : '')).toUpperCase();
}

interface FocusLayoutProps {
  title: string;
  subtitle?: string;
  children: Child;
}

/** A centred card for sign-in, first-run setup and error pages. */
export function FocusLayout({ title, subtitle, children }: FocusLayoutProps) {
  return (
    <Document title={`${title} · Candor`} bodyClass="focus" robots="noindex, nofollow">
      <main id="main" class="focus-main" tabindex={-1}>
        <div class="focus-card">
          <a class="focus-brand" href="/">
            <img src={assetUrl('logo.svg')} alt="" width="36" height="36" />
            <span>Candor</span>
          </a>
          <h1>{title}</h1>
          {subtitle ? <p class="lead">{subtitle}</p> : null}
          {children}
        </div>
      </main>
    </Document>
  );
}
