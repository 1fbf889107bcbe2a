import type { Tx } from '../../platform/db/client.ts';
import { Conflict } from '../../platform/errors.ts';
import { defaultRuleStates, listActiveGrants, listSodRuleRows, type SodRuleRow } from './governance-store.ts';
import { knownPermissions, type Permission } from './permissions.ts';
import { builtInRole, type RoleDefinition } from './roles.ts';
import { type CustomRoleRow, findCustomRoleRows, roleSlugsOf } from './store.ts';

/**
 * Separation of duties: the rules and how a person is measured against them. No service here (no permission
 * checks, no audit): access/service.ts calls these from the grant choke point, sod.ts from the rule pages.
 */

/** One side of a rule: the person meets it by holding at least one of these roles or permissions. */
export interface SodSide {
  roles: string[];
  permissions: Permission[];
}

export interface SodRule {
  /** A default rule's fixed key, or a custom rule's uuid. */
  id: string;
  name: string;
  description: string;
  /** Defined in code: it can be switched off, never edited or deleted. */
  builtIn: boolean;
  enabled: boolean;
  a: SodSide;
  b: SodSide;
}

/** What every tenant starts with. Keys are stored (their on/off state): never rename one. */
export const DEFAULT_SOD_RULES: readonly Omit<SodRule, 'enabled'>[] = [
  {
    id: 'user-administration-vs-audit',
    name: 'User administration vs. audit',
    description: 'Whoever audits access must not be able to grant it: they would be checking their own work.',
    builtIn: true,
    a: { roles: [], permissions: ['users.manage'] },
    b: { roles: ['auditor'], permissions: [] },
  },
  {
    id: 'security-administration-vs-audit',
    name: 'Security administration vs. audit',
    description: 'The people who run the security program are not its independent auditors.',
    builtIn: true,
    a: { roles: ['security-admin'], permissions: [] },
    b: { roles: ['auditor'], permissions: [] },
  },
  {
    id: 'role-administration-vs-audit',
    name: 'Role administration vs. audit',
    description: 'An auditor who can redefine roles could hide what a role allows.',
    builtIn: true,
    a: { roles: [], permissions: ['roles.manage', 'sod.manage'] },
    b: { roles: ['auditor'], permissions: [] },
  },
  {
    id: 'evidence-retention-vs-audit',
    name: 'Evidence retention vs. audit',
    description: 'An auditor who can shorten how long records are kept could make evidence disappear.',
    builtIn: true,
    a: { roles: [], permissions: ['retention.manage'] },
    b: { roles: ['auditor'], permissions: [] },
  },
  {
    id: 'approval-vs-user-administration',
    name: 'Approval vs. user administration',
    description: 'Senior management approves access decisions; it does not also carry them out.',
    builtIn: true,
    a: { roles: ['approver'], permissions: [] },
    b: { roles: [], permissions: ['users.manage'] },
  },
];

export function defaultRule(id: string) {
  return DEFAULT_SOD_RULES.find((r) => r.id === id);
}

function customRule(row: SodRuleRow): SodRule {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    builtIn: false,
    enabled: row.enabled,
    a: { roles: row.sideARoles, permissions: knownPermissions(row.sideAPermissions) },
    b: { roles: row.sideBRoles, permissions: knownPermissions(row.sideBPermissions) },
  };
}

/** The tenant's rules: the defaults (with their on/off state) first, then its own by name. */
export async function tenantRules(tx: Tx, tenantId: string): Promise<SodRule[]> {
  const states = await defaultRuleStates(tx, tenantId);
  const defaults = DEFAULT_SOD_RULES.map((r) => ({ ...r, enabled: states.get(r.id) ?? true }));
  return [...defaults, ...(await listSodRuleRows(tx, tenantId)).map(customRule)];
}

/** What a person holds, as rules see it: role slugs and the union of their permissions. */
export interface Holding {
  roles: ReadonlySet<string>;
  permissions: ReadonlySet<string>;
}

function customDefinition(row: CustomRoleRow): RoleDefinition {
  return {
    slug: row.slug,
    name: row.name,
    description: row.description,
    builtIn: false,
    permissions: knownPermissions(row.permissions),
  };
}

/** Role definitions by slug; `overrides` stands in for roles as they would be after a change. */
export async function roleDefinitions(
  tx: Tx,
  tenantId: string,
  slugs: readonly string[],
  overrides: ReadonlyMap<string, RoleDefinition> = new Map(),
): Promise<Map<string, RoleDefinition>> {
  const found = new Map<string, RoleDefinition>();
  const custom: string[] = [];
  for (const slug of new Set(slugs)) {
    const known = overrides.get(slug) ?? builtInRole(slug);
    if (known) found.set(slug, known);
    else custom.push(slug);
  }
  for (const row of await findCustomRoleRows(tx, tenantId, custom)) found.set(row.slug, customDefinition(row));
  return found;
}

export function holdingOf(roles: readonly string[], definitions: ReadonlyMap<string, RoleDefinition>): Holding {
  return {
    roles: new Set(roles),
    permissions: new Set(roles.flatMap((r) => definitions.get(r)?.permissions ?? [])),
  };
}

function meets(holding: Holding, side: SodSide): boolean {
  return side.roles.some((r) => holding.roles.has(r)) || side.permissions.some((p) => holding.permissions.has(p));
}

export function violates(holding: Holding, rule: SodRule): boolean {
  return rule.enabled && meets(holding, rule.a) && meets(holding, rule.b);
}

/** A change refused because it would break a separation-of-duties rule (409, recorded by the service). */
export class SeparationOfDutiesBreach extends Conflict {
  constructor(
    readonly rules: readonly SodRule[],
    readonly details: Record<string, string>,
    message: string,
  ) {
    super(message);
  }
}

/** The enabled rules the person breaks once they hold `after`, and did not break before. */
export function newlyBrokenRules(rules: readonly SodRule[], before: Holding, after: Holding): SodRule[] {
  return rules.filter((rule) => violates(after, rule) && !violates(before, rule));
}

/** “the separation-of-duties rule “A”” or “… rules “A” and “B””. */
function naming(rules: readonly SodRule[]): string {
  const names = rules.map((r) => `“${r.name}”`);
  if (names.length === 1) return `the separation-of-duties rule ${names[0]}`;
  return `the separation-of-duties rules ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** Refuses giving `role` to a person when that would make them break a rule; the message names the rule. */
export async function refuseBreachingGrant(
  tx: Tx,
  tenantId: string,
  person: { id: string; email: string },
  role: RoleDefinition,
): Promise<void> {
  const held = await roleSlugsOf(tx, tenantId, person.id);
  if (held.includes(role.slug)) return;
  const definitions = await roleDefinitions(tx, tenantId, held, new Map([[role.slug, role]]));
  const before = holdingOf(held, definitions);
  const after = holdingOf([...held, role.slug], definitions);
  const broken = newlyBrokenRules(await tenantRules(tx, tenantId), before, after);
  if (broken.length === 0) return;
  throw new SeparationOfDutiesBreach(
    broken,
    { email: person.email, role: role.slug },
    `granting “${role.name}” to ${person.email} would break ${naming(broken)}`,
  );
}

/**
 * Refuses changing a custom role's permissions when any active holder would then break a rule they do not break
 * now; the message names the rule and one holder.
 */
export async function refuseBreachingRoleChange(tx: Tx, tenantId: string, changed: RoleDefinition): Promise<void> {
  const rules = await tenantRules(tx, tenantId);
  const grants = await listActiveGrants(tx, tenantId);
  const byPerson = groupGrants(grants);
  const holders = [...byPerson.values()].filter((p) => p.roles.includes(changed.slug));
  const slugs = holders.flatMap((p) => p.roles);
  const before = await roleDefinitions(tx, tenantId, slugs);
  const after = await roleDefinitions(tx, tenantId, slugs, new Map([[changed.slug, changed]]));
  for (const holder of holders) {
    const broken = newlyBrokenRules(rules, holdingOf(holder.roles, before), holdingOf(holder.roles, after));
    if (broken.length > 0) {
      throw new SeparationOfDutiesBreach(
        broken,
        { email: holder.email, role: changed.slug },
        `this change to “${changed.name}” would make ${holder.email} break ${naming(broken)}`,
      );
    }
  }
}

function groupGrants(grants: { userId: string; email: string; role: string }[]) {
  const people = new Map<string, { userId: string; email: string; roles: string[] }>();
  for (const g of grants) {
    const entry = people.get(g.userId) ?? { userId: g.userId, email: g.email, roles: [] };
    entry.roles.push(g.role);
    people.set(g.userId, entry);
  }
  return people;
}

export interface Violation {
  rule: SodRule;
  userId: string;
  email: string;
  roles: string[];
}

/** Every active person breaking an enabled rule now (a rule added or switched on later shows who already does). */
export async function currentViolations(tx: Tx, tenantId: string): Promise<Violation[]> {
  const rules = (await tenantRules(tx, tenantId)).filter((r) => r.enabled);
  if (rules.length === 0) return [];
  const people = [...groupGrants(await listActiveGrants(tx, tenantId)).values()];
  const definitions = await roleDefinitions(
    tx,
    tenantId,
    people.flatMap((p) => p.roles),
  );
  return people.flatMap((p) => {
    const holding = holdingOf(p.roles, definitions);
    return rules.filter((r) => violates(holding, r)).map((rule) => ({ rule, userId: p.userId, email: p.email, roles: p.roles }));
  });
}
