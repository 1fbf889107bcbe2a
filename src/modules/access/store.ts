import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { invitations, users } from '../identity/tables.ts';
import { customRoles, roleGrants } from './tables.ts';

// Every query names its tenant although row-level security filters too: some callers run as the system.

export type CustomRoleRow = typeof customRoles.$inferSelect;
export type GrantRow = typeof roleGrants.$inferSelect;

export interface PersonRow {
  id: string;
  email: string;
  name: string;
  hasPassword: boolean;
  /** When the person's open invitation expires (null: none open). */
  invitationExpiresAt: Date | null;
  deactivatedAt: Date | null;
  createdAt: Date;
  roles: string[];
}

const personColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  hasPassword: sql<boolean>`${users.passwordHash} is not null`,
  invitationExpiresAt:
    sql<Date | null>`(select ${invitations.expiresAt} from ${invitations} where ${invitations.tenantId} = ${users.tenantId} and ${invitations.userId} = ${users.id})`.mapWith(
      (v: string | Date | null) => (v === null ? null : new Date(v)),
    ),
  deactivatedAt: users.deactivatedAt,
  createdAt: users.createdAt,
  roles: sql<
    string[]
  >`coalesce(array_agg(${roleGrants.role} order by ${roleGrants.role}) filter (where ${roleGrants.role} is not null), '{}')`,
};

function peopleWithRoles(tx: Tx, tenantId: string, id?: string) {
  return tx
    .select(personColumns)
    .from(users)
    .leftJoin(roleGrants, and(eq(roleGrants.tenantId, users.tenantId), eq(roleGrants.userId, users.id)))
    .where(id === undefined ? eq(users.tenantId, tenantId) : and(eq(users.tenantId, tenantId), eq(users.id, id)))
    .groupBy(users.tenantId, users.id);
}

export function listPeopleRows(tx: Tx, tenantId: string): Promise<PersonRow[]> {
  return peopleWithRoles(tx, tenantId).orderBy(sql`lower(${users.email})`);
}

export async function findPersonRow(tx: Tx, tenantId: string, id: string): Promise<PersonRow | undefined> {
  const [row] = await peopleWithRoles(tx, tenantId, id);
  return row;
}

/** Locks the person's row, so concurrent changes to one person's grants are applied one after the other. */
export async function lockPerson(tx: Tx, tenantId: string, id: string): Promise<{ id: string; email: string } | undefined> {
  const [row] = await tx
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)))
    .for('update');
  return row;
}

export function listGrantRows(tx: Tx, tenantId: string, userId: string): Promise<GrantRow[]> {
  return tx
    .select()
    .from(roleGrants)
    .where(and(eq(roleGrants.tenantId, tenantId), eq(roleGrants.userId, userId)))
    .orderBy(asc(roleGrants.grantedAt), asc(roleGrants.role));
}

export async function roleSlugsOf(tx: Tx, tenantId: string, userId: string): Promise<string[]> {
  const rows = await tx
    .select({ role: roleGrants.role })
    .from(roleGrants)
    .where(and(eq(roleGrants.tenantId, tenantId), eq(roleGrants.userId, userId)))
    .orderBy(asc(roleGrants.role));
  return rows.map((r) => r.role);
}

/** Inserts a grant; undefined when the person already held the role (nothing changes then). */
export async function insertGrant(
  tx: Tx,
  row: { tenantId: string; userId: string; role: string; grantedById: string | null; grantedByLabel: string; grantedAt: Date },
): Promise<GrantRow | undefined> {
  const [inserted] = await tx.insert(roleGrants).values(row).onConflictDoNothing().returning();
  return inserted;
}

export async function deleteGrant(tx: Tx, tenantId: string, userId: string, role: string): Promise<GrantRow | undefined> {
  const [row] = await tx
    .delete(roleGrants)
    .where(and(eq(roleGrants.tenantId, tenantId), eq(roleGrants.userId, userId), eq(roleGrants.role, role)))
    .returning();
  return row;
}

/**
 * The holders of a role, locked: two transactions each taking the owner role from a different person wait for
 * each other here, and the second sees the first one's removal, so "the last owner" is decided on fresh rows.
 */
export async function lockRoleHolders(tx: Tx, tenantId: string, role: string): Promise<string[]> {
  const rows = await tx
    .select({ userId: roleGrants.userId })
    .from(roleGrants)
    .where(and(eq(roleGrants.tenantId, tenantId), eq(roleGrants.role, role)))
    .for('update');
  return rows.map((r) => r.userId);
}

export async function holderCounts(tx: Tx, tenantId: string): Promise<Map<string, number>> {
  const rows = await tx
    .select({ role: roleGrants.role, n: sql<number>`count(*)::int` })
    .from(roleGrants)
    .where(eq(roleGrants.tenantId, tenantId))
    .groupBy(roleGrants.role);
  return new Map(rows.map((r) => [r.role, r.n]));
}

export async function emailsOfRoleHolders(tx: Tx, tenantId: string, role: string): Promise<string[]> {
  const rows = await tx
    .select({ email: users.email })
    .from(users)
    .innerJoin(roleGrants, and(eq(roleGrants.tenantId, users.tenantId), eq(roleGrants.userId, users.id)))
    .where(and(eq(users.tenantId, tenantId), eq(roleGrants.role, role)))
    .orderBy(users.email);
  return rows.map((r) => r.email);
}

/** Addresses of active (not deactivated) people holding any of `roles`, each once. */
export async function activeEmailsOfRoleHolders(tx: Tx, tenantId: string, roles: string[]): Promise<string[]> {
  if (roles.length === 0) return [];
  const rows = await tx
    .selectDistinct({ email: users.email })
    .from(users)
    .innerJoin(roleGrants, and(eq(roleGrants.tenantId, users.tenantId), eq(roleGrants.userId, users.id)))
    .where(and(eq(users.tenantId, tenantId), inArray(roleGrants.role, roles), isNull(users.deactivatedAt)))
    .orderBy(users.email);
  return rows.map((r) => r.email);
}

export function listCustomRoleRows(tx: Tx, tenantId: string): Promise<CustomRoleRow[]> {
  return tx.select().from(customRoles).where(eq(customRoles.tenantId, tenantId)).orderBy(sql`lower(${customRoles.name})`);
}

export async function findCustomRoleRows(tx: Tx, tenantId: string, slugs: string[]): Promise<CustomRoleRow[]> {
  if (slugs.length === 0) return [];
  return tx
    .select()
    .from(customRoles)
    .where(and(eq(customRoles.tenantId, tenantId), inArray(customRoles.slug, slugs)));
}

/** A custom role, locked against concurrent edits and deletion while a grant or change is decided. */
export async function lockCustomRole(tx: Tx, tenantId: string, slug: string): Promise<CustomRoleRow | undefined> {
  const [row] = await tx
    .select()
    .from(customRoles)
    .where(and(eq(customRoles.tenantId, tenantId), eq(customRoles.slug, slug)))
    .for('update');
  return row;
}

export async function findCustomRoleByName(tx: Tx, tenantId: string, name: string): Promise<CustomRoleRow | undefined> {
  const [row] = await tx
    .select()
    .from(customRoles)
    .where(and(eq(customRoles.tenantId, tenantId), sql`lower(${customRoles.name}) = lower(${name})`));
  return row;
}

export async function insertCustomRole(
  tx: Tx,
  row: { tenantId: string; slug: string; name: string; description: string; permissions: string[]; createdAt: Date },
): Promise<CustomRoleRow | undefined> {
  const [inserted] = await tx
    .insert(customRoles)
    .values({ ...row, updatedAt: row.createdAt })
    .onConflictDoNothing()
    .returning();
  return inserted;
}

export async function updateCustomRoleRow(
  tx: Tx,
  tenantId: string,
  slug: string,
  change: { name: string; description: string; permissions: string[]; updatedAt: Date },
): Promise<CustomRoleRow | undefined> {
  const [row] = await tx
    .update(customRoles)
    .set(change)
    .where(and(eq(customRoles.tenantId, tenantId), eq(customRoles.slug, slug)))
    .returning();
  return row;
}

export async function deleteCustomRoleRow(tx: Tx, tenantId: string, slug: string): Promise<CustomRoleRow | undefined> {
  const [row] = await tx
    .delete(customRoles)
    .where(and(eq(customRoles.tenantId, tenantId), eq(customRoles.slug, slug)))
    .returning();
  return row;
}
