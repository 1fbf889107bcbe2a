import type { Actor } from '../../../platform/context.ts';
import {
  Badge,
  CheckboxGroup,
  EmptyState,
  Field,
  type FieldErrors,
  Form,
  PageHeader,
  SecretShownOnce,
  SubmitButton,
  Table,
  Time,
} from '../../../platform/ui/components.tsx';
import { can, type Permission, permissionsByCapability, type RoleInfo } from '../../access/service.ts';
import type { ApiTokenInfo } from '../schema.ts';

function tokenState(token: ApiTokenInfo, now: Date) {
  if (token.revokedAt) return <Badge tone="neutral">revoked</Badge>;
  if (token.expiresAt && token.expiresAt <= now) return <Badge tone="warning">expired</Badge>;
  return <Badge tone="success">active</Badge>;
}

function Scopes({ permissions }: { permissions: Permission[] }) {
  if (permissions.length === 0) return <span class="muted">none</span>;
  return (
    <details>
      <summary>{permissions.length === 1 ? '1 permission' : `${permissions.length} permissions`}</summary>
      <ul class="tag-list">
        {permissions.map((p) => (
          <li>
            <code>{p}</code>
          </li>
        ))}
      </ul>
    </details>
  );
}

function AddressRanges({ ranges }: { ranges: string[] | null }) {
  if (!ranges || ranges.length === 0) return <span class="muted">anywhere</span>;
  return (
    <ul class="tag-list">
      {ranges.map((r) => (
        <li>
          <code>{r}</code>
        </li>
      ))}
    </ul>
  );
}

/** The first error about the permission list (zod names an entry `permissions.3`). */
function permissionsError(errors: FieldErrors | undefined): string | undefined {
  return Object.entries(errors ?? {}).find(([key]) => key === 'permissions' || key.startsWith('permissions.'))?.[1];
}

export interface TokensViewProps {
  tokens: ApiTokenInfo[];
  csrfToken: string;
  now: Date;
  actor: Actor;
  canManage: boolean;
  /** Roles offered as a shortcut for their permissions. */
  roles: RoleInfo[];
  created?: { token: string; name: string } | undefined;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

function CreateTokenForm({ csrfToken, actor, roles, values, errors }: TokensViewProps) {
  const chosen = new Set((values?.permissions ?? '').split('\n').filter(Boolean));
  return (
    <section class="panel" aria-labelledby="create-token-title">
      <h2 id="create-token-title" class="panel__title">
        Create a token
      </h2>
      <Form action="/admin/api-tokens" csrfToken={csrfToken} errors={errors}>
        <Field
          name="name"
          label="Name"
          value={values?.name}
          error={errors?.name}
          hint="What will use it, e.g. “SIEM export”."
          required
        />
        <CheckboxGroup
          name="permissions"
          legend="Permissions"
          hint="The token can do exactly this, nothing more. You can only give permissions you hold yourself."
          error={permissionsError(errors)}
          groups={permissionsByCapability().map((group) => ({
            label: group.capability,
            options: group.permissions.map((p) => ({
              value: p.slug,
              label: <code>{p.slug}</code>,
              hint: p.description,
              checked: chosen.has(p.slug),
              disabled: !can(actor, p.slug as Permission),
            })),
          }))}
        />
        {roles.length > 0 ? (
          <div class={errors?.role ? 'field field--invalid' : 'field'}>
            <label for="field-role">Or every permission of a role</label>
            <select id="field-role" name="role">
              <option value="">— none —</option>
              {roles.map((role) => (
                <option value={role.slug} selected={values?.role === role.slug}>
                  {role.name} ({role.permissions.length})
                </option>
              ))}
            </select>
            {errors?.role ? <p class="field__error">{errors.role}</p> : null}
          </div>
        ) : null}
        <Field
          name="expires"
          label="Expires in"
          value={values?.expires ?? '90d'}
          error={errors?.expires}
          hint="For example 30d, 12h; empty for never."
        />
        <Field
          name="allowedIps"
          label="Usable only from"
          value={values?.allowedIps}
          error={errors?.allowedIps}
          hint="IPv4 or IPv6 addresses or CIDR ranges, separated by commas, e.g. 203.0.113.0/24, 2001:db8::/32. Empty: from anywhere."
        />
        <SubmitButton label="Create token" />
      </Form>
    </section>
  );
}

export function ApiTokensView(props: TokensViewProps) {
  const { tokens, csrfToken, now, canManage, created } = props;
  return (
    <>
      <PageHeader
        title="API tokens"
        description="Tokens let services call the JSON API at /api/v1 with the permissions they were given. A token is shown once; Candor keeps only its hash."
      />
      {created ? (
        <SecretShownOnce
          title={`Token “${created.name}” created`}
          instruction="Copy it now: it will not be shown again."
          secret={created.token}
        />
      ) : null}
      <Table
        caption="API tokens"
        rows={tokens}
        columns={[
          { header: 'Name', cell: (t: ApiTokenInfo) => t.name },
          { header: 'Token', cell: (t: ApiTokenInfo) => <code>{t.prefix}…</code> },
          { header: 'Scopes', cell: (t: ApiTokenInfo) => <Scopes permissions={t.permissions} /> },
          { header: 'Usable from', cell: (t: ApiTokenInfo) => <AddressRanges ranges={t.allowedIps} /> },
          { header: 'State', cell: (t: ApiTokenInfo) => tokenState(t, now) },
          { header: 'Expires', cell: (t: ApiTokenInfo) => (t.expiresAt ? <Time at={t.expiresAt} /> : 'never'), numeric: true },
          { header: 'Last used', cell: (t: ApiTokenInfo) => <Time at={t.lastUsedAt} />, numeric: true },
          {
            header: 'Actions',
            cell: (t: ApiTokenInfo) =>
              t.revokedAt || !canManage ? null : (
                <form method="post" action={`/admin/api-tokens/${t.id}/revoke`} class="inline-form">
                  <input type="hidden" name="_csrf" value={csrfToken} />
                  <button
                    type="submit"
                    class="button button--danger button--small"
                    data-confirm={`Revoke the token “${t.name}”? Services using it stop working at once.`}
                  >
                    Revoke
                  </button>
                </form>
              ),
          },
        ]}
        empty={
          <EmptyState title="No API tokens">
            {canManage ? 'Create one below, or' : 'Tokens are created here by those who manage them, or'} with{' '}
            <code>candor token create</code> on the server.
          </EmptyState>
        }
      />
      {canManage ? <CreateTokenForm {...props} /> : null}
    </>
  );
}
