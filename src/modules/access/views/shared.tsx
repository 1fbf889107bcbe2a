import { Badge, EmptyState } from '../../../platform/ui/components.tsx';
import { type Permission, permissionsByCapability } from '../permissions.ts';

/** Permissions grouped by capability, each with what it allows: the read-only view of a role or a person. */
export function PermissionSummary({ permissions, empty }: { permissions: readonly Permission[]; empty: string }) {
  const held = new Set<string>(permissions);
  const groups = permissionsByCapability()
    .map((g) => ({ ...g, permissions: g.permissions.filter((p) => held.has(p.slug)) }))
    .filter((g) => g.permissions.length > 0);
  if (groups.length === 0) return <EmptyState title="No permissions">{empty}</EmptyState>;
  return (
    <dl class="details">
      {groups.map((group) => (
        <>
          <dt>{group.capability}</dt>
          <dd>
            <ul class="tag-list">
              {group.permissions.map((p) => (
                <li title={p.description}>
                  <code>{p.slug}</code>{' '}
                  {p.effect === 'changes' ? <Badge tone="warning">changes</Badge> : <Badge tone="info">reads</Badge>}
                </li>
              ))}
            </ul>
          </dd>
        </>
      ))}
    </dl>
  );
}

/** A role's kind at a glance. */
export function RoleBadges({ role }: { role: { builtIn: boolean; privileged: boolean } }) {
  return (
    <>
      {role.builtIn ? <Badge tone="neutral">built-in</Badge> : <Badge tone="info">custom</Badge>}{' '}
      {role.privileged ? <Badge tone="danger">privileged</Badge> : null}
    </>
  );
}

/** The first error about a list field (zod names an entry `permissions.3`). */
export function listError(errors: Record<string, string | undefined> | undefined, field: string): string | undefined {
  return Object.entries(errors ?? {}).find(([key]) => key === field || key.startsWith(`${field}.`))?.[1];
}
