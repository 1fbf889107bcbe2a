import { DEFAULT_LOCALE, isLocale, LOCALES, type Locale } from '../../platform/i18n/locales.ts';

/**
 * Where a public page lives in each language. English, the default, keeps its unprefixed address as its canonical
 * one (`/faq`); the others live under their prefix (`/es/faq`). `/en/faq` also serves English: it is the address
 * a visitor who chose English lands on, since an unprefixed address follows the browser's language.
 */
export function canonicalPath(locale: Locale, path: string): string {
  return locale === DEFAULT_LOCALE ? path : prefixedPath(locale, path);
}

/** The address that always shows this language, whatever the browser asks for. */
export function prefixedPath(locale: Locale, path: string): string {
  return path === '/' ? `/${locale}` : `/${locale}${path}`;
}

/** Every address a public page answers at: unprefixed (negotiated) and under each locale's prefix. */
export function localizedRoutes(path: string): { route: string; locale: Locale | undefined }[] {
  const routes: { route: string; locale: Locale | undefined }[] = [{ route: path, locale: undefined }];
  for (const locale of LOCALES) {
    routes.push({ route: prefixedPath(locale, path), locale });
    if (path === '/') routes.push({ route: `/${locale}/`, locale });
  }
  return routes;
}

/** The hreflang alternates of a page: one per language, plus x-default for the address that negotiates. */
export function alternatesOf(origin: string, path: string): { hreflang: string; href: string }[] {
  return [
    ...LOCALES.map((locale) => ({ hreflang: locale, href: `${origin}${canonicalPath(locale, path)}` })),
    { hreflang: 'x-default', href: `${origin}${path}` },
  ];
}

/** The locale a `?locale=` query names: English when absent, undefined when unsupported. */
export function localeParam(value: string | undefined): Locale | undefined {
  if (value === undefined || value === '') return DEFAULT_LOCALE;
  return isLocale(value) ? value : undefined;
}
