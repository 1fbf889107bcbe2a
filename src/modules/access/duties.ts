import type { Database, Tx } from '../../platform/db/client.ts';
import { emailsOf, requestsAwaiting, tokensCreatedBy } from './governance-store.ts';

/**
 * What a person answers for that somebody else must take over when they leave. Capabilities register a source
 * (src/modules/duty-sources.ts); offboarding lists what every source finds for the person.
 */
export interface Duty {
  /** The capability it belongs to, as the back office names it ("Backups", "Alerts"). */
  capability: string;
  description: string;
  /** Where in the back office it is handed over. */
  href: string;
}

export interface DutySource {
  name: string;
  /**
   * The person's duties. `tx` runs as the system (some settings are install-wide), so a source filters by
   * `tenantId` itself.
   */
  list(tx: Tx, tenantId: string, userId: string): Promise<Duty[]>;
}

const sources = new Map<string, DutySource>();

/** Adds a source, or replaces the one of the same name (runtimes are created more than once in a process). */
export function registerDutySource(source: DutySource): void {
  sources.set(source.name, source);
}

/** A person's address, for sources whose settings name people by email. */
export async function personEmail(tx: Tx, tenantId: string, userId: string): Promise<string | undefined> {
  return (await emailsOf(tx, tenantId, [userId])).get(userId);
}

/** Every registered source's duties for the person, in registration order. */
export async function dutiesOf(db: Database, tenantId: string, userId: string, now: Date): Promise<Duty[]> {
  return db.withSystem(async (tx) => {
    const found: Duty[] = [];
    for (const source of sources.values()) found.push(...(await source.list(tx, tenantId, userId)));
    return found.concat(await accessDuties(tx, tenantId, userId, now));
  });
}

/** The access capability's own: grant requests waiting on the person, and the tokens they made. */
async function accessDuties(tx: Tx, tenantId: string, userId: string, now: Date): Promise<Duty[]> {
  const waiting = (await requestsAwaiting(tx, tenantId, userId, now)).map((r) => ({
    capability: 'People and roles',
    description: `A request to grant “${r.role}” waits for a decision (they were one of its approvers)`,
    href: '/admin/grant-requests',
  }));
  const tokens = (await tokensCreatedBy(tx, tenantId, userId)).map((t) => ({
    capability: 'API tokens',
    description: `API token “${t.name}” (${t.prefix}…) was theirs${t.revokedAt ? ' and is revoked' : ''}: replace it if a service still needs one`,
    href: '/admin/api-tokens',
  }));
  return [...waiting, ...tokens];
}
