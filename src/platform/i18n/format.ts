import type { Locale } from './locales.ts';

// British English writes the day first (21 November 2026), as most readers outside the US expect.
const INTL_TAG: Record<Locale, string> = { en: 'en-GB', es: 'es', tr: 'tr' };

const dateFormats = new Map<Locale, Intl.DateTimeFormat>();
const numberFormats = new Map<Locale, Intl.NumberFormat>();

/** A calendar date (`2026-11-21`) or an instant as a long date in the locale, read in UTC so every visitor sees the same day. */
export function formatDate(value: string | Date, locale: Locale): string {
  const date = typeof value === 'string' ? new Date(`${value}T00:00:00Z`) : value;
  if (Number.isNaN(date.getTime())) return typeof value === 'string' ? value : '';
  let format = dateFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(INTL_TAG[locale], { dateStyle: 'long', timeZone: 'UTC' });
    dateFormats.set(locale, format);
  }
  return format.format(date);
}

export function formatNumber(value: number, locale: Locale): string {
  let format = numberFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(INTL_TAG[locale]);
    numberFormats.set(locale, format);
  }
  return format.format(value);
}
