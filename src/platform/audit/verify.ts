import { createPublicKey, type KeyObject, verify as verifySignature } from 'node:crypto';
import { z } from 'zod';
import { GENESIS_HASH } from './canonical.ts';
import { ChainedEvent, Checkpoint, checkpointMessage, eventHash } from './event.ts';

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
    if (text.trim() === '') return true;
    if (this.ended) return this.fail(null, 'malformed', 'content after the end line');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.fail(null, 'malformed', 'not a JSON object (truncated or damaged line)');
    }
    const kind = (json as { kind?: unknown } | null)?.kind;
    const schemas = { event: EventLine, checkpoint: CheckpointLine, key: KeyLine, end: EndLine } as const;
    const schema = typeof kind === 'string' && Object.hasOwn(schemas, kind) ? schemas[kind as keyof typeof schemas] : undefined;
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
    return this.event(line);
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

  private event(line: EventLine): boolean {
    const { kind: _kind, hash, ...event } = line;
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
    if (eventHash(event) !== hash) return this.fail(event.seq, 'altered', 'its content does not match its hash');
    this.events++;
    this.lastSeq = event.seq;
    this.lastHash = hash;
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

/** Verifies a whole export given as lines (a file, stdin, or the database's own export). */
export async function verifyLines(
  lines: AsyncIterable<string> | Iterable<string>,
  trustedKey?: KeyObject,
): Promise<VerifyResult> {
  const verifier = new ChainVerifier(trustedKey);
  for await (const line of lines) if (!verifier.line(line)) break;
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
