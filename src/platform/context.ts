import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Audit } from './audit/audit.ts';
import type { Keyring } from './crypto/keyring.ts';
import type { Database } from './db/client.ts';
import type { Jobs } from './jobs/jobs.ts';
import type { Mailer } from './mail/outbox.ts';
import type { BlobStore } from './storage/blob-store.ts';

/** Time as services see it; tests pass a fixed clock instead of waiting. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** What the running process offers every service, the same in a request, a job and a CLI command. */
export interface Runtime {
  config: Config;
  db: Database;
  jobs: Jobs;
  mail: Mailer;
  audit: Audit;
  /** Per-tenant envelope encryption and blind indexes (platform/crypto). */
  keys: Keyring;
  /** Encrypted file storage (platform/storage): local disk or S3, one folder or prefix per tenant. */
  blobs: BlobStore;
  log: Logger;
  clock: Clock;
}

export interface TenantRef {
  id: string;
  slug: string;
  name: string;
}

/**
 * Who is acting: a signed-in person, an API token, the system (jobs, CLI), or an anonymous visitor.
 * A person's roles and effective permissions, and a token's scopes, are resolved once when the session or token
 * is loaded; the access capability decides with them (`requirePermission`, `can`). The system may do anything.
 */
export type Actor =
  | { kind: 'user'; id: string; email: string; name: string; roles: readonly string[]; permissions: ReadonlySet<string> }
  | { kind: 'token'; id: string; name: string; permissions: ReadonlySet<string> }
  | { kind: 'system'; name: string }
  | { kind: 'anonymous' };

/** How an actor is named where people read it (who changed a setting, who asked for a run). */
export function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case 'user':
      return actor.email;
    case 'token':
      return `token ${actor.name}`;
    case 'system':
      return actor.name;
    case 'anonymous':
      return 'anonymous';
  }
}

/** A unit of work on behalf of one actor in one tenant: what services receive. */
export interface RequestContext extends Runtime {
  tenant: TenantRef;
  actor: Actor;
  requestId: string;
  ip: string;
  userAgent: string;
}
