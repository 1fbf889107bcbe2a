import type { Locale } from '../locales.ts';
import { en, type Messages } from './en.ts';
import { es } from './es.ts';
import { tr } from './tr.ts';

export type { Messages };

export const CATALOGS: Record<Locale, Messages> = { en, es, tr };

export function messagesFor(locale: Locale): Messages {
  return CATALOGS[locale];
}
