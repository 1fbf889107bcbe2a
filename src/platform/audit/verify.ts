import { createPublicKey, type KeyObject, verify as verifySignature } from 'node:crypto';
import { z } from 'zod';
import {
  canonicalJson,
  GENESIS_HASH,
  hasOnlyPlainStrings,
  type JsonValue,
  quoteEscaped,
  quotePlain,
  sha256Hex,
} from './canonical.ts';
import {
  ACTION_PATTERN,
  ACTOR_TYPES,
  ChainedEvent,
  Checkpoint,
  canonicalEvent,
  canonicalTarget,
  checkpointMessage,
  eventHash,
  FORMAT_VERSION,
  HEX64_PATTERN,
  OUTCOMES,
  TIME_PATTERN,
} from './event.ts';

// The export is JSON Lines; each line says what it is (docs/audit-log-format.md).
const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
export const EventLine = ChainedEvent.extend({ kind: z.literal('event'), hash: Hex64 }).strict();
export const CheckpointLine = Checkpoint.extend({ kind: z.literal('checkpoint'), signature: z.base64() }).strict();
export const KeyLine = z.strictObject({
  kind: z.literal('key'),
  tenant: z.uuid(),
  keyId: z.string().min(1),
  algorithm: z.literal('Ed25519'),
  publicKey: z.base64(),
});
/** The last line of a complete export: a trail cut at a line boundary is still caught. */
export const EndLine = z.strictObject({
  kind: z.literal('end'),
  tenant: z.uuid(),
  events: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative().nullable(),
  lastHash: Hex64.nullable(),
});
export type EventLine = z.infer<typeof EventLine>;
export type EndLine = z.infer<typeof EndLine>;
export type CheckpointLine = z.infer<typeof CheckpointLine>;
export type KeyLine = z.infer<typeof KeyLine>;
export type TrailLine = EventLine | CheckpointLine | KeyLine | EndLine;
const LINE_SCHEMAS = { event: EventLine, checkpoint: CheckpointLine, key: KeyLine, end: EndLine } as const;

// The hot path. Event lines are nearly all of an export, and parsing them and walking the schema costs
// several times more than hashing them, so the same checks are also written out for the usual cases, in
// two tiers: a line exactly as Candor's exporter writes it is checked on its text, with no JSON.parse;
// any other event line is parsed and checked by hand. A line neither tier accepts is not thereby wrong:
// it goes to the schema, which decides and words any error. So the tiers may be narrower than the schema
// (they are, for rare shapes) but must never accept what it refuses, nor read a value differently.

/** An event line reduced to what the chain checks: its place, its link, and what its content hashes to. */
export interface ChainLink {
  seq: number;
  prev: string;
  /** The `hash` the line states. */
  hash: string;
  /** The hash of its content, recomputed. */
  contentHash: string;
}

// Checks on parsed values, shared by both tiers.

type Fields = { readonly [member: string]: unknown };

/** A JSON object (JSON.parse gives no other non-array objects) with exactly `members` members. */
function isObjectOf(value: unknown, members: number): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let count = 0;
  for (const _ in value) count++;
  return count === members;
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

function matches(value: unknown, pattern: RegExp): boolean {
  return typeof value === 'string' && pattern.test(value);
}

/**
 * What the schema's `details` accepts: strings, safe integers, booleans, null, arrays and objects of these.
 * A `__proto__` member is left to the schema, which drops it; the hash must be computed over what it keeps.
 */
function isDetailsValue(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isSafeInteger(value);
    case 'object':
      if (value === null) return true;
      return Array.isArray(value) ? value.every(isDetailsValue) : isDetailsObject(value);
    default:
      return false;
  }
}

function isDetailsObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key in value) {
    if (key === '__proto__' || !isDetailsValue((value as Fields)[key])) return false;
  }
  return true;
}

// Tier 1. The exporter writes JSON.stringify's output: no whitespace, members in a fixed order, strings
// escaped as canonical JSON escapes them. Where a line has exactly that layout and no string needs an
// escape, each member's text in the line is already its canonical form and only `details` (stored with
// its members in another order) is re-serialised. The pattern checks what the schema checks on the way.

/** A JSON string with nothing to escape (see `hasOnlyPlainStrings`): its text is its canonical form. */
const PLAIN = String.raw`"[^"\\\u0000-\u001f\ud800-\udfff]*"`;
const PLAIN_OR_NULL = `(?:null|${PLAIN})`;
/** A pattern's body without its anchors, to embed. */
const body = (pattern: RegExp) => pattern.source.replace(/^\^|\$$/g, '');
// Members in the exporter's order, each captured (in this order) as its text in the line. Numbered groups:
// named ones would cost an extra object per line.
const EXPORTED_EVENT_LINE = new RegExp(
  String.raw`^\{"kind":"event","v":1,"tenant":"([^"]*)","seq":([1-9][0-9]{0,15}),"time":("${body(TIME_PATTERN)}"),` +
    // The actor types and outcomes are plain words, safe to join into the pattern as they are.
    String.raw`"actor":\{"type":("(?:${ACTOR_TYPES.join('|')})"),"id":(${PLAIN_OR_NULL}),"label":(${PLAIN_OR_NULL})\},` +
    String.raw`"action":("${body(ACTION_PATTERN)}"),"target":(?:null|\{"type":(${PLAIN}),"id":(${PLAIN_OR_NULL})\}),` +
    `"outcome":("(?:${OUTCOMES.join('|')})"),"ip":(${PLAIN_OR_NULL}),"userAgent":(${PLAIN_OR_NULL}),` +
    // Lazy: details end where the fixed-length tail begins, which the anchored tail pins down either way.
    String.raw`"requestId":(${PLAIN_OR_NULL}),"details":(\{[^\\\u0000-\u001f\ud800-\udfff]*?\}),` +
    String.raw`"prev":"(${body(HEX64_PATTERN)})","hash":"(${body(HEX64_PATTERN)})"\}$`,
);

/**
 * Tier 1: the chain link of an event line in the exporter's layout, or undefined for anything else.
 * `tenant` is the trail's tenant as an earlier line established it (the schema checked it is a UUID).
 */
export function exportedEventLink(text: string, tenant: string | undefined): ChainLink | undefined {
  if (tenant === undefined) return undefined;
  const m = EXPORTED_EVENT_LINE.exec(text);
  if (m === null) return undefined;
  // biome-ignore format: one capture per member, in the pattern's order
  const [, lineTenant, seqText, time, actorType, actorId, actorLabel, action, targetType, targetId, outcome, ip, userAgent,
    requestId, detailsText, prev, hash] = m;
  const seq = Number(seqText);
  if (lineTenant !== tenant || !Number.isSafeInteger(seq)) return undefined;
  const details = plainDetails(detailsText as string);
  if (details === undefined) return undefined;
  const content = canonicalEvent({
    action: action as string,
    actorId: actorId as string,
    actorLabel: actorLabel as string,
    actorType: actorType as string,
    details,
    ip: ip as string,
    outcome: outcome as string,
    prev: quotePlain(prev as string),
    requestId: requestId as string,
    seq: seqText as string,
    target: targetType === undefined ? 'null' : canonicalTarget(targetId as string, targetType),
    tenant: quotePlain(tenant),
    time: time as string,
    userAgent: userAgent as string,
    v: '1',
  });
  return { seq, prev: prev as string, hash: hash as string, contentHash: sha256Hex(content) };
}

/**
 * Canonical JSON of the `details` text the pattern matched (no backslash or surrogate in it), or undefined
 * when it is not a details object as the schema reads it: JSON.parse decides the syntax (the pattern only
 * bounds the text), `isDetailsObject` the content.
 */
function plainDetails(text: string): string | undefined {
  let details: unknown;
  try {
    details = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isDetailsObject(details) ? canonicalJson(details as JsonValue, quotePlain) : undefined;
}

// Tier 2: a parsed event line, checked member by member.

/** Members of an event line: the 13 of an event plus `kind` and `hash`. */
const EVENT_LINE_MEMBERS = 15;
const actorTypes: readonly unknown[] = ACTOR_TYPES;
const outcomes: readonly unknown[] = OUTCOMES;

function isActor(value: unknown): boolean {
  return isObjectOf(value, 3) && actorTypes.includes(value.type) && isNullableString(value.id) && isNullableString(value.label);
}

function isTarget(value: unknown): boolean {
  return value === null || (isObjectOf(value, 2) && typeof value.type === 'string' && isNullableString(value.id));
}

/** Strings already known to be valid, which a line that repeats them need not check again. */
interface Checked {
  /** The trail's tenant, checked by the schema on an earlier line: the same tenant needs no UUID check. */
  tenant: string | undefined;
  /** The previous event's hash (or the genesis hash), valid hex: the usual `prev` needs no pattern test. */
  hash: string;
}

/** Tier 2: true when `EventLine` would accept this parsed line unchanged. */
export function isEventLineFast(json: unknown, checked: Checked): json is EventLine {
  if (!isObjectOf(json, EVENT_LINE_MEMBERS)) return false;
  const { seq } = json;
  return (
    json.kind === 'event' &&
    json.v === FORMAT_VERSION &&
    checked.tenant !== undefined &&
    json.tenant === checked.tenant &&
    typeof seq === 'number' &&
    Number.isSafeInteger(seq) &&
    seq > 0 &&
    matches(json.time, TIME_PATTERN) &&
    isActor(json.actor) &&
    matches(json.action, ACTION_PATTERN) &&
    isTarget(json.target) &&
    outcomes.includes(json.outcome) &&
    isNullableString(json.ip) &&
    isNullableString(json.userAgent) &&
    isNullableString(json.requestId) &&
    isDetailsObject(json.details) &&
    (json.prev === checked.hash || matches(json.prev, HEX64_PATTERN)) &&
    matches(json.hash, HEX64_PATTERN)
  );
}

/** The chain link of a checked event line, parsed from `text`. */
function parsedEventLink(line: EventLine, text: string): ChainLink {
  // Strings that needed no escape in the line's text need none in canonical form either.
  const quote = hasOnlyPlainStrings(text) ? quotePlain : quoteEscaped;
  // eventHash reads only the event's own members, not the line's `kind` and `hash`.
  return { seq: line.seq, prev: line.prev, hash: line.hash, contentHash: eventHash(line, quote) };
}

export type ProblemKind =
  | 'truncated'
  | 'malformed'
  | 'altered'
  | 'missing'
  | 'reordered'
  | 'bad-signature'
  | 'unknown-key'
  | 'wrong-tenant';

export interface Problem {
  /** The first sequence number that does not verify (null when the problem is not tied to one). */
  seq: number | null;
  line: number;
  kind: ProblemKind;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  checkpoints: number;
  firstSeq: number | null;
  lastSeq: number | null;
  lastHash: string | null;
  /** How the first event is tied down: the genesis, a signed checkpoint, or nothing (a partial export). */
  anchor: 'genesis' | 'checkpoint' | 'none' | 'empty';
  /** Whether checkpoint signatures were checked against a key the verifier was given (not just the file's). */
  signaturesTrusted: boolean;
  problem?: Problem;
}

/** Raw 32-byte Ed25519 public key (base64) → key object. */
export function ed25519PublicKey(base64: string): KeyObject {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  // SPKI prefix for Ed25519 (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING key }
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/**
 * Checks a trail line by line: each event's hash, the links between events, consecutive sequence numbers,
 * and each checkpoint's hash and signature. Stops at the first problem, which names the sequence number.
 */
export class ChainVerifier {
  private readonly fileKeys = new Map<string, KeyObject>();
  private tenant: string | undefined;
  private lineNo = 0;
  private events = 0;
  private checkpoints = 0;
  private firstSeq: number | null = null;
  private lastSeq: number | null = null;
  private lastHash: string | null = null;
  private anchor: VerifyResult['anchor'] = 'empty';
  private pendingAnchor: { seq: number; hash: string } | undefined;
  private problem: Problem | undefined;
  private ended = false;
  /** A jump forward in sequence numbers, judged on the next line: missing, or merely out of order. */
  private gap: { expected: number; seen: number } | undefined;

  /** @param trustedKey a public key obtained independently (`--public-key`); every signature must match it. */
  constructor(private readonly trustedKey?: KeyObject) {}

  get failed(): boolean {
    return this.problem !== undefined;
  }

  /** Feeds one line of an export; returns false once a problem has been found. */
  line(text: string): boolean {
    if (this.problem) return false;
    this.lineNo++;
    if (isBlank(text)) return true;
    if (this.ended) return this.fail(null, 'malformed', 'content after the end line');
    const exported = exportedEventLink(text, this.tenant);
    if (exported) return this.event(exported);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.fail(null, 'malformed', 'not a JSON object (truncated or damaged line)');
    }
    // The schemas would silently drop a "__proto__" member, so a file could carry data the hash never saw.
    if (text.includes('__proto__') && hasProtoMember(json))
      return this.fail(null, 'malformed', 'a member named "__proto__" is not allowed');
    if (isEventLineFast(json, { tenant: this.tenant, hash: this.lastHash ?? GENESIS_HASH })) {
      return this.event(parsedEventLink(json, text));
    }
    return this.checkedLine(json, text);
  }

  /** Any line through its schema: the general path, and the one that words what is wrong. */
  private checkedLine(json: unknown, text: string): boolean {
    const kind = (json as { kind?: unknown } | null)?.kind;
    const schema =
      typeof kind === 'string' && Object.hasOwn(LINE_SCHEMAS, kind) ? LINE_SCHEMAS[kind as keyof typeof LINE_SCHEMAS] : undefined;
    if (!schema) return this.fail(null, 'malformed', `unknown line kind ${JSON.stringify(kind)}`);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const seq = typeof (json as { seq?: unknown }).seq === 'number' ? ((json as { seq: number }).seq as number) : null;
      const where = issue?.path.join('.') || 'line';
      const what = issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue?.message;
      return this.fail(seq, 'malformed', `${kind} ${where}: ${what}`);
    }
    const line = parsed.data as TrailLine;
    if (!this.sameTenant(line.tenant)) return false;
    if (line.kind === 'key') return this.key(line);
    if (line.kind === 'checkpoint') return this.checkpoint(line);
    if (line.kind === 'end') return this.end(line);
    return this.event(parsedEventLink(line, text));
  }

  private end(line: EndLine): boolean {
    this.ended = true;
    if (this.gap) return this.judgeGap(Number.NaN);
    if (line.events !== this.events || line.lastSeq !== this.lastSeq || line.lastHash !== this.lastHash) {
      return this.fail(
        this.lastSeq,
        'truncated',
        `the trail ends at seq ${this.lastSeq} but its end line says seq ${line.lastSeq} (${line.events} events)`,
      );
    }
    return true;
  }

  private sameTenant(tenant: string): boolean {
    this.tenant ??= tenant;
    if (tenant === this.tenant) return true;
    return this.fail(null, 'wrong-tenant', `line belongs to tenant ${tenant}, the trail to ${this.tenant}`);
  }

  private key(line: KeyLine): boolean {
    try {
      this.fileKeys.set(line.keyId, ed25519PublicKey(line.publicKey));
      return true;
    } catch (error) {
      return this.fail(null, 'malformed', `key ${line.keyId}: ${(error as Error).message}`);
    }
  }

  private event(event: ChainLink): boolean {
    if (this.lastSeq === null) {
      this.firstSeq = event.seq;
      if (event.seq === 1) {
        if (event.prev !== GENESIS_HASH) return this.fail(1, 'altered', 'the first event does not start from the genesis hash');
        this.anchor = 'genesis';
      } else if (this.pendingAnchor && this.pendingAnchor.seq === event.seq - 1) {
        if (event.prev !== this.pendingAnchor.hash)
          return this.fail(event.seq, 'altered', 'does not continue the signed checkpoint before it');
        this.anchor = 'checkpoint';
      } else {
        this.anchor = 'none';
      }
    } else {
      if (this.gap) return this.judgeGap(event.seq);
      if (event.seq <= this.lastSeq) return this.fail(event.seq, 'reordered', `follows seq ${this.lastSeq}`);
      if (event.seq > this.lastSeq + 1) {
        this.gap = { expected: this.lastSeq + 1, seen: event.seq };
        return true;
      }
      if (event.prev !== this.lastHash)
        return this.fail(event.seq, 'altered', `its link does not match the hash of seq ${this.lastSeq}`);
    }
    if (event.contentHash !== event.hash) return this.fail(event.seq, 'altered', 'its content does not match its hash');
    this.events++;
    this.lastSeq = event.seq;
    this.lastHash = event.hash;
    return true;
  }

  private judgeGap(nextSeq: number): false {
    const gap = this.gap as { expected: number; seen: number };
    if (nextSeq === gap.expected)
      return this.fail(gap.expected, 'reordered', `seq ${gap.expected} appears after seq ${gap.seen}`);
    return this.fail(
      gap.expected,
      'missing',
      `seq ${gap.expected}${gap.seen > gap.expected + 1 ? `–${gap.seen - 1}` : ''} absent`,
    );
  }

  private checkpoint(line: CheckpointLine): boolean {
    if (this.gap) return this.judgeGap(Number.NaN);
    const { kind: _kind, signature, ...checkpoint } = line;
    const key = this.trustedKey ?? this.fileKeys.get(checkpoint.keyId);
    if (!key) return this.fail(checkpoint.seq, 'unknown-key', `checkpoint signed with unknown key ${checkpoint.keyId}`);
    if (!verifySignature(null, checkpointMessage(checkpoint), key, Buffer.from(signature, 'base64'))) {
      return this.fail(checkpoint.seq, 'bad-signature', `checkpoint at seq ${checkpoint.seq} has a bad signature`);
    }
    if (this.lastSeq === null) {
      // A checkpoint before any event anchors the trail's first event (after a retention purge).
      this.pendingAnchor = { seq: checkpoint.seq, hash: checkpoint.hash };
    } else if (checkpoint.seq !== this.lastSeq) {
      return this.fail(checkpoint.seq, 'reordered', `checkpoint for seq ${checkpoint.seq} appears after seq ${this.lastSeq}`);
    } else if (checkpoint.hash !== this.lastHash) {
      return this.fail(checkpoint.seq, 'altered', `the signed checkpoint disagrees with the hash of seq ${checkpoint.seq}`);
    }
    this.checkpoints++;
    return true;
  }

  private fail(seq: number | null, kind: ProblemKind, message: string): false {
    this.problem = { seq, line: this.lineNo, kind, message };
    return false;
  }

  /** Call after the last line: a truncated final line or an empty trail is reported here. */
  finish(): VerifyResult {
    if (!this.problem && this.gap) this.judgeGap(Number.NaN);
    if (!this.problem && !this.ended) this.fail(this.lastSeq, 'truncated', 'the trail has no end line: the export was cut short');
    return {
      ok: !this.problem,
      events: this.events,
      checkpoints: this.checkpoints,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      lastHash: this.lastHash,
      anchor: this.anchor,
      signaturesTrusted: this.trustedKey !== undefined,
      ...(this.problem ? { problem: this.problem } : {}),
    };
  }
}

/** A line of only whitespace. A line that opens an object is not, without scanning it for the answer. */
function isBlank(text: string): boolean {
  return text.charCodeAt(0) !== 0x7b && text.trim() === '';
}

function isIterable(lines: AsyncIterable<string> | Iterable<string>): lines is Iterable<string> {
  return typeof (lines as Partial<Iterable<string>>)[Symbol.iterator] === 'function';
}

/** Verifies a whole export given as lines (a file, stdin, or the database's own export). */
export async function verifyLines(
  lines: AsyncIterable<string> | Iterable<string>,
  trustedKey?: KeyObject,
): Promise<VerifyResult> {
  const verifier = new ChainVerifier(trustedKey);
  if (isIterable(lines)) {
    // Lines already in memory: no await per line, which would cost a microtask turn each.
    for (const line of lines) if (!verifier.line(line)) break;
  } else {
    for await (const line of lines) if (!verifier.line(line)) break;
  }
  return verifier.finish();
}

/** One line for a person: what was checked, or the first thing that is wrong. */
export function describeResult(result: VerifyResult): string {
  if (result.problem) {
    const where = result.problem.seq !== null ? `seq ${result.problem.seq}` : `line ${result.problem.line}`;
    return `audit trail NOT intact: ${where}: ${result.problem.kind}: ${result.problem.message}`;
  }
  if (result.anchor === 'empty') return 'audit trail is empty';
  const anchored = {
    genesis: 'from the first event',
    checkpoint: 'from a signed checkpoint',
    none: 'not anchored (partial export)',
    empty: '',
  }[result.anchor];
  const trust = result.signaturesTrusted
    ? 'signatures checked with the given public key'
    : 'signatures checked with the keys in the trail';
  return `audit trail intact: events ${result.firstSeq}–${result.lastSeq} (${result.events}), ${result.checkpoints} checkpoints, ${anchored}; ${trust}; head ${result.lastHash}`;
}

/** Whether any object in a parsed JSON value has an own member named "__proto__". */
function hasProtoMember(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasProtoMember);
  return Object.hasOwn(value, '__proto__') || Object.values(value).some(hasProtoMember);
}
