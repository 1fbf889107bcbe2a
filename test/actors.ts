import { BUILT_IN_ROLES, type RoleSlug } from '../src/modules/access/service.ts';
import type { Actor } from '../src/platform/context.ts';

/** The permissions of built-in roles together, as a session would resolve them. */
export function permissionsOf(...roles: RoleSlug[]): ReadonlySet<string> {
  return new Set(BUILT_IN_ROLES.filter((r) => roles.includes(r.slug as RoleSlug)).flatMap((r) => r.permissions));
}

/** A signed-in person holding built-in `roles`, for tests that call services directly. */
export function personActor(person: { id: string; email: string; name: string }, ...roles: RoleSlug[]): Actor {
  return { kind: 'user', ...person, roles, permissions: permissionsOf(...roles) };
}

/** An API token acting with the permissions of built-in `roles`. */
export function tokenActor(token: { id: string; name: string }, ...roles: RoleSlug[]): Actor {
  return { kind: 'token', ...token, permissions: permissionsOf(...roles) };
}
