import { z } from '@hono/zod-openapi';
import { PermissionList, PermissionSlug, RoleRef } from './schema.ts';

// ─── Separation-of-duties rules ───

const RoleList = z
  .array(RoleRef)
  .max(50)
  .transform((list) => [...new Set(list)]);

export const SodSideInput = z
  .object({ roles: RoleList.default([]), permissions: PermissionList.default([]) })
  .openapi('SodSideInput');

export const SodRuleInput = z
  .object({
    name: z.string().trim().min(1, 'name the rule').max(80, 'use at most 80 characters'),
    description: z.string().trim().max(300, 'use at most 300 characters').default(''),
    a: SodSideInput,
    b: SodSideInput,
    enabled: z.boolean().default(true),
  })
  .openapi('SodRuleInput');
export type SodRuleInput = z.input<typeof SodRuleInput>;

/** The rule form: each side as role and permission checkboxes (`aRoles`, `aPermissions`, ...). */
export const SodRuleForm = z.object({
  name: z.string().default(''),
  description: z.string().default(''),
  aRoles: z.array(z.string()).default([]),
  aPermissions: z.array(z.string()).default([]),
  bRoles: z.array(z.string()).default([]),
  bPermissions: z.array(z.string()).default([]),
  enabled: z.string().optional(),
});

/** The form's flat fields as the service's input (the service validates it). */
export function sodRuleFromForm(f: z.infer<typeof SodRuleForm>): SodRuleInput {
  return {
    name: f.name,
    description: f.description,
    a: { roles: f.aRoles, permissions: f.aPermissions as SodRuleInput['a']['permissions'] },
    b: { roles: f.bRoles, permissions: f.bPermissions as SodRuleInput['b']['permissions'] },
    enabled: f.enabled === 'on',
  };
}

export const RuleIdParam = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9-]{2,64}$/, 'not a rule’s id')
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const RuleStateBody = z.object({ enabled: z.boolean() }).openapi('SodRuleState');

const SodSideJson = z.object({ roles: z.array(z.string()), permissions: z.array(PermissionSlug) }).openapi('SodSide');

export const SodRuleJson = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    builtIn: z.boolean().openapi({ description: 'A default rule: it can be switched off, not edited or deleted' }),
    enabled: z.boolean(),
    a: SodSideJson,
    b: SodSideJson,
    violations: z.number().int().openapi({ description: 'People breaking it now' }),
  })
  .openapi('SodRule');

export const ViolationJson = z
  .object({
    ruleId: z.string(),
    ruleName: z.string(),
    userId: z.uuid(),
    email: z.string(),
    roles: z.array(z.string()),
  })
  .openapi('SodViolation');

// ─── Grant requests ───

export const GrantRequestStatus = z.enum(['pending', 'approved', 'denied', 'cancelled', 'expired']);
export type GrantRequestStatus = z.infer<typeof GrantRequestStatus>;

export const GrantRequestJson = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    email: z.string(),
    role: z.string(),
    status: GrantRequestStatus,
    requestedBy: z.string(),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    decidedBy: z.string().nullable(),
    decidedAt: z.iso.datetime().nullable(),
    reason: z.string().nullable(),
  })
  .openapi('GrantRequest');

export const RequestIdParam = z.object({ id: z.uuid('not a request’s id').openapi({ param: { name: 'id', in: 'path' } }) });

export const DenyBody = z
  .object({ reason: z.string().trim().min(1, 'say why the request is denied').max(500, 'use at most 500 characters') })
  .openapi('GrantDenial');

export const RequestListQuery = z.object({
  status: z
    .enum(['pending', 'all'])
    .default('pending')
    .openapi({ param: { name: 'status', in: 'query' } }),
});

// ─── Offboarding ───

export const DutyJson = z.object({ capability: z.string(), description: z.string(), href: z.string() }).openapi('Duty');

export const DeactivationJson = z
  .object({
    userId: z.uuid(),
    email: z.string(),
    deactivatedAt: z.iso.datetime(),
    sessionsEnded: z.number().int(),
    tokensRevoked: z.array(z.string()),
    rolesRemoved: z.array(z.string()),
    requestsCancelled: z.number().int(),
    duties: z.array(DutyJson).openapi({ description: 'What needs a new owner' }),
  })
  .openapi('Deactivation');
