import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Forbidden, InvalidInput, NotFound } from '../../platform/errors.ts';
import { SodRuleInput } from './governance-schema.ts';
import {
  deleteSodRuleRow,
  findSodRuleByName,
  findSodRuleRow,
  insertSodRule,
  saveDefaultRuleState,
  updateSodRuleRow,
} from './governance-store.ts';
import { requirePermission, roleSlugs } from './service.ts';
import { currentViolations, DEFAULT_SOD_RULES, defaultRule, type SodRule, tenantRules, type Violation } from './sod-rules.ts';

/** Separation-of-duties rules as the back office and the API manage them (`sod.read`, `sod.manage`). */

export interface SodRuleInfo extends SodRule {
  /** People breaking it now. */
  violations: number;
}

export async function listSodRules(ctx: RequestContext): Promise<{ rules: SodRuleInfo[]; violations: Violation[] }> {
  requirePermission(ctx.actor, 'sod.read');
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const violations = await currentViolations(tx, tenantId);
    const rules = (await tenantRules(tx, tenantId)).map((r) => ({
      ...r,
      violations: violations.filter((v) => v.rule.id === r.id).length,
    }));
    return { rules, violations };
  });
}

export async function getSodRule(ctx: RequestContext, id: string): Promise<SodRuleInfo> {
  const { rules } = await listSodRules(ctx);
  const rule = rules.find((r) => r.id === id);
  if (!rule) throw new NotFound('separation-of-duties rule', id);
  return rule;
}

/** Who breaks an enabled rule now. */
export async function listViolations(ctx: RequestContext): Promise<Violation[]> {
  return (await listSodRules(ctx)).violations;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function validRule(tx: Tx, tenantId: string, input: SodRuleInput, id?: string) {
  const data = SodRuleInput.parse(input);
  const known = new Set(await roleSlugs(tx, tenantId));
  const errors: Record<string, string> = {};
  for (const side of ['a', 'b'] as const) {
    const unknown = data[side].roles.filter((r) => !known.has(r));
    if (unknown.length > 0) errors[`${side}Roles`] = `unknown roles: ${unknown.join(', ')}`;
    if (data[side].roles.length + data[side].permissions.length === 0) {
      errors[`${side}Roles`] = 'choose at least one role or permission for this side';
    }
  }
  const lower = data.name.toLowerCase();
  const sameName = await findSodRuleByName(tx, tenantId, data.name);
  if (DEFAULT_SOD_RULES.some((r) => r.name.toLowerCase() === lower) || (sameName && sameName.id !== id)) {
    errors.name = 'a rule with this name exists already';
  }
  if (Object.keys(errors).length > 0) throw new InvalidInput('the rule is not valid', errors);
  return data;
}

type Side = { roles: string[]; permissions: string[] };

function ruleDetails(rule: { name: string; a: Side; b: Side; enabled: boolean }) {
  return { name: rule.name, a: { ...rule.a }, b: { ...rule.b }, enabled: rule.enabled };
}

export async function createSodRule(ctx: RequestContext, input: SodRuleInput): Promise<SodRuleInfo> {
  requirePermission(ctx.actor, 'sod.manage');
  const tenantId = ctx.tenant.id;
  const id = await ctx.db.withTenant(tenantId, async (tx) => {
    const data = await validRule(tx, tenantId, input);
    const now = ctx.clock.now();
    const row = await insertSodRule(tx, {
      tenantId,
      name: data.name,
      description: data.description,
      sideARoles: data.a.roles,
      sideAPermissions: data.a.permissions,
      sideBRoles: data.b.roles,
      sideBPermissions: data.b.permissions,
      enabled: data.enabled,
      createdAt: now,
      updatedAt: now,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.sod_rule_created',
      target: { type: 'sod_rule', id: row.id },
      details: ruleDetails(data),
    });
    return row.id;
  });
  return getSodRule(ctx, id);
}

function refuseDefault(id: string, what: string): void {
  if (defaultRule(id)) throw new Forbidden(`default rules cannot be ${what}; switch it off instead, or add a rule of your own`);
}

export async function updateSodRule(ctx: RequestContext, id: string, input: SodRuleInput): Promise<SodRuleInfo> {
  requirePermission(ctx.actor, 'sod.manage');
  refuseDefault(id, 'edited');
  if (!UUID.test(id)) throw new NotFound('separation-of-duties rule', id);
  const tenantId = ctx.tenant.id;
  await ctx.db.withTenant(tenantId, async (tx) => {
    const before = await findSodRuleRow(tx, tenantId, id);
    if (!before) throw new NotFound('separation-of-duties rule', id);
    const data = await validRule(tx, tenantId, input, id);
    await updateSodRuleRow(tx, tenantId, id, {
      name: data.name,
      description: data.description,
      sideARoles: data.a.roles,
      sideAPermissions: data.a.permissions,
      sideBRoles: data.b.roles,
      sideBPermissions: data.b.permissions,
      enabled: data.enabled,
      updatedAt: ctx.clock.now(),
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.sod_rule_updated',
      target: { type: 'sod_rule', id },
      details: { ...ruleDetails(data), ...(before.name !== data.name ? { previousName: before.name } : {}) },
    });
  });
  return getSodRule(ctx, id);
}

/** Switches a rule on or off; the only change a default rule accepts. */
export async function setSodRuleEnabled(ctx: RequestContext, id: string, enabled: boolean): Promise<SodRuleInfo> {
  requirePermission(ctx.actor, 'sod.manage');
  const tenantId = ctx.tenant.id;
  await ctx.db.withTenant(tenantId, async (tx) => {
    const rule = (await tenantRules(tx, tenantId)).find((r) => r.id === id);
    if (!rule) throw new NotFound('separation-of-duties rule', id);
    if (rule.enabled === enabled) return;
    const now = ctx.clock.now();
    if (rule.builtIn) {
      await saveDefaultRuleState(tx, tenantId, id, enabled, now);
    } else {
      await updateSodRuleRow(tx, tenantId, id, {
        name: rule.name,
        description: rule.description,
        sideARoles: rule.a.roles,
        sideAPermissions: rule.a.permissions,
        sideBRoles: rule.b.roles,
        sideBPermissions: rule.b.permissions,
        enabled,
        updatedAt: now,
      });
    }
    await ctx.audit.record(tx, auditScope(ctx), {
      action: enabled ? 'access.sod_rule_enabled' : 'access.sod_rule_disabled',
      target: { type: 'sod_rule', id },
      details: { name: rule.name, builtIn: rule.builtIn },
    });
  });
  return getSodRule(ctx, id);
}

export async function deleteSodRule(ctx: RequestContext, id: string): Promise<void> {
  requirePermission(ctx.actor, 'sod.manage');
  refuseDefault(id, 'deleted');
  if (!UUID.test(id)) throw new NotFound('separation-of-duties rule', id);
  const tenantId = ctx.tenant.id;
  await ctx.db.withTenant(tenantId, async (tx) => {
    const row = await deleteSodRuleRow(tx, tenantId, id);
    if (!row) throw new NotFound('separation-of-duties rule', id);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.sod_rule_deleted',
      target: { type: 'sod_rule', id },
      details: { name: row.name },
    });
  });
}
