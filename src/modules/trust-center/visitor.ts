import type { Context, Hono } from 'hono';
import type { AppContext, AppEnv } from '../../platform/http/env.ts';
import { type Locale, negotiateLocale } from '../../platform/i18n/locales.ts';
import { type Messages, messagesFor } from '../../platform/i18n/messages/index.ts';
import { localizedRoutes } from './locale.ts';

/**
 * The language of a public page that is rendered per visitor (forms, confirmation pages): the one the address's
 * prefix names, else the browser's. `base` is what the page's own links start with, as on the cached pages.
 */
export interface VisitorLocale {
  locale: Locale;
  t: Messages;
  base: string;
  /** The page's address without its language prefix, for the language switcher. */
  path: string;
}

export function visitorLocale(c: AppContext, chosen: Locale | undefined, fallback?: Locale): VisitorLocale {
  const locale = chosen ?? fallback ?? negotiateLocale(c.req.header('accept-language'));
  if (!chosen) c.header('vary', 'accept-language');
  const path = chosen ? c.req.path.slice(chosen.length + 1) || '/' : c.req.path;
  return { locale, t: messagesFor(locale), base: chosen ? `/${chosen}` : '', path };
}

/** An address inside the public face that keeps the visitor's language. */
export function localHref(v: { base: string }, path: string): string {
  if (v.base === '') return path;
  return path === '/' ? v.base : `${v.base}${path}`;
}

type Handler = (c: Context<AppEnv>, chosen: Locale | undefined) => Response | Promise<Response>;

/** Registers a public route at its unprefixed address and under each language prefix (`/es/subscribe`). */
export function localizedRoute(app: Hono<AppEnv>, method: 'get' | 'post', path: string, handler: Handler): void {
  for (const { route, locale } of localizedRoutes(path)) app[method](route, (c) => handler(c, locale));
}
