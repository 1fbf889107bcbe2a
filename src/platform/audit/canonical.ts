import { createHash } from 'node:crypto';

/** A JSON value as the audit format allows it: no undefined, no NaN/Infinity, integers within 2^53. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export class CanonicalError extends Error {
  override name = 'CanonicalError';
}

/**
 * RFC 8785 (JSON Canonicalization Scheme) for the values the audit format uses: object members sorted by
 * their UTF-16 code units, no whitespace, strings and numbers serialised as ECMAScript's JSON.stringify
 * does. Integers only (JCS number formatting for fractions is not needed and not allowed here).
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new CanonicalError(`numbers must be safe integers, got ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys
    .map((key) => {
      const member = value[key];
      if (member === undefined) throw new CanonicalError(`member ${key} is undefined`);
      return `${JSON.stringify(key)}:${canonicalJson(member)}`;
    })
    .join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The `prev` of a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64);
