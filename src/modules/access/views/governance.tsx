import {
  Badge,
  CheckboxGroup,
  EmptyState,
  Field,
  type FieldErrors,
  Form,
  PageHeader,
  SubmitButton,
  Table,
  Time,
} from '../../../platform/ui/components.tsx';
import type { GrantRequestInfo } from '../approvals.ts';
import type { Duty } from '../duties.ts';
import { permissionsByCapability } from '../permissions.ts';
import type { RoleInfo } from '../schema.ts';
import type { SodRuleInfo } from '../sod.ts';
import type { SodSide, Violation } from '../sod-rules.ts';

// ─── Separation of duties ───

function SideText({ side }: { side: SodSide }) {
  return (
    <ul class="tag-list">
      {side.roles.map((r) => (
        <li>
          <Badge tone="neutral">role {r}</Badge>
        </li>
      ))}
      {side.permissions.map((p) => (
        <li>
          <code>{p}</code>
        </li>
      ))}
    </ul>
  );
}

function StateForm({ rule, csrfToken }: { rule: SodRuleInfo; csrfToken: string }) {
  const next = rule.enabled ? 'disable' : 'enable';
  return (
    <form method="post" action={`/admin/separation-of-duties/${rule.id}/${next}`} class="inline-form">
      <input type="hidden" name="_csrf" value={csrfToken} />
      <button type="submit" class="button button--small">
        {rule.enabled ? 'Switch off' : 'Switch on'}
      </button>
    </form>
  );
}

export function SodRulesView(props: { rules: SodRuleInfo[]; violations: number; canManage: boolean; csrfToken: string }) {
  const { rules, violations, canManage, csrfToken } = props;
  return (
    <>
      <PageHeader
        title="Separation of duties"
        description="Combinations of roles and permissions nobody may hold together. A grant or a role change that would break an enabled rule is refused; a person meets a side by holding any role or permission on it."
        actions={
          canManage ? (
            <a class="button button--primary" href="/admin/separation-of-duties/new">
              Add a rule
            </a>
          ) : undefined
        }
      />
      <p>
        <a href="/admin/separation-of-duties/violations">
          {violations === 1 ? '1 current violation' : `${violations} current violations`}
        </a>
      </p>
      <Table
        caption="Rules"
        rows={rules}
        columns={[
          { header: 'Rule', cell: (r: SodRuleInfo) => <a href={`/admin/separation-of-duties/${r.id}`}>{r.name}</a> },
          { header: 'One side', cell: (r: SodRuleInfo) => <SideText side={r.a} /> },
          { header: 'Other side', cell: (r: SodRuleInfo) => <SideText side={r.b} /> },
          {
            header: 'State',
            cell: (r: SodRuleInfo) => (
              <>
                {r.enabled ? <Badge tone="success">on</Badge> : <Badge tone="warning">off</Badge>}{' '}
                {r.builtIn ? <Badge tone="neutral">default</Badge> : <Badge tone="info">custom</Badge>}
              </>
            ),
          },
          { header: 'Violations', cell: (r: SodRuleInfo) => r.violations, numeric: true },
          { header: 'Actions', cell: (r: SodRuleInfo) => (canManage ? <StateForm rule={r} csrfToken={csrfToken} /> : null) },
        ]}
        empty={null}
      />
    </>
  );
}

export function ViolationsView({ violations }: { violations: Violation[] }) {
  return (
    <>
      <PageHeader
        title="Separation-of-duties violations"
        description="People who break an enabled rule now: usually because the rule was added or switched on after they were given their roles. Revoke one side to resolve it."
      />
      <Table
        caption="Violations"
        rows={violations}
        columns={[
          { header: 'Rule', cell: (v: Violation) => <a href={`/admin/separation-of-duties/${v.rule.id}`}>{v.rule.name}</a> },
          { header: 'Person', cell: (v: Violation) => <a href={`/admin/users/${v.userId}`}>{v.email}</a> },
          { header: 'Roles held', cell: (v: Violation) => v.roles.join(', ') },
        ]}
        empty={<EmptyState title="No violations">Nobody breaks an enabled rule.</EmptyState>}
      />
    </>
  );
}

export interface SodRuleFormValues {
  name?: string | undefined;
  description?: string | undefined;
  aRoles: string[];
  aPermissions: string[];
  bRoles: string[];
  bPermissions: string[];
  enabled: boolean;
}

function SideFields({
  side,
  roles,
  values,
  errors,
}: {
  side: 'a' | 'b';
  roles: RoleInfo[];
  values: SodRuleFormValues;
  errors?: FieldErrors | undefined;
}) {
  const chosenRoles = new Set(side === 'a' ? values.aRoles : values.bRoles);
  const chosenPermissions = new Set(side === 'a' ? values.aPermissions : values.bPermissions);
  const label = side === 'a' ? 'One side' : 'The other side';
  return (
    <>
      <CheckboxGroup
        name={`${side}Roles`}
        legend={`${label}: roles`}
        error={errors?.[`${side}Roles`]}
        groups={[
          { label: 'Roles', options: roles.map((r) => ({ value: r.slug, label: r.name, checked: chosenRoles.has(r.slug) })) },
        ]}
      />
      <CheckboxGroup
        name={`${side}Permissions`}
        legend={`${label}: permissions`}
        groups={permissionsByCapability().map((g) => ({
          label: g.capability,
          options: g.permissions.map((p) => ({
            value: p.slug,
            label: <code>{p.slug}</code>,
            checked: chosenPermissions.has(p.slug),
          })),
        }))}
      />
    </>
  );
}

export function SodRuleFormView(props: {
  title: string;
  action: string;
  roles: RoleInfo[];
  values: SodRuleFormValues;
  csrfToken: string;
  errors?: FieldErrors | undefined;
  rule?: SodRuleInfo;
  canManage: boolean;
}) {
  const { title, action, roles, values, csrfToken, errors, rule, canManage } = props;
  const editable = canManage && !rule?.builtIn;
  return (
    <>
      <PageHeader
        title={title}
        description={rule?.description ?? 'Name a combination nobody may hold: what one side allows, the other must not.'}
        actions={
          rule && !rule.builtIn && canManage ? (
            <form method="post" action={`/admin/separation-of-duties/${rule.id}/delete`} class="inline-form">
              <input type="hidden" name="_csrf" value={csrfToken} />
              <button type="submit" class="button button--danger" data-confirm={`Delete the rule “${rule.name}”?`}>
                Delete rule
              </button>
            </form>
          ) : undefined
        }
      />
      {rule ? (
        <dl class="details">
          <dt>State</dt>
          <dd>
            {rule.enabled ? <Badge tone="success">on</Badge> : <Badge tone="warning">off</Badge>}{' '}
            {canManage ? <StateForm rule={rule} csrfToken={csrfToken} /> : null}
          </dd>
          <dt>One side</dt>
          <dd>
            <SideText side={rule.a} />
          </dd>
          <dt>Other side</dt>
          <dd>
            <SideText side={rule.b} />
          </dd>
          <dt>Violations now</dt>
          <dd>
            <a href="/admin/separation-of-duties/violations">{rule.violations}</a>
          </dd>
        </dl>
      ) : null}
      {rule?.builtIn ? <p class="muted">A default rule: it can be switched off, not edited or deleted.</p> : null}
      {editable ? (
        <section class="panel">
          <Form action={action} csrfToken={csrfToken} errors={errors}>
            <Field name="name" label="Name" value={values.name} error={errors?.name} required maxlength={80} />
            <Field name="description" label="Why" value={values.description} error={errors?.description} maxlength={300} />
            <SideFields side="a" roles={roles} values={values} errors={errors} />
            <SideFields side="b" roles={roles} values={values} errors={errors} />
            <label class="check">
              <input type="checkbox" name="enabled" value="on" checked={values.enabled} /> <span>Enabled</span>
            </label>
            <SubmitButton label="Save rule" />
          </Form>
        </section>
      ) : null}
    </>
  );
}

// ─── Grant requests ───

function statusBadge(status: GrantRequestInfo['status']) {
  const tone = status === 'pending' ? 'warning' : status === 'approved' ? 'success' : status === 'denied' ? 'danger' : 'neutral';
  return <Badge tone={tone}>{status}</Badge>;
}

export function DecisionForms({ request, csrfToken }: { request: GrantRequestInfo; csrfToken: string }) {
  return (
    <div class="decision">
      <form method="post" action={`/admin/grant-requests/${request.id}/approve`} class="inline-form">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <button type="submit" class="button button--primary button--small">
          Approve
        </button>
      </form>
      <form method="post" action={`/admin/grant-requests/${request.id}/deny`} class="inline-form">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <label for={`reason-${request.id}`}>Reason</label>
        <input id={`reason-${request.id}`} name="reason" required maxlength={500} />
        <button type="submit" class="button button--danger button--small">
          Deny
        </button>
      </form>
    </div>
  );
}

export function GrantRequestsView(props: {
  requests: GrantRequestInfo[];
  canDecide: boolean;
  showAll: boolean;
  csrfToken: string;
  error?: string | undefined;
}) {
  const { requests, canDecide, showAll, csrfToken, error } = props;
  return (
    <>
      <PageHeader
        title="Grant requests"
        description="Privileged roles given by a person wait here for a second administrator who may hand out the role. Nobody decides their own request or a grant to themselves; requests expire after 7 days."
      />
      {error ? (
        <div class="form-errors" role="alert">
          <p>{error}</p>
        </div>
      ) : null}
      <p>
        {showAll ? (
          <a href="/admin/grant-requests">Show waiting requests only</a>
        ) : (
          <a href="/admin/grant-requests?status=all">Show all requests</a>
        )}
      </p>
      <Table
        caption="Grant requests"
        rows={requests}
        columns={[
          { header: 'Person', cell: (r: GrantRequestInfo) => <a href={`/admin/users/${r.userId}`}>{r.email}</a> },
          { header: 'Role', cell: (r: GrantRequestInfo) => <code>{r.role}</code> },
          { header: 'Asked by', cell: (r: GrantRequestInfo) => r.requestedBy },
          { header: 'Asked', cell: (r: GrantRequestInfo) => <Time at={r.createdAt} /> },
          { header: 'Expires', cell: (r: GrantRequestInfo) => <Time at={r.expiresAt} /> },
          {
            header: 'Status',
            cell: (r: GrantRequestInfo) => (
              <>
                {statusBadge(r.status)}
                {r.decidedBy ? <span class="muted"> by {r.decidedBy}</span> : null}
                {r.reason ? <span class="muted"> — {r.reason}</span> : null}
              </>
            ),
          },
          {
            header: 'Decide',
            cell: (r: GrantRequestInfo) =>
              canDecide && r.status === 'pending' ? <DecisionForms request={r} csrfToken={csrfToken} /> : null,
          },
        ]}
        empty={<EmptyState title="Nothing waiting">No privileged grant waits for approval.</EmptyState>}
      />
    </>
  );
}

// ─── The person page: waiting grants, offboarding ───

export function PersonGovernance(props: {
  person: { id: string; name: string; status: string };
  requests: GrantRequestInfo[];
  duties: Duty[];
  canManage: boolean;
  isSelf: boolean;
  csrfToken: string;
}) {
  const { person, requests, duties, canManage, isSelf, csrfToken } = props;
  const deactivated = person.status === 'deactivated';
  return (
    <>
      {requests.length > 0 ? (
        <section class="panel" aria-labelledby="pending-grants-title">
          <h2 id="pending-grants-title" class="panel__title">
            Waiting for approval
          </h2>
          <ul>
            {requests.map((r) => (
              <li>
                <code>{r.role}</code>, asked by {r.requestedBy} on <Time at={r.createdAt} /> (expires <Time at={r.expiresAt} />
                ). <a href="/admin/grant-requests">Decide</a>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {deactivated ? (
        <section class="panel" aria-labelledby="duties-title">
          <h2 id="duties-title" class="panel__title">
            Duties that need a new owner
          </h2>
          {duties.length === 0 ? (
            <p class="muted">Nothing found that names this person.</p>
          ) : (
            <ul>
              {duties.map((d) => (
                <li>
                  <strong>{d.capability}</strong>: <a href={d.href}>{d.description}</a>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}
      {canManage && !isSelf ? (
        <section class="panel" aria-labelledby="offboarding-title">
          <h2 id="offboarding-title" class="panel__title">
            {deactivated ? 'Reactivate' : 'Offboarding'}
          </h2>
          {deactivated ? (
            <form method="post" action={`/admin/users/${person.id}/reactivate`} class="inline-form">
              <input type="hidden" name="_csrf" value={csrfToken} />
              <p class="muted">They can sign in again; no role comes back.</p>
              <button type="submit" class="button">
                Reactivate
              </button>
            </form>
          ) : (
            <form method="post" action={`/admin/users/${person.id}/deactivate`} class="inline-form">
              <input type="hidden" name="_csrf" value={csrfToken} />
              <p class="muted">
                Ends every session at once, revokes the API tokens they made, removes their roles and cancels their grant
                requests.
              </p>
              <button
                type="submit"
                class="button button--danger"
                data-confirm={`Deactivate ${person.name}? Their sessions and tokens end now and their roles are removed.`}
              >
                Deactivate
              </button>
            </form>
          )}
        </section>
      ) : null}
    </>
  );
}
