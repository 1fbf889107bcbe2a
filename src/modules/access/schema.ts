import { z } from '@hono/zod-openapi';
import { PERMISSION_SLUGS, type Permission } from './permissions.ts';

/** A role's identifier in URLs, forms and grants: a built-in slug or a custom role's. */
export const RoleSlugText = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z][a-z0-9-]{1,39}$/, 'use 2 to 40 lower-case letters, digits and hyphens, starting with a letter');

/** A reference to an existing role (in a grant, a new person, a token's shortcut); the service says if it exists. */
export const RoleRef = z.string().trim().toLowerCase().min(1, 'choose a role').max(60, 'no role has a name this long');

export const PermissionSlug = z.enum(PERMISSION_SLUGS as [Permission, ...Permission[]], {
  error: (issue) => `unknown permission ${JSON.stringify(issue.input)}`,
});

/** Permissions as a set: duplicates collapse, order follows what was sent. */
export const PermissionList = z
  .array(PermissionSlug)
  .max(200)
  .transform((list) => [...new Set(list)]);

export const RoleName = z.string().trim().min(1, 'name the role').max(60, 'use at most 60 characters');
export const RoleDescription = z.string().trim().max(300, 'use at most 300 characters').default('');

export const NewCustomRole = z
  .object({
    name: RoleName,
    slug: RoleSlugText.optional().openapi({ description: 'Derived from the name when absent' }),
    description: RoleDescription,
    permissions: PermissionList,
  })
  .openapi('NewRole');
export type NewCustomRole = z.input<typeof NewCustomRole>;

export const CustomRoleChange = z
  .object({
    name: RoleName,
    description: RoleDescription,
    permissions: PermissionList,
  })
  .openapi('RoleChange');
export type CustomRoleChange = z.input<typeof CustomRoleChange>;

export const UserIdParam = z.object({ id: z.uuid('not a person’s id').openapi({ param: { name: 'id', in: 'path' } }) });
export const RoleParam = z.object({ role: RoleRef.openapi({ param: { name: 'role', in: 'path' } }) });
export const UserRoleParams = UserIdParam.extend(RoleParam.shape);
export const SlugParam = z.object({ slug: RoleRef.openapi({ param: { name: 'slug', in: 'path' } }) });

// ─── JSON shapes of the API ───

export const PermissionJson = z
  .object({
    slug: PermissionSlug,
    capability: z.string(),
    description: z.string(),
    effect: z.enum(['reads', 'changes']),
    privileged: z.boolean(),
  })
  .openapi('Permission');

export const RoleJson = z
  .object({
    slug: z.string(),
    name: z.string(),
    description: z.string(),
    builtIn: z.boolean(),
    privileged: z.boolean().openapi({ description: 'Includes a permission whose grants deserve a second look' }),
    permissions: z.array(PermissionSlug),
    holders: z.number().int().openapi({ description: 'How many people hold it' }),
  })
  .openapi('Role');

export const GrantJson = z
  .object({
    role: z.string(),
    roleName: z.string(),
    grantedAt: z.iso.datetime(),
    grantedBy: z.string().openapi({ description: 'Who granted it: an email, a token, or the system' }),
  })
  .openapi('Grant');

export const PersonJson = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    status: z.enum(['active', 'invited', 'no-password', 'deactivated']).openapi({
      description:
        '`invited`: an invitation is open; `no-password`: cannot sign in yet and no invitation is open; ' +
        '`deactivated`: offboarded, cannot sign in',
    }),
    invitationExpiresAt: z.iso.datetime().nullable().openapi({ description: 'When the open invitation expires' }),
    roles: z.array(z.string()),
    createdAt: z.iso.datetime(),
  })
  .openapi('Person');

export const PersonDetailJson = PersonJson.extend({
  grants: z.array(GrantJson),
  permissions: z.array(PermissionSlug).openapi({ description: 'The union of the permissions of every role held' }),
}).openapi('PersonDetail');

/** A new person through the API, invited by email unless `invite` is false. Extra keys are ignored. */
export const NewPersonBody = z
  .object({
    email: z.string().openapi({ example: 'ada@example.com' }),
    name: z.string(),
    role: RoleRef,
    invite: z.boolean().default(true).openapi({
      description: 'Mail the person a single-use link (valid seven days) to choose their password',
    }),
  })
  .openapi('NewPerson');

export interface RoleInfo {
  slug: string;
  name: string;
  description: string;
  builtIn: boolean;
  permissions: Permission[];
  /** Includes a privileged permission: its grants deserve a second look. */
  privileged: boolean;
  /** How many people hold it. */
  holders: number;
}

export interface GrantInfo {
  role: string;
  roleName: string;
  grantedAt: Date;
  grantedById: string | null;
  grantedByLabel: string;
}

/** `invited`: an invitation is open; `no-password`: none is (it expired, or the person was made without one). */
export type PersonStatus = 'active' | 'invited' | 'no-password' | 'deactivated';

export interface PersonSummary {
  id: string;
  email: string;
  name: string;
  status: PersonStatus;
  /** When the open invitation expires, for `invited`. */
  invitationExpiresAt: Date | null;
  roles: string[];
  createdAt: Date;
}

export interface PersonDetail extends PersonSummary {
  grants: GrantInfo[];
  /** The union of the permissions of every role held. */
  permissions: Permission[];
}

/** What a person may do, resolved once per request from their grants. */
export interface ResolvedAccess {
  roles: string[];
  permissions: ReadonlySet<Permission>;
}
