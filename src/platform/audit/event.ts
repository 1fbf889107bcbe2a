import { z } from 'zod';
import { canonicalJson, type JsonValue, type QuoteString, quoteEscaped, sha256Hex } from './canonical.ts';

export const FORMAT_VERSION = 1;

export const ACTOR_TYPES = ['user', 'token', 'system', 'anonymous'] as const;
export const OUTCOMES = ['success', 'denied', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

// Shared with the verifier's hand-written fast check, so the schema and it cannot drift apart.
export const HEX64_PATTERN = /^[0-9a-f]{64}$/;
export const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ACTION_PATTERN = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;

const Hex64 = z.string().regex(HEX64_PATTERN, 'must be 64 lower-case hex digits');
const Json: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number().int().refine(Number.isSafeInteger),
    z.boolean(),
    z.null(),
    z.array(Json),
    z.record(z.string(), Json),
  ]),
);

/**
 * One audit event exactly as it is hashed (see docs/audit-log-format.md). Strict: an unknown member is an
 * error, so an export cannot smuggle unverified data past the verifier.
 */
export const ChainedEvent = z.strictObject({
  v: z.literal(FORMAT_VERSION),
  tenant: z.uuid(),
  seq: z.number().int().positive().refine(Number.isSafeInteger),
  time: z.string().regex(TIME_PATTERN, 'must be UTC with milliseconds'),
  actor: z.strictObject({ type: z.enum(ACTOR_TYPES), id: z.string().nullable(), label: z.string().nullable() }),
  action: z.string().regex(ACTION_PATTERN, 'must be a dotted lower-case name'),
  target: z.strictObject({ type: z.string(), id: z.string().nullable() }).nullable(),
  outcome: z.enum(OUTCOMES),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  details: z.record(z.string(), Json),
  prev: Hex64,
});
export type ChainedEvent = z.infer<typeof ChainedEvent>;

/**
 * An event's members, each already in canonical JSON (a string quoted and escaped, a number in digits, the
 * target and details objects whole): what `canonicalEvent` assembles.
 */
export interface EventTokens {
  action: string;
  actorId: string;
  actorLabel: string;
  actorType: string;
  details: string;
  ip: string;
  outcome: string;
  prev: string;
  requestId: string;
  seq: string;
  target: string;
  tenant: string;
  time: string;
  userAgent: string;
  v: string;
}

/**
 * `canonicalJson(event)` written out for the event's fixed shape: its members in their sorted order, with no
 * listing and sorting of keys for every event (verification does this tens of thousands of times a second).
 * The one place that states the layout; the verifier also fills it straight from an exported line's text.
 */
export function canonicalEvent(t: EventTokens): string {
  return (
    `{"action":${t.action},"actor":{"id":${t.actorId},"label":${t.actorLabel},"type":${t.actorType}},` +
    `"details":${t.details},"ip":${t.ip},"outcome":${t.outcome},"prev":${t.prev},"requestId":${t.requestId},` +
    `"seq":${t.seq},"target":${t.target},"tenant":${t.tenant},"time":${t.time},"userAgent":${t.userAgent},"v":${t.v}}`
  );
}

/** A target's canonical form, its two members in sorted order (no target is `null`). */
export function canonicalTarget(id: string, type: string): string {
  return `{"id":${id},"type":${type}}`;
}

/**
 * `canonicalJson(event)`, byte for byte, and faster. Members other than the event's own are ignored, so a
 * file line (with `kind` and `hash`) can be passed as it is. See `canonicalJson` for when `quote` may be
 * `quotePlain`.
 */
export function canonicalEventJson(event: ChainedEvent, quote: QuoteString = quoteEscaped): string {
  const { actor, target } = event;
  return canonicalEvent({
    action: quote(event.action),
    actorId: nullable(actor.id, quote),
    actorLabel: nullable(actor.label, quote),
    actorType: quote(actor.type),
    details: canonicalJson(event.details, quote),
    ip: nullable(event.ip, quote),
    outcome: quote(event.outcome),
    prev: quote(event.prev),
    requestId: nullable(event.requestId, quote),
    seq: canonicalJson(event.seq),
    target: target === null ? 'null' : canonicalTarget(nullable(target.id, quote), quote(target.type)),
    tenant: quote(event.tenant),
    time: quote(event.time),
    userAgent: nullable(event.userAgent, quote),
    v: canonicalJson(event.v),
  });
}

function nullable(text: string | null, quote: QuoteString): string {
  return text === null ? 'null' : quote(text);
}

/** SHA-256 of the event's canonical JSON; `prev` inside it links the chain. */
export function eventHash(event: ChainedEvent, quote: QuoteString = quoteEscaped): string {
  return sha256Hex(canonicalEventJson(event, quote));
}

export const Checkpoint = z.strictObject({
  v: z.literal(FORMAT_VERSION),
  tenant: z.uuid(),
  seq: z.number().int().nonnegative().refine(Number.isSafeInteger),
  hash: Hex64,
  time: z.string().regex(TIME_PATTERN),
  keyId: z.string().min(1),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

/** The bytes an Ed25519 checkpoint signature covers. */
export function checkpointMessage(checkpoint: Checkpoint): Buffer {
  return Buffer.from(canonicalJson(checkpoint as unknown as JsonValue), 'utf8');
}
