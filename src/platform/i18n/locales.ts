/** The languages the public face speaks. English is the source: every other catalog and all content fall back to it. */
export const LOCALES = ['en', 'es', 'tr'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** Each language by its own name: a visitor looks for the language they read, not its English name. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', es: 'Español', tr: 'Türkçe' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

interface Preference {
  tag: string;
  q: number;
  order: number;
}

/** `es-MX;q=0.8` → tag `es-mx`, weight 0.8; malformed weights count as 0 (RFC 9110 §12.5.4 allows 0–1). */
function preferencesOf(header: string): Preference[] {
  return header
    .split(',')
    .map((part, order) => {
      const [range = '', ...params] = part.trim().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('q='));
      const q = qParam === undefined ? 1 : Number(qParam.slice(2));
      return { tag: range.trim().toLowerCase(), q: Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0, order };
    })
    .filter((p) => p.tag !== '' && p.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
}

/**
 * The supported locale an `Accept-Language` header prefers most: highest weight first, a regional tag
 * matching its language (`es-MX` → `es`), `*` or anything unsupported falling through to English.
 */
export function negotiateLocale(acceptLanguage: string | undefined | null): Locale {
  if (!acceptLanguage) return DEFAULT_LOCALE;
  for (const { tag } of preferencesOf(acceptLanguage.slice(0, 500))) {
    const language = tag.split('-')[0];
    if (isLocale(language)) return language;
  }
  return DEFAULT_LOCALE;
}
