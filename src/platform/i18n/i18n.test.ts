import { describe, expect, it } from 'vitest';
import { formatDate, formatNumber } from './format.ts';
import { LOCALES, negotiateLocale } from './locales.ts';
import { CATALOGS } from './messages/index.ts';

describe('negotiateLocale', () => {
  it('picks the supported language the browser weighs highest', () => {
    expect(negotiateLocale('tr')).toBe('tr');
    expect(negotiateLocale('fr-FR, es;q=0.7, tr;q=0.9')).toBe('tr');
    expect(negotiateLocale('es;q=0.5, en;q=0.4')).toBe('es');
    expect(negotiateLocale('en;q=0.1, es;q=1.0')).toBe('es');
  });

  it('keeps the header order between equal weights', () => {
    expect(negotiateLocale('es, tr')).toBe('es');
    expect(negotiateLocale('tr, es')).toBe('tr');
  });

  it('matches a regional tag to its language, in any case', () => {
    expect(negotiateLocale('es-MX,es;q=0.9')).toBe('es');
    expect(negotiateLocale('ES-419')).toBe('es');
    expect(negotiateLocale('tr-TR')).toBe('tr');
    expect(negotiateLocale('en-US')).toBe('en');
  });

  it('falls back to English for unsupported, refused, wildcard, empty or malformed headers', () => {
    expect(negotiateLocale(undefined)).toBe('en');
    expect(negotiateLocale('')).toBe('en');
    expect(negotiateLocale('fr-CA, de;q=0.8')).toBe('en');
    expect(negotiateLocale('*')).toBe('en');
    expect(negotiateLocale('es;q=0')).toBe('en');
    expect(negotiateLocale('es;q=banana, fr')).toBe('en');
    expect(negotiateLocale(';;;,,,')).toBe('en');
    expect(negotiateLocale('xx-es, es-es;q=0.2')).toBe('es');
  });
});

type Tree = { [key: string]: unknown };

/** Every leaf of a catalog as `path → value`. */
function leaves(tree: Tree, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [p, v] of leaves(value as Tree, path)) out.set(p, v);
    } else out.set(path, value);
  }
  return out;
}

describe('message catalogs', () => {
  const source = leaves(CATALOGS.en);

  it.each(LOCALES.filter((l) => l !== 'en'))('%s has every English key, nothing more, each one filled in', (locale) => {
    const catalog = leaves(CATALOGS[locale]);
    expect([...catalog.keys()].sort()).toEqual([...source.keys()].sort());
    for (const [path, english] of source) {
      const value = catalog.get(path);
      expect(typeof value, path).toBe(typeof english);
      if (typeof value === 'string') expect(value.trim(), path).not.toBe('');
      if (typeof value === 'function' && typeof english === 'function') {
        expect(value.length, path).toBe(english.length);
        // Each value given to a sentence shows up in it.
        const args = Array.from({ length: english.length }, (_, i) => `«arg${i}»`);
        const text = (value as (...a: string[]) => string)(...args);
        for (const arg of args) expect(text, path).toContain(arg);
      }
    }
  });

  it('translates the words a visitor reads most, rather than copying the English', () => {
    for (const locale of ['es', 'tr'] as const) {
      const t = CATALOGS[locale];
      for (const text of [t.status.expired, t.status.expiring, t.nav.security, t.layout.skipToContent, t.faq.heading])
        expect(Object.values(leaves(CATALOGS.en))).not.toContain(text);
    }
  });
});

describe('formatters', () => {
  it('writes dates the way each language does, on the UTC day', () => {
    expect(formatDate('2026-11-21', 'en')).toBe('21 November 2026');
    expect(formatDate('2026-11-21', 'es')).toBe('21 de noviembre de 2026');
    expect(formatDate('2026-11-21', 'tr')).toBe('21 Kasım 2026');
    expect(formatDate(new Date('2026-11-21T23:30:00Z'), 'tr')).toBe('21 Kasım 2026');
    expect(formatDate('not a date', 'es')).toBe('not a date');
  });

  it('groups digits and marks decimals per language', () => {
    expect(formatNumber(12345.5, 'en')).toBe('12,345.5');
    expect(formatNumber(12345.5, 'es')).toBe('12.345,5');
    expect(formatNumber(12345.5, 'tr')).toBe('12.345,5');
  });
});
