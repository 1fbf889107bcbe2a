import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import type { Logger } from 'pino';
import type { Actor, Clock, RequestContext } from '../context.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { encryptedTextColumn } from '../crypto/reencryption.ts';
import type { Database, Tx } from '../db/client.ts';
import type { JsonValue } from './canonical.ts';
import { ChainedEvent, type Checkpoint, checkpointMessage, eventHash, FORMAT_VERSION, type Outcome } from './event.ts';
import {
  type AuditEventRow,
  appendEvents,
  type CheckpointRow,
  checkpointAt,
  checkpointsBetween,
  eventsAfter,
  insertCheckpoint,
  insertSigningKey,
  latestCheckpoint,
  lockHead,
  readHead,
  seqBefore,
  signingKeys,
} from './store.ts';
import { type auditEvents, auditSigningKeys } from './tables.ts';

/** Who did it, from where: the part of an event that comes from the request or job, not the service. */
export interface AuditScope {
  tenantId: string;
  actor: Actor;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  requestId?: string | null | undefined;
}

/** The scope of a request or command: its tenant, actor, address, browser and request id. */
export function auditScope(ctx: RequestContext): AuditScope {
  return { tenantId: ctx.tenant.id, actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent || null, requestId: ctx.requestId };
}

/** What happened: what a service says when it records. */
export interface AuditInput {
  /** Dotted, past tense: `document_request.approved`, `session.signed_in`. */
  action: string;
  target?: { type: string; id?: string | null } | null;
  outcome?: Outcome;
  /** Facts that help an auditor; never secrets (passwords, tokens, keys are refused). */
  details?: Record<string, JsonValue>;
}

export interface RecordedEvent extends ChainedEvent {
  hash: string;
}

/**
 * Runs inside the recording transaction (under a savepoint): detection rules hang off this. The hooks of one
 * append share a savepoint; when one of them fails, that savepoint is rolled back and each hook runs again
 * under its own, so a hook keeps its effects in `tx` (where a rollback undoes them) and may run twice.
 */
export type AuditHook = (tx: Tx, event: RecordedEvent) => Promise<void>;

export interface Audit {
  /** Appends an event to the tenant's chain, in the caller's transaction. */
  record(tx: Tx, scope: AuditScope, input: AuditInput): Promise<RecordedEvent>;
  /**
   * Appends several events of one scope, in order, in the caller's transaction: one head lock and one
   * insert for all of them (imports, bulk changes, and the way to high append rates).
   */
  recordMany(tx: Tx, scope: AuditScope, inputs: AuditInput[]): Promise<RecordedEvent[]>;
  /**
   * Subscribes a hook. `when`, a cheap synchronous test, lets an append whose events no hook wants skip the
   * hooks' savepoint (two statements for every audited change) altogether.
   */
  onRecorded(hook: AuditHook, options?: { when?: (event: RecordedEvent) => boolean }): void;
  /** Signs the chain's current head if it has moved since the last checkpoint. */
  checkpoint(tx: Tx, tenantId: string): Promise<CheckpointRow | undefined>;
  /** The tenant's public keys for checkpoint signatures (base64 raw Ed25519). */
  publicKeys(tx: Tx, tenantId: string): Promise<{ keyId: string; publicKey: string; createdAt: Date; retiredAt: Date | null }[]>;
  /** The trail as export lines (docs/audit-log-format.md), read in batches. */
  exportLines(db: Database, tenantId: string, range?: { from?: Date | undefined; to?: Date | undefined }): AsyncGenerator<string>;
}

export interface AuditOptions {
  clock: Clock;
  log: Logger;
  /** Seals the checkpoint signing keys with the tenant's data key. */
  keys: Keyring;
  /** Sign a checkpoint every this many events (and the periodic job signs whatever is left). */
  checkpointEvery?: number;
}

/**
 * The checkpoint signing keys' private halves, sealed with the tenant's data key and bound to their key id.
 * Rows written before encryption existed hold clear PKCS#8 and are read as such until re-encrypted.
 */
export const signingKeyColumn = encryptedTextColumn({
  table: auditSigningKeys,
  tenantId: auditSigningKeys.tenantId,
  rowId: auditSigningKeys.keyId,
  column: auditSigningKeys.privateKey,
});

const SECRET_KEY = /pass(word|phrase)?|secret|^token$|private.?key|authorization|cookie|^otp$|^code$/i;

function assertNoSecrets(details: Record<string, JsonValue>, path = 'details'): void {
  for (const [key, value] of Object.entries(details)) {
    if (SECRET_KEY.test(key)) throw new Error(`audit ${path}.${key} looks like a secret; record a reference instead`);
    if (value && typeof value === 'object' && !Array.isArray(value)) assertNoSecrets(value, `${path}.${key}`);
  }
}

function actorOf(actor: Actor): ChainedEvent['actor'] {
  switch (actor.kind) {
    case 'user':
      return { type: 'user', id: actor.id, label: actor.email };
    case 'token':
      return { type: 'token', id: actor.id, label: actor.name };
    case 'system':
      return { type: 'system', id: null, label: actor.name };
    case 'anonymous':
      return { type: 'anonymous', id: null, label: null };
  }
}

/** A stored row as the hashed event. */
export function chainedEventOf(row: AuditEventRow): ChainedEvent {
  return {
    v: FORMAT_VERSION,
    tenant: row.tenantId,
    seq: row.seq,
    time: row.occurredAt.toISOString(),
    actor: { type: row.actorType as ChainedEvent['actor']['type'], id: row.actorId, label: row.actorLabel },
    action: row.action,
    target: row.targetType ? { type: row.targetType, id: row.targetId } : null,
    outcome: row.outcome as Outcome,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    details: row.details,
    prev: row.prevHash,
  };
}

function checkpointOf(row: CheckpointRow): Checkpoint {
  return {
    v: FORMAT_VERSION,
    tenant: row.tenantId,
    seq: row.seq,
    hash: row.hash,
    time: row.signedAt.toISOString(),
    keyId: row.keyId,
  };
}

export function checkpointLine(row: CheckpointRow): string {
  return JSON.stringify({ kind: 'checkpoint', ...checkpointOf(row), signature: row.signature });
}

/** A key id a person can compare by eye: the first 16 hex digits of SHA-256 over the raw public key. */
function keyIdOf(rawPublicKey: Buffer): string {
  return createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 16);
}

const EXPORT_BATCH = 1000;
/** Rows per insert statement: 16 parameters each, well under PostgreSQL's 65,535 per statement. */
const APPEND_CHUNK = 1000;

/** A chained event as its stored row. */
function rowOf(event: ChainedEvent, hash: string): typeof auditEvents.$inferInsert {
  return {
    tenantId: event.tenant,
    seq: event.seq,
    occurredAt: new Date(event.time),
    actorType: event.actor.type,
    actorId: event.actor.id,
    actorLabel: event.actor.label,
    action: event.action,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    outcome: event.outcome,
    ip: event.ip,
    userAgent: event.userAgent,
    requestId: event.requestId,
    details: event.details,
    prevHash: event.prev,
    hash,
  };
}

export function createAudit(options: AuditOptions): Audit {
  const hooks: { hook: AuditHook; when: (event: RecordedEvent) => boolean }[] = [];
  const every = options.checkpointEvery ?? 1000;

  /** The tenant's current signing key, created on first use (the caller holds the chain head lock). */
  async function activeKey(tx: Tx, tenantId: string): Promise<{ keyId: string; privateKey: string }> {
    const keys = await signingKeys(tx, tenantId);
    const active = keys.filter((k) => !k.retiredAt).at(-1);
    const cipher = await options.keys.forTenant(tx, tenantId);
    if (active) return { keyId: active.keyId, privateKey: signingKeyColumn.open(cipher, active.keyId, active.privateKey) };
    const pair = generateKeyPairSync('ed25519');
    const raw = pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const keyId = keyIdOf(raw);
    const privateKey = pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    await insertSigningKey(tx, {
      tenantId,
      keyId,
      publicKey: raw.toString('base64'),
      privateKey: signingKeyColumn.seal(cipher, keyId, privateKey),
    });
    return { keyId, privateKey };
  }

  async function signHead(tx: Tx, tenantId: string, seq: number, hash: string): Promise<CheckpointRow> {
    const key = await activeKey(tx, tenantId);
    const signedAt = options.clock.now();
    const checkpoint: Checkpoint = {
      v: FORMAT_VERSION,
      tenant: tenantId,
      seq,
      hash,
      time: signedAt.toISOString(),
      keyId: key.keyId,
    };
    const privateKey = createPrivateKey({ key: Buffer.from(key.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
    const signature = sign(null, checkpointMessage(checkpoint), privateKey).toString('base64');
    const row: CheckpointRow = { tenantId, seq, hash, signedAt, keyId: key.keyId, signature };
    await insertCheckpoint(tx, row);
    return row;
  }

  /**
   * Chains the inputs onto the tenant's head and stores them. Per append: one statement to lock the head,
   * one to insert the events and move the head, then the hooks.
   */
  async function append(tx: Tx, scope: AuditScope, inputs: AuditInput[]): Promise<RecordedEvent[]> {
    if (inputs.length === 0) return [];
    for (const input of inputs) assertNoSecrets(input.details ?? {});
    const head = await lockHead(tx, scope.tenantId);
    const time = options.clock.now().toISOString();
    const recorded: RecordedEvent[] = [];
    let prev = head;
    for (const input of inputs) {
      const event = ChainedEvent.parse({
        v: FORMAT_VERSION,
        tenant: scope.tenantId,
        seq: prev.seq + 1,
        time,
        actor: actorOf(scope.actor),
        action: input.action,
        target: input.target ? { type: input.target.type, id: input.target.id ?? null } : null,
        outcome: input.outcome ?? 'success',
        ip: scope.ip ?? null,
        userAgent: scope.userAgent ? scope.userAgent.slice(0, 512) : null,
        requestId: scope.requestId ?? null,
        details: input.details ?? {},
        prev: prev.hash,
      });
      const hash = eventHash(event);
      recorded.push({ ...event, hash });
      prev = { seq: event.seq, hash };
    }
    for (let i = 0; i < recorded.length; i += APPEND_CHUNK) {
      await appendEvents(
        tx,
        scope.tenantId,
        recorded.slice(i, i + APPEND_CHUNK).map(({ hash, ...event }) => rowOf(event, hash)),
      );
    }
    for (const event of recorded) if (event.seq % every === 0) await signHead(tx, scope.tenantId, event.seq, event.hash);
    await runHooks(tx, recorded);
    return recorded;
  }

  /**
   * Every hook for every event under one savepoint: the common case, where nothing fails, costs two
   * statements per append whatever the number of hooks. When something fails, that savepoint is rolled back
   * and each hook runs again for each event under its own savepoint, so the failure is logged and costs
   * only its own work: a failing detection rule never undoes the change being recorded, nor another rule.
   */
  async function runHooks(tx: Tx, events: RecordedEvent[]): Promise<void> {
    const calls = events.flatMap((event) => hooks.filter((h) => h.when(event)).map(({ hook }) => ({ hook, event })));
    if (calls.length === 0) return;
    const together = await tx
      .transaction(async (sp) => {
        for (const { hook, event } of calls) await hook(sp, event);
      })
      .then(
        () => true,
        () => false,
      );
    if (together) return;
    for (const { hook, event } of calls) {
      await tx
        .transaction((sp) => hook(sp, event))
        .catch((err: unknown) => {
          options.log.error({ err, action: event.action, seq: event.seq }, 'audit hook failed');
        });
    }
  }

  return {
    async record(tx, scope, input) {
      const [recorded] = await append(tx, scope, [input]);
      if (!recorded) throw new Error('audit event not recorded');
      return recorded;
    },

    recordMany(tx, scope, inputs) {
      return append(tx, scope, inputs);
    },

    onRecorded(hook, subscription) {
      hooks.push({ hook, when: subscription?.when ?? (() => true) });
    },

    async checkpoint(tx, tenantId) {
      const head = await lockHead(tx, tenantId);
      if (head.seq === 0) return undefined;
      const latest = await latestCheckpoint(tx, tenantId);
      if (latest && latest.seq >= head.seq) return undefined;
      return signHead(tx, tenantId, head.seq, head.hash);
    },

    async publicKeys(tx, tenantId) {
      return (await signingKeys(tx, tenantId)).map((k) => ({
        keyId: k.keyId,
        publicKey: k.publicKey,
        createdAt: k.createdAt,
        retiredAt: k.retiredAt,
      }));
    },

    async *exportLines(db, tenantId, range = {}) {
      const { head, keys, startAfter } = await db.withTenant(tenantId, async (tx) => ({
        head: await readHead(tx, tenantId),
        keys: await signingKeys(tx, tenantId),
        startAfter: range.from ? await seqBefore(tx, tenantId, range.from) : 0,
      }));
      for (const key of keys) {
        yield JSON.stringify({ kind: 'key', tenant: tenantId, keyId: key.keyId, algorithm: 'Ed25519', publicKey: key.publicKey });
      }
      const headSeq = head?.seq ?? 0;
      let after = Math.min(startAfter, headSeq);
      let count = 0;
      let last: { seq: number; hash: string } | null = null;
      let first = true;
      for (;;) {
        const { rows, checkpoints, anchor } = await db.withTenant(tenantId, async (tx) => {
          const batch = (await eventsAfter(tx, tenantId, after, EXPORT_BATCH, range.to)).filter((r) => r.seq <= headSeq);
          const firstRow = batch[0];
          const lastRow = batch.at(-1);
          return {
            rows: batch,
            // The checkpoint just before the first exported event anchors a trail whose start was purged.
            anchor: first && firstRow && firstRow.seq > 1 ? await checkpointAt(tx, tenantId, firstRow.seq - 1) : undefined,
            checkpoints: firstRow && lastRow ? await checkpointsBetween(tx, tenantId, firstRow.seq, lastRow.seq) : [],
          };
        });
        if (anchor) yield checkpointLine(anchor);
        first = false;
        const bySeq = new Map(checkpoints.map((c) => [c.seq, c]));
        for (const row of rows) {
          yield JSON.stringify({ kind: 'event', ...chainedEventOf(row), hash: row.hash });
          const checkpoint = bySeq.get(row.seq);
          if (checkpoint) yield checkpointLine(checkpoint);
          count++;
          last = { seq: row.seq, hash: row.hash };
        }
        const lastRow = rows.at(-1);
        if (!lastRow || rows.length < EXPORT_BATCH) break;
        after = lastRow.seq;
      }
      yield JSON.stringify({
        kind: 'end',
        tenant: tenantId,
        events: count,
        lastSeq: last?.seq ?? null,
        lastHash: last?.hash ?? null,
      });
    },
  };
}
