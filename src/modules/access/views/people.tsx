import type { Child } from 'hono/jsx';
import {
  Badge,
  EmptyState,
  Field,
  type FieldErrors,
  Form,
  PageHeader,
  SubmitButton,
  Table,
  Time,
} from '../../../platform/ui/components.tsx';
import type { GrantInfo, PersonDetail, PersonStatus, PersonSummary, RoleInfo } from '../schema.ts';
import { PermissionSummary } from './shared.tsx';

function StatusBadge({ status }: { status: PersonStatus }) {
  if (status === 'deactivated') return <Badge tone="danger">deactivated</Badge>;
  if (status === 'active') return <Badge tone="success">active</Badge>;
  return status === 'invited' ? <Badge tone="info">invited</Badge> : <Badge tone="warning">no password yet</Badge>;
}

function RoleSelect({
  roles,
  value,
  error,
  label,
}: {
  roles: RoleInfo[];
  value?: string | undefined;
  error?: string | undefined;
  label: string;
}) {
  return (
    <div class={error ? 'field field--invalid' : 'field'}>
      <label for="field-role">{label}</label>
      <select id="field-role" name="role" aria-invalid={error ? 'true' : undefined}>
        {roles.map((role) => (
          <option value={role.slug} selected={value === role.slug}>
            {role.name}
            {role.builtIn ? '' : ' (custom)'}
          </option>
        ))}
      </select>
      {error ? <p class="field__error">{error}</p> : null}
    </div>
  );
}

export interface PeopleViewProps {
  people: PersonSummary[];
  /** Role names by slug, for the list. */
  roleNames: Map<string, string>;
  /** Roles this person may hand out (empty when they may not add people). */
  grantable: RoleInfo[];
  canManage: boolean;
  csrfToken: string;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

export function PeopleView({ people, roleNames, grantable, canManage, csrfToken, values, errors }: PeopleViewProps) {
  return (
    <>
      <PageHeader
        title="People"
        description="Everyone with an account in this workspace, the roles they hold, and whether they can sign in."
      />
      <Table
        caption="People"
        rows={people}
        columns={[
          { header: 'Name', cell: (p: PersonSummary) => <a href={`/admin/users/${p.id}`}>{p.name}</a> },
          { header: 'Email', cell: (p: PersonSummary) => p.email },
          {
            header: 'Roles',
            cell: (p: PersonSummary) =>
              p.roles.length === 0 ? (
                <span class="muted">none</span>
              ) : (
                <ul class="tag-list">
                  {p.roles.map((r) => (
                    <li>
                      <Badge tone="neutral">{roleNames.get(r) ?? r}</Badge>
                    </li>
                  ))}
                </ul>
              ),
          },
          { header: 'Status', cell: (p: PersonSummary) => <StatusBadge status={p.status} /> },
          { header: 'Added', cell: (p: PersonSummary) => <Time at={p.createdAt} />, numeric: true },
        ]}
        empty={<EmptyState title="Nobody yet">People appear here once they have an account.</EmptyState>}
      />
      {canManage && grantable.length > 0 ? (
        <section class="panel" aria-labelledby="add-person-title">
          <h2 id="add-person-title" class="panel__title">
            Add a person
          </h2>
          <p class="muted">They get an email with a link (valid for seven days) to choose their password and sign in.</p>
          <Form action="/admin/users" csrfToken={csrfToken} errors={errors} class="form form--inline">
            <Field name="name" label="Name" value={values?.name} error={errors?.name} required />
            <Field name="email" label="Email" type="email" value={values?.email} error={errors?.email} required />
            <RoleSelect roles={grantable} value={values?.role ?? 'employee'} error={errors?.role} label="Role" />
            <SubmitButton label="Add and invite" />
          </Form>
        </section>
      ) : null}
    </>
  );
}

export interface PersonViewProps {
  person: PersonDetail;
  /** Roles the viewer may grant that the person does not hold yet. */
  grantable: RoleInfo[];
  /** Slugs of the roles the viewer may take away (they hold every permission of it). */
  revocable: Set<string>;
  canManage: boolean;
  /** The viewer is this person: nobody changes their own roles. */
  isSelf: boolean;
  csrfToken: string;
  errors?: FieldErrors | undefined;
  /** Sections other parts add to the page: waiting grants and offboarding (access), MFA status and reset. */
  extra?: Child;
}

function GrantsTable({ person, revocable, canManage, isSelf, csrfToken }: PersonViewProps) {
  return (
    <Table
      caption="Roles held"
      rows={person.grants}
      columns={[
        {
          header: 'Role',
          cell: (g: GrantInfo) => (
            <a href={`/admin/roles/${g.role}`}>
              {g.roleName} <code>{g.role}</code>
            </a>
          ),
        },
        { header: 'Granted by', cell: (g: GrantInfo) => g.grantedByLabel },
        { header: 'Granted', cell: (g: GrantInfo) => <Time at={g.grantedAt} />, numeric: true },
        {
          header: 'Actions',
          cell: (g: GrantInfo) =>
            canManage && !isSelf && revocable.has(g.role) ? (
              <form method="post" action={`/admin/users/${person.id}/roles/${g.role}/revoke`} class="inline-form">
                <input type="hidden" name="_csrf" value={csrfToken} />
                <button
                  type="submit"
                  class="button button--danger button--small"
                  data-confirm={`Take the role “${g.roleName}” from ${person.name}? It applies from their next request.`}
                >
                  Revoke
                </button>
              </form>
            ) : null,
        },
      ]}
      empty={<EmptyState title="No roles">This person can use self-service only.</EmptyState>}
    />
  );
}

export function PersonView(props: PersonViewProps) {
  const { person, grantable, canManage, isSelf, csrfToken, errors, extra } = props;
  return (
    <>
      <PageHeader title={person.name} description={person.email} />
      <dl class="details">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={person.status} />
          {person.invitationExpiresAt ? (
            <span class="muted">
              {' '}
              (the invitation expires <Time at={person.invitationExpiresAt} />)
            </span>
          ) : null}
        </dd>
        <dt>Added</dt>
        <dd>
          <Time at={person.createdAt} />
        </dd>
      </dl>
      {canManage && person.status !== 'active' ? (
        <form method="post" action={`/admin/users/${person.id}/invitation`} class="inline-form">
          <input type="hidden" name="_csrf" value={csrfToken} />
          <p class="muted">
            {person.status === 'invited'
              ? 'They have not chosen a password yet. Sending the invitation again makes the earlier link stop working.'
              : 'They cannot sign in until they choose a password: send them an invitation (a link valid for seven days).'}{' '}
            <button type="submit" class="button button--small">
              {person.status === 'invited' ? 'Send the invitation again' : 'Send an invitation'}
            </button>
          </p>
        </form>
      ) : null}
      <section class="panel" aria-labelledby="grants-title">
        <h2 id="grants-title" class="panel__title">
          Roles
        </h2>
        <GrantsTable {...props} />
        {canManage && isSelf ? <p class="muted">Nobody changes their own roles: ask another administrator.</p> : null}
        {canManage && !isSelf && grantable.length > 0 ? (
          <Form action={`/admin/users/${person.id}/roles`} csrfToken={csrfToken} errors={errors} class="form form--inline">
            <RoleSelect roles={grantable} error={errors?.role} label="Grant a role" />
            <SubmitButton label="Grant" />
          </Form>
        ) : null}
      </section>
      {extra}
      <section class="panel" aria-labelledby="permissions-title">
        <h2 id="permissions-title" class="panel__title">
          Effective permissions
        </h2>
        <p class="muted">Everything the roles above allow together.</p>
        <PermissionSummary permissions={person.permissions} empty="No role held gives any permission: self-service only." />
      </section>
    </>
  );
}
