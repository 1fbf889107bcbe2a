import {
  Badge,
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
import { ROLE_SLUGS } from '../roles.ts';
import type { ApiTokenInfo } from '../schema.ts';

function tokenState(token: ApiTokenInfo, now: Date) {
  if (token.revokedAt) return <Badge tone="neutral">revoked</Badge>;
  if (token.expiresAt && token.expiresAt <= now) return <Badge tone="warning">expired</Badge>;
  return <Badge tone="success">active</Badge>;
}

interface TokensViewProps {
  tokens: ApiTokenInfo[];
  csrfToken: string;
  now: Date;
  created?: { token: string; name: string } | undefined;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

export function ApiTokensView({ tokens, csrfToken, now, created, values, errors }: TokensViewProps) {
  return (
    <>
      <PageHeader
        title="API tokens"
        description="Tokens let services call the JSON API at /api/v1 as a role. A token is shown once; Candor keeps only its hash."
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
          { header: 'Role', cell: (t: ApiTokenInfo) => t.role },
          { header: 'State', cell: (t: ApiTokenInfo) => tokenState(t, now) },
          { header: 'Expires', cell: (t: ApiTokenInfo) => (t.expiresAt ? <Time at={t.expiresAt} /> : 'never'), numeric: true },
          { header: 'Last used', cell: (t: ApiTokenInfo) => <Time at={t.lastUsedAt} />, numeric: true },
          {
            header: 'Actions',
            cell: (t: ApiTokenInfo) =>
              t.revokedAt ? null : (
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
            Create one below, or with <code>candor token create</code> on the server.
          </EmptyState>
        }
      />
      <section class="panel" aria-labelledby="create-token-title">
        <h2 id="create-token-title" class="panel__title">
          Create a token
        </h2>
        <Form action="/admin/api-tokens" csrfToken={csrfToken} errors={errors} class="form form--inline">
          <Field
            name="name"
            label="Name"
            value={values?.name}
            error={errors?.name}
            hint="What will use it, e.g. “SIEM export”."
            required
          />
          <div class={errors?.role ? 'field field--invalid' : 'field'}>
            <label for="field-role">Role</label>
            <select id="field-role" name="role">
              {ROLE_SLUGS.map((role) => (
                <option value={role} selected={(values?.role ?? 'auditor') === role}>
                  {role}
                </option>
              ))}
            </select>
            {errors?.role ? <p class="field__error">{errors.role}</p> : null}
          </div>
          <Field
            name="expires"
            label="Expires in"
            value={values?.expires ?? '90d'}
            error={errors?.expires}
            hint="For example 30d, 12h; empty for never."
          />
          <SubmitButton label="Create token" />
        </Form>
      </section>
    </>
  );
}
