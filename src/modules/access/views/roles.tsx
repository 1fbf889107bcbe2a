import type { Actor } from '../../../platform/context.ts';
import {
  CheckboxGroup,
  EmptyState,
  Field,
  type FieldErrors,
  Form,
  PageHeader,
  SubmitButton,
  Table,
} from '../../../platform/ui/components.tsx';
import { permissionsByCapability } from '../permissions.ts';
import type { RoleInfo } from '../schema.ts';
import { can } from '../service.ts';
import { listError, PermissionSummary, RoleBadges } from './shared.tsx';

export function RolesView({ roles, canManage }: { roles: RoleInfo[]; canManage: boolean }) {
  const custom = roles.filter((r) => !r.builtIn);
  const columns = [
    {
      header: 'Role',
      cell: (r: RoleInfo) => (
        <a href={`/admin/roles/${r.slug}`}>
          {r.name} <code>{r.slug}</code>
        </a>
      ),
    },
    { header: 'Kind', cell: (r: RoleInfo) => <RoleBadges role={r} /> },
    { header: 'What it is for', cell: (r: RoleInfo) => r.description || <span class="muted">—</span> },
    { header: 'Permissions', cell: (r: RoleInfo) => r.permissions.length, numeric: true },
    { header: 'Held by', cell: (r: RoleInfo) => r.holders, numeric: true },
  ];
  return (
    <>
      <PageHeader
        title="Roles"
        description="A role is a named set of permissions; a person may hold several. Built-in roles are the same everywhere and cannot be changed; custom roles are this workspace’s own."
        actions={
          canManage ? (
            <a class="button button--primary" href="/admin/roles/new">
              Create a role
            </a>
          ) : undefined
        }
      />
      <h2>Built-in roles</h2>
      <Table caption="Built-in roles" rows={roles.filter((r) => r.builtIn)} columns={columns} empty={null} />
      <h2>Custom roles</h2>
      <Table
        caption="Custom roles"
        rows={custom}
        columns={columns}
        empty={
          <EmptyState title="No custom roles">
            Create one when no built-in role fits: choose exactly the permissions it needs.
          </EmptyState>
        }
      />
    </>
  );
}

export interface RoleFormProps {
  action: string;
  csrfToken: string;
  actor: Actor;
  /** Permissions already in the role (an edit) or typed before (a form shown again). */
  values: { name?: string | undefined; slug?: string | undefined; description?: string | undefined; permissions: string[] };
  /** Whether to offer the slug field (only when creating: a slug never changes). */
  withSlug: boolean;
  /** Permissions the role had before this edit: kept even where the editor lacks them. */
  existing?: readonly string[];
  errors?: FieldErrors | undefined;
  submitLabel: string;
}

/** The create and edit form: only permissions the editor holds can be added; others stay as they were. */
export function RoleForm({ action, csrfToken, actor, values, withSlug, existing = [], errors, submitLabel }: RoleFormProps) {
  const chosen = new Set(values.permissions);
  return (
    <Form action={action} csrfToken={csrfToken} errors={errors}>
      <Field name="name" label="Name" value={values.name} error={errors?.name} required maxlength={60} />
      {withSlug ? (
        <Field
          name="slug"
          label="Identifier"
          value={values.slug}
          error={errors?.slug}
          hint="Used in grants, the API and the command line. Leave empty to derive it from the name; it cannot change later."
        />
      ) : null}
      <Field name="description" label="What it is for" value={values.description} error={errors?.description} maxlength={300} />
      <CheckboxGroup
        name="permissions"
        legend="Permissions"
        hint="You can only add permissions you hold yourself."
        error={listError(errors, 'permissions')}
        groups={permissionsByCapability().map((group) => ({
          label: group.capability,
          options: group.permissions.map((p) => ({
            value: p.slug,
            label: <code>{p.slug}</code>,
            hint: p.description,
            checked: chosen.has(p.slug),
            // Adding what one lacks is refused; keeping what the role already has is not.
            disabled: !can(actor, p.slug as Parameters<typeof can>[1]) && !existing.includes(p.slug),
          })),
        }))}
      />
      <SubmitButton label={submitLabel} />
    </Form>
  );
}

export function NewRoleView(props: Omit<RoleFormProps, 'action' | 'withSlug' | 'submitLabel'>) {
  return (
    <>
      <PageHeader title="Create a role" description="A custom role for this workspace, with the permissions you choose." />
      <section class="panel">
        <RoleForm {...props} action="/admin/roles" withSlug submitLabel="Create role" />
      </section>
    </>
  );
}

export interface RoleViewProps {
  role: RoleInfo;
  canManage: boolean;
  csrfToken: string;
  actor: Actor;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

export function RoleView({ role, canManage, csrfToken, actor, values, errors }: RoleViewProps) {
  const editable = canManage && !role.builtIn;
  return (
    <>
      <PageHeader
        title={role.name}
        description={role.description}
        actions={
          editable ? (
            <form method="post" action={`/admin/roles/${role.slug}/delete`} class="inline-form">
              <input type="hidden" name="_csrf" value={csrfToken} />
              <button
                type="submit"
                class="button button--danger"
                data-confirm={`Delete the role “${role.name}”? Only a role nobody holds can be deleted.`}
              >
                Delete role
              </button>
            </form>
          ) : undefined
        }
      />
      <dl class="details">
        <dt>Identifier</dt>
        <dd>
          <code>{role.slug}</code>
        </dd>
        <dt>Kind</dt>
        <dd>
          <RoleBadges role={role} />
        </dd>
        <dt>Held by</dt>
        <dd>{role.holders === 1 ? '1 person' : `${role.holders} people`}</dd>
      </dl>
      {editable ? (
        <section class="panel" aria-labelledby="edit-role-title">
          <h2 id="edit-role-title" class="panel__title">
            Edit
          </h2>
          <p class="muted">Changes apply to everyone holding this role from their next request.</p>
          <RoleForm
            action={`/admin/roles/${role.slug}`}
            csrfToken={csrfToken}
            actor={actor}
            values={{
              name: values?.name ?? role.name,
              description: values?.description ?? role.description,
              permissions: values ? (values.permissions ?? '').split('\n').filter(Boolean) : role.permissions,
            }}
            existing={role.permissions}
            withSlug={false}
            errors={errors}
            submitLabel="Save role"
          />
        </section>
      ) : (
        <section class="panel" aria-labelledby="role-permissions-title">
          <h2 id="role-permissions-title" class="panel__title">
            Permissions
          </h2>
          {role.builtIn ? <p class="muted">Built-in roles cannot be changed.</p> : null}
          <PermissionSummary permissions={role.permissions} empty="This role gives no permission: self-service only." />
        </section>
      )}
    </>
  );
}
