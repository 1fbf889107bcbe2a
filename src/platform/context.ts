import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Audit } from './audit/audit.ts';
import type { Database } from './db/client.ts';
import type { Jobs } from './jobs/jobs.ts';
import type { Mailer } from './mail/outbox.ts';

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
  log: Logger;
  clock: Clock;
}

export interface TenantRef {
  id: string;
  slug: string;
  name: string;
}

/** Who is acting: a signed-in person, an API token, the system (jobs, CLI), or an anonymous visitor. */
export type Actor =
  | { kind: 'user'; id: string; email: string; name: string; role: string }
  | { kind: 'token'; id: string; name: string; role: string }
  | { kind: 'system'; name: string }
  | { kind: 'anonymous' };

/** A unit of work on behalf of one actor in one tenant: what services receive. */
export interface RequestContext extends Runtime {
  tenant: TenantRef;
  actor: Actor;
  requestId: string;
  ip: string;
  userAgent: string;
}
