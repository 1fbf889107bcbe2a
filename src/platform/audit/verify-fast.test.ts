import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  GENESIS_HASH,
  hasOnlyPlainStrings,
  type JsonValue,
  quoteEscaped,
  quotePlain,
  sha256Hex,
} from './canonical.ts';
import { ACTOR_TYPES, type ChainedEvent, canonicalEventJson, checkpointMessage, eventHash, OUTCOMES } from './event.ts';
import { type ChainLink, ChainVerifier, EventLine, exportedEventLink, isEventLineFast, verifyLines } from './verify.ts';

// The verifier's fast tiers must agree with the schema and the generic canonical serializer on every input
// they accept. These tests compare them on generated events (a seeded generator, so a failure reproduces)
// and on lines damaged at random, rich in the characters that make JSON hard: quotes, backslashes,
// control characters, surrogates, non-ASCII text, integer-like and unusual member names.

const TENANT = '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f';

/** mulberry32: small, seedable, good enough to spread test cases. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;

const PLAIN_PIECES = [
  'a',
  'Zed',
  ' ',
  '0',
  '42',
  'café',
  '—',
  '中文',
  '\u007f',
  '\u2028',
  'x.y',
  '{',
  '}',
  ',',
  ':',
  '[',
  'null',
];
const HARD_PIECES = ['"', '\\', '\n', '\t', '\u0000', '\u001f', '\b', '😀', '\ud800', '\udfff', '\\"', '/'];

function text(r: Random, plain: boolean): string {
  const pieces = plain || r() < 0.6 ? PLAIN_PIECES : [...PLAIN_PIECES, ...HARD_PIECES];
  let out = '';
  for (let n = Math.floor(r() * 5); n > 0; n--) out += pick(r, pieces);
  return out;
}

const KEYS = ['a', 'b', 'B', 'n', 'note', 'ndaAccepted', '0', '9', '10', '', 'é', 'z', 'Ω', 'id', 'prev', 'hash', 'a b'];

function json(r: Random, plain: boolean, depth: number): JsonValue {
  const roll = r();
  if (depth > 2 || roll < 0.3) return text(r, plain);
  if (roll < 0.5) return pick(r, [0, 1, -1, 7, 12345, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, -0]);
  if (roll < 0.6) return pick(r, [true, false, null]);
  if (roll < 0.75) return Array.from({ length: Math.floor(r() * 3) }, () => json(r, plain, depth + 1));
  return object(r, plain, depth + 1);
}

function object(r: Random, plain: boolean, depth: number): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (let n = Math.floor(r() * 5); n > 0; n--) out[r() < 0.8 ? pick(r, KEYS) : text(r, plain)] = json(r, plain, depth);
  return out;
}

const nullable = (r: Random, plain: boolean) => (r() < 0.3 ? null : text(r, plain));
const hex64 = (r: Random) => createHash('sha256').update(String(r())).digest('hex');

/** A valid event; `plain` keeps every string free of characters JSON escapes. */
function event(r: Random, plain: boolean): ChainedEvent {
  const ms = Math.floor(r() * 4e12);
  return {
    v: 1,
    tenant: TENANT,
    seq: pick(r, [1, 2, 99, 1_000_000, Number.MAX_SAFE_INTEGER]),
    time: new Date(ms).toISOString(),
    actor: { type: pick(r, ACTOR_TYPES), id: nullable(r, plain), label: nullable(r, plain) },
    action: pick(r, ['tenant.created', 'document_request.approved', 'a.b.c', 'session.sign_in_failed']),
    target: r() < 0.3 ? null : { type: text(r, plain), id: nullable(r, plain) },
    outcome: pick(r, OUTCOMES),
    ip: nullable(r, plain),
    userAgent: nullable(r, plain),
    requestId: nullable(r, plain),
    details: object(r, plain, 0),
    prev: r() < 0.2 ? GENESIS_HASH : hex64(r),
  };
}

/** How the exporter writes an event: JSON.stringify, `kind` first, `hash` last. */
const exportLine = (e: ChainedEvent, hash = eventHash(e)) => JSON.stringify({ kind: 'event', ...e, hash });

/** The slow, general reading the tiers must agree with: JSON.parse, the schema, generic canonical JSON. */
function reference(line: string): ChainLink | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = EventLine.safeParse(json);
  if (!parsed.success) return undefined;
  const { kind: _kind, hash, ...e } = parsed.data;
  return { seq: e.seq, prev: e.prev, hash, contentHash: sha256Hex(canonicalJson(e as unknown as JsonValue)) };
}

/** What tier 2 computes for a line it accepts (as the verifier does). */
function parsedTier(line: string, previousHash = GENESIS_HASH): ChainLink | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isEventLineFast(json, { tenant: TENANT, hash: previousHash })) return undefined;
  const quote = hasOnlyPlainStrings(line) ? quotePlain : quoteEscaped;
  return { seq: json.seq, prev: json.prev, hash: json.hash, contentHash: eventHash(json, quote) };
}

/** Damage of the kinds that slip past naive checks, at random places. */
function damage(r: Random, line: string): string {
  const at = Math.floor(r() * line.length);
  const roll = r();
  if (roll < 0.25) return line.slice(0, at) + pick(r, [...HARD_PIECES, ' ', '"', '{', '}', ',', '1', 'e']) + line.slice(at);
  if (roll < 0.4) return line.slice(0, at) + line.slice(at + 1 + Math.floor(r() * 3));
  if (roll < 0.55) return line.slice(0, at) + pick(r, ['"', ':', '0', 'x', '\\u0041', ']']) + line.slice(at + 1);
  const [from, to] = pick(r, [
    ['"seq":', '"seq":0'],
    ['"seq":', '"seq":-'],
    ['"v":1', '"v":1.0'],
    ['"v":1', '"v":true'],
    ['"details":{', '"details":{"__proto__":{"x":1},'],
    ['"details":{', '"details":{"f":1.5,'],
    ['"details":{', '"details":{"big":9007199254740993,'],
    ['"details":{', '"details":{"e":1e3,'],
    ['"details":{', '"details":{"n":-0,'],
    ['"details":{', '"details":{"d":1,"d":2,'],
    ['"details":{', '"details":{"u":"\\u00e9",'],
    ['"details":{', '"details":{"s":"\\/",'],
    ['"details":{', '"details":{"a":[1,{"b":[]}],'],
    ['"details":', '"details": '],
    ['"details":', '"details":[],"x":'],
    ['"prev":"', '"prev":"A'],
    ['"hash":"', '"hash":"0'],
    ['"target":{', '"target":{"extra":1,'],
    ['"actor":{"type":"', '"actor":{"type":"robot'],
    ['"outcome":"', '"outcome":"not'],
    ['"time":"', '"time":"+0'],
    ['"action":"', '"action":"Upper.'],
    [`"tenant":"${TENANT}"`, '"tenant":"00000000-0000-0000-0000-000000000000"'],
    ['{"kind":"event",', '{"kind":"event","note":"x",'],
    ['{"kind":"event",', '{"kind":"event","kind":"event",'],
    ['"ip":', '"ip":1,"x":'],
    [`"}`, `"}}`],
    [`"}`, `"} `],
  ] as const);
  return line.replace(from, to);
}

/** RFC 8785 for audit values, as simply as it can be written: the oracle for the faster serializers. */
function simpleCanonical(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(simpleCanonical).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const members = Object.keys(value).sort();
  return `{${members.map((k) => `${JSON.stringify(k)}:${simpleCanonical(value[k] as JsonValue)}`).join(',')}}`;
}

describe('canonical event serializer', () => {
  it('canonicalJson sorts and writes like the simplest implementation, small and large objects alike', () => {
    const r = random(9);
    for (let i = 0; i < 3000; i++) {
      const value =
        i % 10 === 0
          ? Object.fromEntries(Array.from({ length: 30 }, () => [text(r, false), json(r, false, 1)]))
          : json(r, false, 0);
      expect(canonicalJson(value)).toBe(simpleCanonical(value));
    }
  });

  it('writes exactly what the generic canonical JSON writes, for any event', () => {
    const r = random(1);
    for (let i = 0; i < 3000; i++) {
      const e = event(r, i % 2 === 0);
      const expected = simpleCanonical(e as unknown as JsonValue);
      expect(canonicalEventJson(e)).toBe(expected);
      // Plain quoting is only claimed for text with no backslash or surrogate, and is then the same.
      if (hasOnlyPlainStrings(JSON.stringify(e))) expect(canonicalEventJson(e, quotePlain)).toBe(expected);
    }
  });

  it('covers edge cases: empty details, all nulls, integer-like and unusual names, nested values', () => {
    const base = event(random(2), true);
    const cases: ChainedEvent[] = [
      {
        ...base,
        details: {},
        target: null,
        ip: null,
        userAgent: null,
        requestId: null,
        actor: { type: 'anonymous', id: null, label: null },
      },
      { ...base, details: { '10': 1, '9': 2, '': 3, B: 4, a: 5, é: 6, '\u0000': 7, '😀': 8, '\uff61': 9 } },
      { ...base, details: { z: { y: { x: [1, [2, { w: null, v: 'u' }]] } }, a: [] } },
      { ...base, userAgent: 'quote " backslash \\ newline \n tab \t nul \u0000 lone \ud800 pair 😀 sep \u2028' },
      { ...base, details: Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`k${(k * 7) % 40}`, k])) },
    ];
    for (const e of cases) expect(canonicalEventJson(e)).toBe(simpleCanonical(e as unknown as JsonValue));
  });

  it('keeps the published first test vector', () => {
    const e: ChainedEvent = {
      v: 1,
      tenant: TENANT,
      seq: 1,
      time: '2026-11-21T09:00:00.000Z',
      actor: { type: 'system', id: null, label: 'cli' },
      action: 'tenant.created',
      target: { type: 'tenant', id: TENANT },
      outcome: 'success',
      ip: null,
      userAgent: null,
      requestId: null,
      details: { slug: 'halcyon', name: 'Halcyon Ledger' },
      prev: GENESIS_HASH,
    };
    expect(eventHash(e)).toBe('6d165b6f1f6e51a7de0a05d6f5435ad60f2271a52415740586c2b820ff596714');
  });

  it('quotes plainly only what JSON.stringify would not escape', () => {
    const r = random(3);
    for (let i = 0; i < 5000; i++) {
      const s = text(r, false);
      if (hasOnlyPlainStrings(JSON.stringify(s))) expect(quotePlain(s)).toBe(JSON.stringify(s));
    }
  });
});

describe('fast event line tiers', () => {
  it('read an exported line as the schema and the canonical serializer do', () => {
    const r = random(4);
    let exported = 0;
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const line = exportLine(event(r, i % 2 === 0));
      const expected = reference(line);
      expect(expected).toBeDefined();
      const tier1 = exportedEventLink(line, TENANT);
      if (tier1) {
        exported++;
        expect(tier1).toEqual(expected);
      }
      const tier2 = parsedTier(line, expected?.prev);
      if (tier2) {
        parsed++;
        expect(tier2).toEqual(expected);
      }
    }
    // Both tiers must actually carry the usual lines, or the speed is gone without a failing test.
    expect(exported).toBeGreaterThan(1000);
    expect(parsed).toBeGreaterThan(2500);
  });

  it('never accept a damaged line the schema refuses, nor read one differently', () => {
    const r = random(5);
    let refused = 0;
    for (let i = 0; i < 30_000; i++) {
      const original = exportLine(event(r, i % 3 !== 0));
      let line = damage(r, original);
      if (r() < 0.3) line = damage(r, line);
      const expected = reference(line);
      if (!expected) refused++;
      const tier1 = exportedEventLink(line, TENANT);
      if (tier1) expect({ line, link: tier1 }).toEqual({ line, link: expected });
      const tier2 = parsedTier(line);
      if (tier2) expect({ line, link: tier2 }).toEqual({ line, link: expected });
    }
    expect(refused).toBeGreaterThan(10_000);
  });

  it('leave a line of another tenant, or before the tenant is known, to the schema', () => {
    const line = exportLine(event(random(6), true));
    expect(exportedEventLink(line, TENANT)).toBeDefined();
    expect(exportedEventLink(line, undefined)).toBeUndefined();
    expect(exportedEventLink(line, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
    const json: unknown = JSON.parse(line);
    expect(isEventLineFast(json, { tenant: undefined, hash: GENESIS_HASH })).toBe(false);
  });

  it('refuse a __proto__ member, which the schema would drop from the hash unseen', () => {
    const e = { ...event(random(7), true), details: { a: 1 } };
    const line = exportLine(e).replace('"details":{', '"details":{"__proto__":{"x":1},');
    expect(reference(line)?.contentHash).toBe(eventHash(e));
    expect(exportedEventLink(line, TENANT)).toBeUndefined();
    expect(parsedTier(line)).toBeUndefined();
    const verifier = new ChainVerifier();
    expect(verifier.line(line)).toBe(false);
    expect(verifier.finish().problem).toMatchObject({ kind: 'malformed', message: 'a member named "__proto__" is not allowed' });
  });
});

/** A complete signed export of `events`, each line written by `write`. */
function trail(events: ChainedEvent[], write: (line: Record<string, unknown>) => string): string[] {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const keyId = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  const lines = [write({ kind: 'key', tenant: TENANT, keyId, algorithm: 'Ed25519', publicKey: raw.toString('base64') })];
  let prev = GENESIS_HASH;
  events.forEach((e, i) => {
    const chained = { ...e, seq: i + 1, prev };
    prev = eventHash(chained);
    lines.push(write({ kind: 'event', ...chained, hash: prev }));
    if ((i + 1) % 10 === 0) {
      const checkpoint = { v: 1 as const, tenant: TENANT, seq: i + 1, hash: prev, time: e.time, keyId };
      const signature = sign(null, checkpointMessage(checkpoint), privateKey).toString('base64');
      lines.push(write({ kind: 'checkpoint', ...checkpoint, signature }));
    }
  });
  lines.push(write({ kind: 'end', tenant: TENANT, events: events.length, lastSeq: events.length, lastHash: prev }));
  return lines;
}

describe('verifying trails through every tier', () => {
  const r = random(8);
  // Event 7 gets details a damaged line can still be valid JSON with.
  const events = Array.from({ length: 60 }, (_, i) =>
    i === 6 ? { ...event(r, true), details: { a: 1 } } : event(r, i % 2 === 0),
  );
  const reversedMembers = (line: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(line).reverse()));
  const spaced = (line: Record<string, unknown>) => JSON.stringify(line, null, 1).replaceAll('\n', '');

  it('accept the exporter layout, other member orders and whitespace, with escapes and emoji', async () => {
    for (const write of [JSON.stringify, reversedMembers, spaced]) {
      const result = await verifyLines(trail(events, write));
      expect(result).toMatchObject({ ok: true, events: 60, checkpoints: 6, anchor: 'genesis' });
    }
  });

  it('read lines from an async source as from an array', async () => {
    const lines = trail(events, JSON.stringify);
    async function* stream() {
      yield* lines;
    }
    expect(await verifyLines(stream())).toEqual(await verifyLines(lines));
  });

  it('report a damaged event the same way whichever tier would have read it', async () => {
    for (const write of [JSON.stringify, reversedMembers]) {
      const lines = trail(events, write);
      const at = lines.findIndex((l) => l.includes('"seq":7,'));
      const changed = (from: RegExp, to: string) => lines.map((l, i) => (i === at ? l.replace(from, to) : l));

      const altered = await verifyLines(changed(/"action":"/, '"action":"x.'));
      expect(altered.problem).toMatchObject({ seq: 7, kind: 'altered', message: 'its content does not match its hash' });

      const details = await verifyLines(changed(/"details":\{/, '"details":{"added":1,'));
      expect(details.problem).toMatchObject({ seq: 7, kind: 'altered', message: 'its content does not match its hash' });

      const badHash = await verifyLines(changed(/"hash":"[0-9a-f]/, '"hash":"X'));
      expect(badHash.problem).toMatchObject({ seq: 7, kind: 'malformed' });
      expect(badHash.problem?.message).toContain('event hash:');

      const wrongType = await verifyLines(changed(/"seq":7,/, '"seq":"7",'));
      expect(wrongType.problem).toMatchObject({ seq: null, kind: 'malformed' });
      expect(wrongType.problem?.message).toContain('event seq:');

      const fraction = await verifyLines(changed(/"details":\{/, '"details":{"f":1.5,'));
      expect(fraction.problem).toMatchObject({ seq: 7, kind: 'malformed' });
      expect(fraction.problem?.message).toContain('event details.f');

      const unknown = await verifyLines(changed(/"target":/, '"sneaky":1,"target":'));
      expect(unknown.problem).toMatchObject({ seq: 7, kind: 'malformed', message: 'event line: unknown field(s) sneaky' });

      const otherTenant = await verifyLines(changed(new RegExp(TENANT), '00000000-0000-4000-8000-000000000000'));
      expect(otherTenant.problem).toMatchObject({ kind: 'wrong-tenant' });
    }
  });
});
