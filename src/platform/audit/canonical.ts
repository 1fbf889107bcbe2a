import { hash } from 'node:crypto';

/** A JSON value as the audit format allows it: no undefined, no NaN/Infinity, integers within 2^53. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export class CanonicalError extends Error {
  override name = 'CanonicalError';
}

/** Writes one string as canonical JSON. */
export type QuoteString = (text: string) => string;

/** Any string, as ECMAScript's JSON.stringify writes it (the canonical form). */
export const quoteEscaped: QuoteString = (text) => JSON.stringify(text);

/**
 * A string known to contain nothing JSON.stringify escapes (`"`, `\`, U+0000–U+001F, a lone surrogate): its
 * canonical form is the text between quotes, without the cost of looking at every character again.
 */
export const quotePlain: QuoteString = (text) => `"${text}"`;

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Whether every string parsed from this JSON text may be written with `quotePlain`. Without a backslash the
 * text's strings hold no quote, backslash or control character (JSON.parse refuses them raw); without a
 * surrogate they hold no lone one. A well-formed pair is refused too: rare, and `quoteEscaped` handles it.
 */
export function hasOnlyPlainStrings(jsonText: string): boolean {
  // Two scans rather than one pattern: a character search is far faster than a regular expression, and
  // the surrogate test is nearly free on the usual one-byte string.
  return !jsonText.includes('\\') && !SURROGATE.test(jsonText);
}

/**
 * RFC 8785 (JSON Canonicalization Scheme) for the values the audit format uses: object members sorted by
 * their UTF-16 code units, no whitespace, strings and numbers serialised as ECMAScript's JSON.stringify
 * does. Integers only (JCS number formatting for fractions is not needed and not allowed here).
 * `quote` may be `quotePlain` only when the caller knows no string inside `value` needs an escape.
 */
export function canonicalJson(value: JsonValue, quote: QuoteString = quoteEscaped): string {
  if (typeof value === 'string') return quote(value);
  if (value === null || typeof value === 'boolean') return value === null ? 'null' : String(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new CanonicalError(`numbers must be safe integers, got ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return canonicalArray(value, quote);
  return canonicalObject(value, quote);
}

function canonicalArray(items: JsonValue[], quote: QuoteString): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    out += canonicalJson(items[i] as JsonValue, quote);
  }
  return `${out}]`;
}

function canonicalObject(object: { [key: string]: JsonValue }, quote: QuoteString): string {
  const keys = sortedKeys(object);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const member = object[key];
    if (member === undefined) throw new CanonicalError(`member ${key} is undefined`);
    if (i > 0) out += ',';
    out += `${quote(key)}:${canonicalJson(member, quote)}`;
  }
  return `${out}}`;
}

/**
 * Member names in UTF-16 code unit order (what `<` compares). Audit objects are small, where an insertion
 * sort beats Array.prototype.sort's set-up; both give the same order since the names are distinct.
 */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** Hex SHA-256 of the text's UTF-8 bytes; one-shot `hash` (Node 20.12+) spares a Hash object per call. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** The `prev` of a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64);
