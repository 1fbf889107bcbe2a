import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { assetUrl } from './assets.ts';
import { type Flash, FlashMessage } from './components.tsx';

interface DocumentProps {
  title: string;
  lang?: string;
  bodyClass: string;
  robots?: string;
  children: Child;
}

function Document({ title, lang = 'en', bodyClass, robots, children }: DocumentProps) {
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
        </head>
        <body class={bodyClass}>
          <a class="skip-link" href="#main">
            Skip to content
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
  children: Child;
}

/** The Trust Center's frame: the company's name first, Candor only in the footer. */
export function PublicLayout({ title, companyName, nav = [], current, children }: PublicLayoutProps) {
  return (
    <Document title={`${title} · ${companyName} Trust Center`} bodyClass="public">
      <header class="site-header">
        <div class="container site-header__inner">
          <a class="brand" href="/">
            <span class="brand__mark" aria-hidden="true">
              {companyName.slice(0, 1).toUpperCase()}
            </span>
            <span class="brand__name">{companyName}</span>
            <span class="brand__suffix">Trust Center</span>
          </a>
          {nav.length > 0 ? (
            <nav aria-label="Trust Center">
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
            Powered by <span class="candor-word">Candor</span>
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

/** The back office's frame: a sidebar of capabilities, the signed-in person, and flash messages. */
export function AdminLayout({ title, tenantName, user, nav, current, csrfToken, flash, children }: AdminLayoutProps) {
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
                      <a
                        href={item.href}
                        aria-current={
                          current === item.href || (item.href !== '/admin' && current.startsWith(`${item.href}/`))
                            ? 'page'
                            : undefined
                        }
                      >
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
              <span class="admin-user__name">{user.name}</span>
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
