/**
 * Personal mail providers: a request from one of these is refused (a company address is asked for). Shipped as
 * the starting list of every tenant, which edits its own copy at /admin/documents/access.
 */
export const DEFAULT_BLOCKED_DOMAINS: readonly string[] = [
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'yahoo.co.uk',
  'yahoo.fr',
  'ymail.com',
  'outlook.com',
  'hotmail.com',
  'hotmail.co.uk',
  'hotmail.fr',
  'live.com',
  'msn.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'aol.com',
  'proton.me',
  'protonmail.com',
  'pm.me',
  'tutanota.com',
  'tuta.io',
  'gmx.com',
  'gmx.de',
  'gmx.net',
  'web.de',
  'mail.com',
  'yandex.com',
  'yandex.ru',
  'mail.ru',
  'zoho.com',
  'fastmail.com',
  'hey.com',
  'qq.com',
  '163.com',
  '126.com',
  'naver.com',
  'orange.fr',
  'free.fr',
  'laposte.net',
  'libero.it',
];

/** The lower-cased domain of an address. */
export function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/** Whether `domain` is `listed` or one of its subdomains (mail.example.com matches example.com). */
export function domainMatches(domain: string, listed: readonly string[]): boolean {
  return listed.some((d) => domain === d || domain.endsWith(`.${d}`));
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** A list typed one domain a line (or comma-separated): lower-cased, deduplicated; bad entries returned apart. */
export function parseDomainList(text: string): { domains: string[]; invalid: string[] } {
  const entries = text
    .split(/[\s,]+/)
    .map((d) => d.trim().toLowerCase().replace(/^@/, ''))
    .filter(Boolean);
  const invalid = entries.filter((d) => !DOMAIN.test(d));
  return { domains: [...new Set(entries.filter((d) => DOMAIN.test(d)))].sort(), invalid };
}
