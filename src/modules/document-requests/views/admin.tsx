import {
  Badge,
  EmptyState,
  type FieldErrors,
  Form,
  PageHeader,
  SubmitButton,
  Table,
  Time,
} from '../../../platform/ui/components.tsx';
import type { GrantListing, RequestDetail } from '../service.ts';
import type { GrantRow, NdaVersionRow, RequestRow } from '../store.ts';

const STATE_TONES: Record<RequestRow['state'], 'success' | 'info' | 'warning' | 'neutral' | 'danger'> = {
  unverified: 'neutral',
  nda: 'info',
  pending: 'warning',
  approved: 'success',
  denied: 'danger',
  refused: 'danger',
};
const STATE_NAMES: Record<RequestRow['state'], string> = {
  unverified: 'Email not verified',
  nda: 'NDA not signed',
  pending: 'Waiting for a decision',
  approved: 'Approved',
  denied: 'Denied',
  refused: 'Refused (blocked domain)',
};

export function StateBadge({ state }: { state: RequestRow['state'] }) {
  return <Badge tone={STATE_TONES[state]}>{STATE_NAMES[state]}</Badge>;
}

function grantState(g: GrantRow, now: Date): string {
  if (g.revokedAt) return 'Revoked';
  return g.expiresAt <= now ? 'Expired' : 'Open';
}

export function RequestsPage({ requests }: { requests: RequestDetail[] }) {
  return (
    <>
      <PageHeader
        title="Document requests"
        description="Who asked for which documents, and what was decided. Approvers decide the ones waiting."
        actions={
          <>
            <a class="button button--secondary" href="/admin/documents/grants">
              Grants
            </a>
            <a class="button button--secondary" href="/admin/documents/trace">
              Trace a copy
            </a>
            <a class="button button--secondary" href="/admin/documents/analytics">
              Analytics
            </a>
          </>
        }
      />
      <Table
        caption="Requests, newest first"
        rows={requests}
        empty={<EmptyState title="No requests yet" />}
        columns={[
          { header: 'Requester', cell: (r) => <a href={`/admin/documents/requests/${r.request.id}`}>{r.request.name}</a> },
          { header: 'Email', cell: (r) => r.request.email },
          { header: 'Company', cell: (r) => r.request.company },
          { header: 'Documents', cell: (r) => r.documents.map((d) => d.title).join(', ') },
          { header: 'State', cell: (r) => <StateBadge state={r.request.state} /> },
          { header: 'Asked', cell: (r) => <Time at={r.request.createdAt} /> },
        ]}
      />
    </>
  );
}

export function RequestDetailPage({
  detail,
  csrfToken,
  canDecide,
  ownRequest,
  errors = {},
  now,
}: {
  detail: RequestDetail;
  csrfToken: string;
  canDecide: boolean;
  ownRequest: boolean;
  errors?: FieldErrors;
  now: Date;
}) {
  const r = detail.request;
  const s = detail.signature;
  return (
    <>
      <PageHeader title={`Request from ${r.name}`} description={`${r.email} · ${r.company}`} />
      <dl class="facts">
        <dt>State</dt>
        <dd>
          <StateBadge state={r.state} />
          {r.rule ? ` (rule: ${r.rule})` : ''}
        </dd>
        <dt>Documents</dt>
        <dd>{detail.documents.map((d) => d.title).join(', ')}</dd>
        <dt>Reason given</dt>
        <dd>{r.reason || '—'}</dd>
        <dt>Asked</dt>
        <dd>
          <Time at={r.createdAt} /> from {r.ip}
        </dd>
        <dt>Email verified</dt>
        <dd>{r.verifiedAt ? <Time at={r.verifiedAt} /> : 'No'}</dd>
        <dt>NDA</dt>
        <dd>
          {s ? (
            <>
              Signed as “{s.typedName}” <Time at={s.signedAt} /> from {s.ip} ({s.userAgent}); version {s.ndaVersion}, SHA-256{' '}
              <code>{s.ndaSha256}</code>
            </>
          ) : (
            'Not signed'
          )}
        </dd>
        {r.decidedAt ? (
          <>
            <dt>Decided</dt>
            <dd>
              <Time at={r.decidedAt} /> by {r.decidedBy}
              {r.decisionReason ? `: ${r.decisionReason}` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      {r.state === 'pending' && canDecide && ownRequest ? <p role="alert">You cannot decide your own request.</p> : null}
      {r.state === 'pending' && canDecide && !ownRequest ? (
        <section>
          <h2>Decide</h2>
          <Form action={`/admin/documents/requests/${r.id}/approve`} csrfToken={csrfToken}>
            <SubmitButton label="Approve" />
          </Form>
          <Form action={`/admin/documents/requests/${r.id}/deny`} csrfToken={csrfToken} errors={errors}>
            <div class={errors.reason ? 'field field--invalid' : 'field'}>
              <label for="deny-reason">Reason for the denial (the requester reads it)</label>
              <textarea id="deny-reason" name="reason" rows={3} maxlength={1000} required />
              {errors.reason ? <p class="field__error">{errors.reason}</p> : null}
            </div>
            <SubmitButton label="Deny" variant="danger" />
          </Form>
        </section>
      ) : null}
      <GrantsTable grants={detail.grants} csrfToken={csrfToken} canRevoke={canDecide} now={now} />
    </>
  );
}

export function GrantsTable({
  grants,
  csrfToken,
  canRevoke,
  now,
}: {
  grants: GrantListing[];
  csrfToken: string;
  canRevoke: boolean;
  now: Date;
}) {
  // On a request's own page every grant has the same requester: the column is only for the list of all.
  const requesterColumn = grants.some((g) => g.requester)
    ? [
        {
          header: 'Requester',
          cell: (g: GrantListing) =>
            g.requester ? (
              <>
                {g.requester.name}, {g.requester.company}
                <br />
                <span class="muted">{g.requester.email}</span>
              </>
            ) : (
              '—'
            ),
        },
      ]
    : [];
  return (
    <Table
      caption="Grants"
      rows={grants}
      empty={<EmptyState title="No grants" />}
      columns={[
        {
          header: 'Grant id',
          cell: (g) => <a href={`/admin/documents/trace?grant=${g.id}`}>{g.id}</a>,
        },
        ...requesterColumn,
        { header: 'Request', cell: (g) => <a href={`/admin/documents/requests/${g.requestId}`}>Details</a> },
        { header: 'Documents', cell: (g) => String(Object.keys(g.versions).length) },
        { header: 'Until', cell: (g) => <Time at={g.expiresAt} /> },
        { header: 'State', cell: (g) => grantState(g, now) },
        {
          header: 'Actions',
          cell: (g) =>
            canRevoke && grantState(g, now) === 'Open' ? (
              <Form action={`/admin/documents/grants/${g.id}/revoke`} csrfToken={csrfToken}>
                <SubmitButton label="Revoke now" variant="danger" />
              </Form>
            ) : (
              '—'
            ),
        },
      ]}
    />
  );
}

export function GrantsPage(props: { grants: GrantListing[]; csrfToken: string; canRevoke: boolean; now: Date }) {
  return (
    <>
      <PageHeader
        title="Document grants"
        description="Access given to requesters: each ends on its date or when revoked. A grant’s id opens its trace."
        actions={
          <a class="button button--secondary" href="/admin/documents/trace">
            Trace a copy
          </a>
        }
      />
      <GrantsTable {...props} />
    </>
  );
}

export function NdaAdminPage({
  versions,
  csrfToken,
  canManage,
  errors = {},
}: {
  versions: NdaVersionRow[];
  csrfToken: string;
  canManage: boolean;
  errors?: FieldErrors;
}) {
  const current = versions[0];
  return (
    <>
      <PageHeader
        title="Non-disclosure agreement"
        description="What requesters sign before gated documents are sent. Saving a change publishes a new version; signatures keep naming theirs."
      />
      <Form action="/admin/documents/nda" csrfToken={csrfToken} errors={errors}>
        <fieldset disabled={!canManage}>
          <div class={errors.text ? 'field field--invalid' : 'field'}>
            <label for="nda-text">Agreement text (version {current?.version ?? 1})</label>
            <textarea id="nda-text" name="text" rows={18} maxlength={50000}>
              {current?.text ?? ''}
            </textarea>
            {errors.text ? <p class="field__error">{errors.text}</p> : null}
          </div>
          <SubmitButton label="Publish a new version" />
        </fieldset>
      </Form>
      <Table
        caption="Versions"
        rows={versions}
        empty={<EmptyState title="No versions yet" />}
        columns={[
          { header: 'Version', cell: (n) => String(n.version) },
          { header: 'SHA-256', cell: (n) => <code>{n.sha256}</code> },
          { header: 'Published', cell: (n) => <Time at={n.createdAt} /> },
          { header: 'By', cell: (n) => n.createdBy },
        ]}
      />
    </>
  );
}

export function AccessDomainsPage({
  settings,
  csrfToken,
  canManage,
  errors = {},
}: {
  settings: { blockedDomains: string[]; allowedDomains: string[] };
  csrfToken: string;
  canManage: boolean;
  errors?: FieldErrors;
}) {
  const area = (name: 'blockedDomains' | 'allowedDomains', label: string, hint: string) => (
    <div class={errors[name] ? 'field field--invalid' : 'field'}>
      <label for={`field-${name}`}>{label}</label>
      <p class="field__hint">{hint}</p>
      <textarea id={`field-${name}`} name={name} rows={10}>
        {settings[name].join('\n')}
      </textarea>
      {errors[name] ? <p class="field__error">{errors[name]}</p> : null}
    </div>
  );
  return (
    <>
      <PageHeader
        title="Request rules"
        description="Mail domains refused outright and company domains approved automatically (after the NDA)."
      />
      <Form action="/admin/documents/access" csrfToken={csrfToken} errors={errors}>
        <fieldset disabled={!canManage}>
          {area(
            'blockedDomains',
            'Blocked domains',
            'Personal mail providers: requests from them are refused. One domain a line.',
          )}
          {area(
            'allowedDomains',
            'Allowed domains',
            'Customers and partners: approved automatically once the NDA is signed. One domain a line.',
          )}
          <SubmitButton label="Save the rules" />
        </fieldset>
      </Form>
    </>
  );
}
