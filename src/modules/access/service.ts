import type { MiddlewareHandler } from 'hono';
import { auditScope } from '../../platform/audit/audit.ts';
import type { Actor, RequestContext } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Conflict, Forbidden, InvalidInput, NotFound } from '../../platform/errors.ts';
import type { AppEnv } from '../../platform/http/env.ts';
import { type GrantRequestRow, lockAccount } from './governance-store.ts';
import { openGrantRequest, personBehind } from './grant-requests.ts';
import { knownPermissions, type Permission, permissionDefinition } from './permissions.ts';
import { BUILT_IN_ROLES, builtInRole, isBuiltInRole, isPrivilegedRole, type RoleDefinition } from './roles.ts';
import {
  CustomRoleChange,
  NewCustomRole,
  type PersonDetail,
  type PersonStatus,
  type PersonSummary,
  type ResolvedAccess,
  type RoleInfo,
} from './schema.ts';
import { refuseBreachingGrant, refuseBreachingRoleChange, SeparationOfDutiesBreach } from './sod-rules.ts';
import {
  activeEmailsOfRoleHolders,
  type CustomRoleRow,
  deleteCustomRoleRow,
  deleteGrant,
  emailsOfRoleHolders,
  findCustomRoleByName,
  findCustomRoleRows,
  findPersonRow,
  holderCounts,
  insertCustomRole,
  insertGrant,
  listCustomRoleRows,
  listGrantRows,
  listPeopleRows,
  lockCustomRole,
  lockPerson,
  lockRoleHolders,
  type PersonRow,
  roleSlugsOf,
  updateCustomRoleRow,
} from './store.ts';

// ─── The central check ──────────────────────────────────────────────────────────────────────────────────────

/**
 * A refused permission check. It is a Forbidden (403) like any other; the back-office and API guards
 * (`requireSignedIn`, `requireApiToken` in identity/routes.tsx) see it after the request has failed and record it
 * as `access.denied` in a transaction of its own — after the failed request's transactions have rolled back, so
 * the record is not undone with them.
 */
export class AccessDenied extends Forbidden {
  /** Set once the refusal is in the trail, so a guard mounted twice on a path does not record it twice. */
  recorded = false;

  constructor(
    /** What was attempted, for the trail: "read the audit trail", "grant the role owner". */
    readonly what: string,
    message: string,
    readonly permission?: Permission,
  ) {
    super(message);
  }
}

/** Whether the actor holds `permission` (for showing or hiding controls; the service still checks). */
export function can(actor: Actor, permission: Permission): boolean {
  switch (actor.kind) {
    case 'system':
      return true; // the server itself: jobs, the command line
    case 'user':
    case 'token':
      return actor.permissions.has(permission);
    default:
      return false;
  }
}

function lowerFirst(text: string): string {
  return text.slice(0, 1).toLowerCase() + text.slice(1);
}

/**
 * Refuses an actor without `permission`. Synchronous on purpose: a check that had to be awaited is one missing
 * `await` away from not checking. The refusal is recorded by the guard that wraps the route (see AccessDenied).
 */
export function requirePermission(actor: Actor, permission: Permission): void {
  if (can(actor, permission)) return;
  const what = lowerFirst(permissionDefinition(permission).description);
  throw new AccessDenied(what, `this needs the permission “${permission}” (${what})`, permission);
}

/**
 * The same check as route middleware, placed before input validation: a caller without the permission gets
 * 403 whatever they sent, never a 422 that would tell them about the form. Services check again.
 */
export function routeRequires(permission: Permission): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    requirePermission(c.var.actor, permission);
    await next();
  };
}

/** Records a refused permission check as `access.denied`, in its own transaction. */
export async function recordAccessDenied(
  ctx: RequestContext,
  denied: AccessDenied,
  request: { method: string; path: string },
): Promise<void> {
  if (denied.recorded) return;
  denied.recorded = true;
  await ctx.db.withTenant(ctx.tenant.id, (tx) =>
    ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.denied',
      outcome: 'denied',
      details: {
        what: denied.what,
        ...(denied.permission ? { permission: denied.permission } : {}),
        method: request.method,
        path: request.path,
      },
    }),
  );
}

// ─── Resolving roles into permissions ───────────────────────────────────────────────────────────────────────

function customRoleDefinition(row: CustomRoleRow): RoleDefinition {
  return {
    slug: row.slug,
    name: row.name,
    description: row.description,
    builtIn: false,
    permissions: knownPermissions(row.permissions),
  };
}

/** A role by slug: built-in, or one of the tenant's custom roles; undefined when there is none. */
export async function findRole(tx: Tx, tenantId: string, slug: string): Promise<RoleDefinition | undefined> {
  const builtIn = builtInRole(slug);
  if (builtIn) return builtIn;
  const [row] = await findCustomRoleRows(tx, tenantId, [slug]);
  return row ? customRoleDefinition(row) : undefined;
}

/** A role as `findRole`, with a custom role's row locked: not deleted or changed until the transaction ends. */
async function lockRole(tx: Tx, tenantId: string, slug: string): Promise<RoleDefinition | undefined> {
  const builtIn = builtInRole(slug);
  if (builtIn) return builtIn;
  const row = await lockCustomRole(tx, tenantId, slug);
  return row ? customRoleDefinition(row) : undefined;
}

/** The slugs a person could be given in this tenant, for error messages that list them. */
export async function roleSlugs(tx: Tx, tenantId: string): Promise<string[]> {
  const custom = await listCustomRoleRows(tx, tenantId);
  return [...BUILT_IN_ROLES.map((r) => r.slug), ...custom.map((r) => r.slug)];
}

function union(roles: readonly RoleDefinition[]): Permission[] {
  return knownPermissions(roles.flatMap((r) => r.permissions));
}

async function definitionsOf(tx: Tx, tenantId: string, slugs: string[]): Promise<RoleDefinition[]> {
  const custom = await findCustomRoleRows(
    tx,
    tenantId,
    slugs.filter((s) => !isBuiltInRole(s)),
  );
  return [...slugs.flatMap((s) => builtInRole(s) ?? []), ...custom.map(customRoleDefinition)];
}

/** A person's roles and effective permissions, read once per request when their session is loaded. */
export async function resolveAccess(tx: Tx, tenantId: string, userId: string): Promise<ResolvedAccess> {
  const roles = await roleSlugsOf(tx, tenantId, userId);
  return { roles, permissions: new Set(union(await definitionsOf(tx, tenantId, roles))) };
}

/** An API token's stored scopes as the permissions it acts with (a permission since retired is dropped). */
export function tokenPermissions(stored: readonly string[]): ReadonlySet<Permission> {
  return new Set(knownPermissions(stored));
}

/** Permissions in `wanted` that the actor does not hold: what an escalation would hand out. */
export function permissionsLacking(actor: Actor, wanted: readonly Permission[]): Permission[] {
  return wanted.filter((p) => !can(actor, p));
}

/** Whether the actor holds every permission of the role, and so may grant or revoke it. */
export function mayHandOut(actor: Actor, role: { permissions: readonly Permission[] }): boolean {
  return permissionsLacking(actor, role.permissions).length === 0;
}

// ─── Roles ──────────────────────────────────────────────────────────────────────────────────────────────────

function roleInfo(role: RoleDefinition, holders: number): RoleInfo {
  return { ...role, permissions: [...role.permissions], privileged: isPrivilegedRole(role), holders };
}

/** Every role of the tenant: built-in first, in their fixed order, then custom roles by name. */
export function listRoles(ctx: RequestContext): Promise<RoleInfo[]> {
  requirePermission(ctx.actor, 'roles.read');
  return allRoles(ctx);
}

/**
 * The roles the actor may hand out (they hold every permission of each), for the grant and add-person forms.
 * Granting needs `users.manage` only: whoever may grant a role may see its name without `roles.read`.
 */
export async function grantableRoles(ctx: RequestContext): Promise<RoleInfo[]> {
  if (!can(ctx.actor, 'users.manage')) return [];
  return (await allRoles(ctx)).filter((r) => mayHandOut(ctx.actor, r));
}

async function allRoles(ctx: RequestContext): Promise<RoleInfo[]> {
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const counts = await holderCounts(tx, tenantId);
    const custom = (await listCustomRoleRows(tx, tenantId)).map(customRoleDefinition);
    return [...BUILT_IN_ROLES, ...custom].map((r) => roleInfo(r, counts.get(r.slug) ?? 0));
  });
}

export async function getRole(ctx: RequestContext, slug: string): Promise<RoleInfo> {
  requirePermission(ctx.actor, 'roles.read');
  const tenantId = ctx.tenant.id;
  const info = await ctx.db.withTenant(tenantId, async (tx) => {
    const role = await findRole(tx, tenantId, slug);
    return role ? roleInfo(role, (await holderCounts(tx, tenantId)).get(slug) ?? 0) : undefined;
  });
  if (!info) throw new NotFound('role', slug);
  return info;
}

/** A slug from a role's name: "Vendor reviewers (EU)" → `vendor-reviewers-eu`. */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return /^[a-z][a-z0-9-]{1,39}$/.test(slug) ? slug : `role-${slug}`.slice(0, 40).replace(/-+$/, '');
}

/** Refuses permissions the editor does not hold: a role is never a way to hand out more than one has. */
function refuseUnheldPermissions(actor: Actor, what: string, wanted: readonly Permission[]): void {
  const lacking = permissionsLacking(actor, wanted);
  if (lacking.length === 0) return;
  throw new AccessDenied(
    `${what} with permissions they do not hold (${lacking.join(', ')})`,
    `you cannot give a role permissions you do not hold yourself: ${lacking.join(', ')}`,
  );
}

function refuseBuiltInName(name: string): void {
  const lower = name.trim().toLowerCase();
  if (BUILT_IN_ROLES.some((r) => r.name.toLowerCase() === lower || r.slug === lower)) {
    throw new InvalidInput('a built-in role has this name', { name: 'a built-in role has this name; choose another' });
  }
}

export async function createCustomRole(ctx: RequestContext, input: NewCustomRole): Promise<RoleInfo> {
  requirePermission(ctx.actor, 'roles.manage');
  const data = NewCustomRole.parse(input);
  const slug = data.slug ?? slugFromName(data.name);
  refuseBuiltInName(data.name);
  if (isBuiltInRole(slug)) throw new InvalidInput('a built-in role has this slug', { slug: 'a built-in role uses this slug' });
  refuseUnheldPermissions(ctx.actor, `create the role “${data.name}”`, data.permissions);
  const tenantId = ctx.tenant.id;
  const created = await ctx.db.withTenant(tenantId, async (tx) => {
    if (await findCustomRoleByName(tx, tenantId, data.name)) {
      throw new InvalidInput('a role with this name exists', { name: 'a role with this name exists already' });
    }
    const row = await insertCustomRole(tx, {
      tenantId,
      slug,
      name: data.name,
      description: data.description,
      permissions: data.permissions,
      createdAt: ctx.clock.now(),
    });
    if (!row) {
      throw new InvalidInput('another role uses this slug', { slug: `another role uses the slug “${slug}”; choose another` });
    }
    const role = customRoleDefinition(row);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.role_created',
      target: { type: 'role', id: slug },
      details: { name: role.name, permissions: [...role.permissions], privileged: isPrivilegedRole(role) },
    });
    return role;
  });
  return roleInfo(created, 0);
}

async function lockEditableRole(tx: Tx, tenantId: string, slug: string): Promise<CustomRoleRow> {
  if (isBuiltInRole(slug)) {
    throw new Forbidden('built-in roles cannot be changed or deleted; create a custom role with the permissions you need');
  }
  const row = await lockCustomRole(tx, tenantId, slug);
  if (!row) throw new NotFound('role', slug);
  return row;
}

/**
 * Renames a custom role or changes its permissions. Holders gain or lose permissions from their next request.
 * Only added permissions must be held by the editor: removing one, or keeping one they lack, hands nothing out.
 */
export async function updateCustomRole(ctx: RequestContext, slug: string, input: CustomRoleChange): Promise<RoleInfo> {
  requirePermission(ctx.actor, 'roles.manage');
  const data = CustomRoleChange.parse(input);
  const tenantId = ctx.tenant.id;
  const updated = await recordingSodBreach(ctx, 'access.role_update_refused', { type: 'role', id: slug }, () =>
    ctx.db.withTenant(tenantId, async (tx) => {
      const before = customRoleDefinition(await lockEditableRole(tx, tenantId, slug));
      const added = data.permissions.filter((p) => !before.permissions.includes(p));
      const removed = before.permissions.filter((p) => !data.permissions.includes(p));
      refuseUnheldPermissions(ctx.actor, `change the role “${before.name}”`, added);
      refuseBuiltInName(data.name);
      const sameName = await findCustomRoleByName(tx, tenantId, data.name);
      if (sameName && sameName.slug !== slug) {
        throw new InvalidInput('a role with this name exists', { name: 'a role with this name exists already' });
      }
      // A changed role can break a separation-of-duties rule for everyone holding it.
      await refuseBreachingRoleChange(tx, tenantId, {
        ...before,
        name: data.name,
        permissions: knownPermissions(data.permissions),
      });
      const row = await updateCustomRoleRow(tx, tenantId, slug, {
        name: data.name,
        description: data.description,
        permissions: knownPermissions(data.permissions),
        updatedAt: ctx.clock.now(),
      });
      if (!row) throw new NotFound('role', slug);
      const role = customRoleDefinition(row);
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'access.role_updated',
        target: { type: 'role', id: slug },
        details: {
          name: role.name,
          ...(before.name !== role.name ? { previousName: before.name } : {}),
          added,
          removed,
          privileged: isPrivilegedRole(role),
        },
      });
      return roleInfo(role, (await holderCounts(tx, tenantId)).get(slug) ?? 0);
    }),
  );
  return updated;
}

/**
 * Runs `work`; a separation-of-duties refusal is recorded as `action` in a transaction of its own (the work's
 * transaction has rolled back with the refused change) and thrown on.
 */
export async function recordingSodBreach<T>(
  ctx: RequestContext,
  action: string,
  target: { type: string; id: string },
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SeparationOfDutiesBreach) {
      await ctx.db.withTenant(ctx.tenant.id, (tx) =>
        ctx.audit.record(tx, auditScope(ctx), {
          action,
          target,
          outcome: 'denied',
          details: { rules: error.rules.map((r) => r.name), ruleIds: error.rules.map((r) => r.id), ...error.details },
        }),
      );
    }
    throw error;
  }
}

/**
 * Deletes a custom role nobody holds. A role still held is refused rather than silently revoked: taking
 * access away is a decision about people, made one grant at a time where it is recorded as such.
 */
export async function deleteCustomRole(ctx: RequestContext, slug: string): Promise<void> {
  requirePermission(ctx.actor, 'roles.manage');
  const tenantId = ctx.tenant.id;
  await ctx.db.withTenant(tenantId, async (tx) => {
    const role = customRoleDefinition(await lockEditableRole(tx, tenantId, slug));
    const holders = await lockRoleHolders(tx, tenantId, slug);
    if (holders.length > 0) {
      const people = holders.length === 1 ? '1 person' : `${holders.length} people`;
      throw new Conflict(`“${role.name}” is held by ${people}; revoke it from them first`);
    }
    await deleteCustomRoleRow(tx, tenantId, slug);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.role_deleted',
      target: { type: 'role', id: slug },
      details: { name: role.name, permissions: [...role.permissions] },
    });
  });
}

// ─── People and their grants ────────────────────────────────────────────────────────────────────────────────

function statusOf(row: PersonRow, now: Date): PersonStatus {
  if (row.deactivatedAt) return 'deactivated';
  if (row.hasPassword) return 'active';
  return row.invitationExpiresAt && row.invitationExpiresAt > now ? 'invited' : 'no-password';
}

function personSummary(row: PersonRow, now: Date): PersonSummary {
  const status = statusOf(row, now);
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    status,
    invitationExpiresAt: status === 'invited' ? row.invitationExpiresAt : null,
    roles: row.roles,
    createdAt: row.createdAt,
  };
}

export async function listPeople(ctx: RequestContext): Promise<PersonSummary[]> {
  requirePermission(ctx.actor, 'users.read');
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  return (await ctx.db.withTenant(tenantId, (tx) => listPeopleRows(tx, tenantId))).map((row) => personSummary(row, now));
}

/** One person with their grants (who granted what, when) and the permissions those add up to. */
export async function getPerson(ctx: RequestContext, id: string): Promise<PersonDetail> {
  requirePermission(ctx.actor, 'users.read');
  const tenantId = ctx.tenant.id;
  const detail = await ctx.db.withTenant(tenantId, async (tx) => {
    const row = await findPersonRow(tx, tenantId, id);
    if (!row) return undefined;
    const grants = await listGrantRows(tx, tenantId, id);
    const roles = await definitionsOf(
      tx,
      tenantId,
      grants.map((g) => g.role),
    );
    const names = new Map(roles.map((r) => [r.slug, r.name]));
    return {
      ...personSummary(row, ctx.clock.now()),
      grants: grants.map((g) => ({
        role: g.role,
        roleName: names.get(g.role) ?? g.role,
        grantedAt: g.grantedAt,
        grantedById: g.grantedById,
        grantedByLabel: g.grantedByLabel,
      })),
      permissions: union(roles),
    };
  });
  if (!detail) throw new NotFound('person', id);
  return detail;
}

function refuseOwnGrants(actor: Actor, userId: string): void {
  if (actor.kind === 'user' && actor.id === userId) {
    throw new AccessDenied('change their own roles', 'you cannot change your own roles; ask another administrator');
  }
}

export function refuseStrongerRole(actor: Actor, role: RoleDefinition, verb: 'grant' | 'revoke'): void {
  const lacking = permissionsLacking(actor, role.permissions);
  if (lacking.length === 0) return;
  throw new AccessDenied(
    `${verb} the role ${role.slug}, which includes permissions they do not hold (${lacking.join(', ')})`,
    `you cannot ${verb} “${role.name}”: it includes permissions you do not hold (${lacking.join(', ')})`,
  );
}

export function actorLabel(actor: Actor): { id: string | null; label: string } {
  switch (actor.kind) {
    case 'user':
      return { id: actor.id, label: actor.email };
    case 'token':
      return { id: null, label: `token ${actor.name}` };
    case 'system':
      return { id: null, label: actor.name };
    default:
      return { id: null, label: 'anonymous' };
  }
}

export interface GrantResult {
  /**
   * `granted`: the person holds the role from now on; `unchanged`: they held it already; `pending`: a privileged
   * grant asked by a person waits for a second administrator (`request`).
   */
  status: 'granted' | 'unchanged' | 'pending';
  role: RoleDefinition;
  email: string;
  request?: GrantRequestRow;
}

/**
 * THE way a role is granted, in the caller's transaction; every grant goes through here (the back office, the
 * API, `candor user create`, the owner's setup link). Later rules hook in at the marked places:
 * separation of duties, approval of privileged grants, just-in-time SSO provisioning (which calls this with the
 * tenant's default role), MFA enrolment required by a role, and a new session id at privilege change.
 */
export async function applyRoleGrant(tx: Tx, ctx: RequestContext, userId: string, roleSlug: string): Promise<GrantResult> {
  const { actor } = ctx;
  const tenantId = ctx.tenant.id;
  requirePermission(actor, 'users.manage');
  const person = await lockPerson(tx, tenantId, userId);
  if (!person) throw new NotFound('person', userId);
  refuseOwnGrants(actor, userId);
  const role = await lockRole(tx, tenantId, roleSlug);
  if (!role) throw new NotFound('role', roleSlug);
  refuseStrongerRole(actor, role, 'grant');
  if ((await lockAccount(tx, tenantId, userId))?.deactivatedAt) {
    throw new Conflict(`${person.email} is deactivated; reactivate them before granting roles`);
  }
  if ((await roleSlugsOf(tx, tenantId, userId)).includes(role.slug)) return { status: 'unchanged', role, email: person.email };
  await refuseBreachingGrant(tx, tenantId, person, role);
  // Privileged grants asked by a person (in the back office or with a token they made) wait for a second
  // administrator; the system (the command line, the setup link, operator-made tokens) is the break-glass path.
  if (isPrivilegedRole(role)) {
    const requester = await personBehind(tx, tenantId, actor);
    if (requester !== undefined) {
      const request = await openGrantRequest(tx, ctx, requester, person, role);
      return { status: 'pending', role, email: person.email, request };
    }
  }
  return grantNow(tx, ctx, person, role);
}

/**
 * Inserts and records a grant whose checks have passed: applyRoleGrant's last step, and an approved request's.
 * `details` adds to the recorded event (the request it came from).
 */
export async function grantNow(
  tx: Tx,
  ctx: RequestContext,
  person: { id: string; email: string },
  role: RoleDefinition,
  details: Record<string, string> = {},
): Promise<GrantResult> {
  const tenantId = ctx.tenant.id;
  const userId = person.id;
  const by = actorLabel(ctx.actor);
  const inserted = await insertGrant(tx, {
    tenantId,
    userId,
    role: role.slug,
    grantedById: by.id,
    grantedByLabel: by.label,
    grantedAt: ctx.clock.now(),
  });
  if (!inserted) return { status: 'unchanged', role, email: person.email };
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'access.role_granted',
    target: { type: 'user', id: userId },
    details: { role: role.slug, roleName: role.name, email: person.email, privileged: isPrivilegedRole(role), ...details },
  });
  return { status: 'granted', role, email: person.email };
}

export function grantRole(ctx: RequestContext, userId: string, roleSlug: string): Promise<GrantResult> {
  requirePermission(ctx.actor, 'users.manage');
  return recordingSodBreach(ctx, 'access.grant_refused', { type: 'user', id: userId }, () =>
    ctx.db.withTenant(ctx.tenant.id, (tx) => applyRoleGrant(tx, ctx, userId, roleSlug)),
  );
}

/**
 * Takes a role from a person. The same limits as granting (nobody changes their own roles, nobody takes away a
 * role stronger than their own), and the workspace always keeps an owner.
 */
export function revokeRole(ctx: RequestContext, userId: string, roleSlug: string): Promise<RoleDefinition> {
  requirePermission(ctx.actor, 'users.manage');
  return ctx.db.withTenant(ctx.tenant.id, (tx) => applyRoleRevocation(tx, ctx, userId, roleSlug));
}

/**
 * THE way a role is taken away, in the caller's transaction (the person page, the API, an access review's
 * revoke decision), with the rules of `revokeRole`. NotFound when the person no longer holds the role.
 */
export async function applyRoleRevocation(
  tx: Tx,
  ctx: RequestContext,
  userId: string,
  roleSlug: string,
): Promise<RoleDefinition> {
  const { actor } = ctx;
  requirePermission(actor, 'users.manage');
  const tenantId = ctx.tenant.id;
  const person = await lockPerson(tx, tenantId, userId);
  if (!person) throw new NotFound('person', userId);
  refuseOwnGrants(actor, userId);
  const role = await findRole(tx, tenantId, roleSlug);
  if (!role) throw new NotFound('role', roleSlug);
  refuseStrongerRole(actor, role, 'revoke');
  if (role.slug === 'owner') {
    const owners = await lockRoleHolders(tx, tenantId, 'owner');
    if (owners.length === 1 && owners[0] === userId) {
      throw new Conflict('the last owner cannot lose the owner role; make someone else owner first');
    }
  }
  const removed = await deleteGrant(tx, tenantId, userId, role.slug);
  if (!removed) throw new NotFound(`the role ${role.slug} of ${person.email}`);
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'access.role_revoked',
    target: { type: 'user', id: userId },
    details: { role: role.slug, roleName: role.name, email: person.email, privileged: isPrivilegedRole(role) },
  });
  return role;
}

/** The addresses of the tenant's owners, read in the caller's transaction (alert mail goes to them by default). */
export function ownerEmails(tx: Tx, tenantId: string): Promise<string[]> {
  return emailsOfRoleHolders(tx, tenantId, 'owner');
}

/** Addresses of the active people whose roles (built-in or custom) hold `permission` (who to tell about a duty). */
export async function emailsWithPermission(tx: Tx, tenantId: string, permission: Permission): Promise<string[]> {
  const custom = (await listCustomRoleRows(tx, tenantId)).map(customRoleDefinition);
  const roles = [...BUILT_IN_ROLES, ...custom].filter((r) => r.permissions.includes(permission)).map((r) => r.slug);
  return activeEmailsOfRoleHolders(tx, tenantId, roles);
}

export { isPermission, knownPermissions, PERMISSIONS, type Permission, permissionsByCapability } from './permissions.ts';
// The access capability's public surface for other capabilities: the catalog, its types and schemas.
export { BUILT_IN_ROLES, isBuiltInRole, isPrivilegedRole, ROLE_SLUGS, type RoleDefinition, type RoleSlug } from './roles.ts';
export { PermissionList, PermissionSlug, type ResolvedAccess, type RoleInfo, RoleRef, RoleSlugText } from './schema.ts';
