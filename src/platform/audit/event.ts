import { z } from 'zod';
import { canonicalJson, type JsonValue, sha256Hex } from './canonical.ts';

export const FORMAT_VERSION = 1;

export const ACTOR_TYPES = ['user', 'token', 'system', 'anonymous'] as const;
export const OUTCOMES = ['success', 'denied', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
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
  time: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'must be UTC with milliseconds'),
  actor: z.strictObject({ type: z.enum(ACTOR_TYPES), id: z.string().nullable(), label: z.string().nullable() }),
  action: z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'must be a dotted lower-case name'),
  target: z.strictObject({ type: z.string(), id: z.string().nullable() }).nullable(),
  outcome: z.enum(OUTCOMES),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  details: z.record(z.string(), Json),
  prev: Hex64,
});
export type ChainedEvent = z.infer<typeof ChainedEvent>;

/** SHA-256 of the event's canonical JSON; `prev` inside it links the chain. */
export function eventHash(event: ChainedEvent): string {
  return sha256Hex(canonicalJson(event as unknown as JsonValue));
}

export const Checkpoint = z.strictObject({
  v: z.literal(FORMAT_VERSION),
  tenant: z.uuid(),
  seq: z.number().int().nonnegative().refine(Number.isSafeInteger),
  hash: Hex64,
  time: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
  keyId: z.string().min(1),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

/** The bytes an Ed25519 checkpoint signature covers. */
export function checkpointMessage(checkpoint: Checkpoint): Buffer {
  return Buffer.from(canonicalJson(checkpoint as unknown as JsonValue), 'utf8');
}
