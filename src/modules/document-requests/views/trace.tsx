import { EmptyState, type FieldErrors, PageHeader, Table, Time } from '../../../platform/ui/components.tsx';
import type { GrantTrace, TracedAccess } from '../trace.ts';
import { StateBadge } from './admin.tsx';

function grantState(trace: GrantTrace, now: Date): string {
  if (trace.grant.revokedAt) return 'Revoked';
  return trace.grant.expiresAt <= now ? 'Expired' : 'Open';
}

/** The two ways in: a grant id as printed in a copy's footer, or the leaked PDF itself. */
function LookupForms({ csrfToken, grantId, errors }: { csrfToken: string; grantId: string; errors: FieldErrors }) {
  return (
    <div class="card-grid">
      <form method="get" action="/admin/documents/trace" class="form" aria-label="Look up a grant id" novalidate>
        <div class={errors.grantId ? 'field field--invalid' : 'field'}>
          <label for="field-grant">Grant id</label>
          <p class="field__hint" id="field-grant-hint">
            As printed in the footer of every page of a stamped copy (“grant …”).
          </p>
          <input
            id="field-grant"
            name="grant"
            value={grantId}
            required
            aria-invalid={errors.grantId ? 'true' : undefined}
            aria-describedby={errors.grantId ? 'field-grant-hint field-grant-error' : 'field-grant-hint'}
          />
          {errors.grantId ? (
            <p class="field__error" id="field-grant-error">
              {errors.grantId}
            </p>
          ) : null}
        </div>
        <button type="submit" class="button button--primary">
          Trace
        </button>
      </form>
      <form method="post" action="/admin/documents/trace" enctype="multipart/form-data" class="form" novalidate>
        <input type="hidden" name="_csrf" value={csrfToken} />
        <div class={errors.file ? 'field field--invalid' : 'field'}>
          <label for="field-file">Or the leaked PDF</label>
          <p class="field__hint" id="field-file-hint">
            The grant id is read from the file’s metadata, where stamping wrote it. The file is not kept.
          </p>
          <input
            id="field-file"
            name="file"
            type="file"
            accept="application/pdf,.pdf"
            required
            aria-invalid={errors.file ? 'true' : undefined}
            aria-describedby={errors.file ? 'field-file-hint field-file-error' : 'field-file-hint'}
          />
          {errors.file ? (
            <p class="field__error" id="field-file-error">
              {errors.file}
            </p>
          ) : null}
        </div>
        <button type="submit" class="button button--secondary">
          Trace the file
        </button>
      </form>
    </div>
  );
}

function accessDocuments(a: TracedAccess) {
  return a.documents.map((d) => `${d.title ?? '(removed document)'}${d.version === null ? '' : ` v${d.version}`}`).join(', ');
}

function TraceResult({ trace, now }: { trace: GrantTrace; now: Date }) {
  const { grant, request: r, signature: s } = trace;
  return (
    <>
      <section aria-labelledby="trace-recipient">
        <h2 id="trace-recipient">Recipient</h2>
        <dl class="evidence__facts">
          <dt>Name</dt>
          <dd>{r.name}</dd>
          <dt>Email</dt>
          <dd>{r.email}</dd>
          <dt>Company</dt>
          <dd>{r.company}</dd>
        </dl>
      </section>
      <section aria-labelledby="trace-request">
        <h2 id="trace-request">Request and decision</h2>
        <dl class="evidence__facts">
          <dt>Request</dt>
          <dd>
            <a href={`/admin/documents/requests/${r.id}`}>{r.id}</a>
          </dd>
          <dt>Asked</dt>
          <dd>
            <Time at={r.createdAt} /> from {r.ip}
          </dd>
          <dt>Reason given</dt>
          <dd>{r.reason || '—'}</dd>
          <dt>State</dt>
          <dd>
            <StateBadge state={r.state} />
          </dd>
          <dt>Decided</dt>
          <dd>
            <Time at={r.decidedAt} /> by {r.decidedBy ?? '—'} (rule: {r.rule ?? '—'})
          </dd>
        </dl>
      </section>
      <section aria-labelledby="trace-nda">
        <h2 id="trace-nda">NDA signature</h2>
        {s ? (
          <dl class="evidence__facts">
            <dt>Signed as</dt>
            <dd>{s.typedName}</dd>
            <dt>Version</dt>
            <dd>{String(s.ndaVersion)}</dd>
            <dt>SHA-256</dt>
            <dd>
              <code>{s.ndaSha256}</code>
            </dd>
            <dt>Time</dt>
            <dd>
              <Time at={s.signedAt} />
            </dd>
            <dt>IP address</dt>
            <dd>{s.ip}</dd>
            <dt>User agent</dt>
            <dd>{s.userAgent}</dd>
          </dl>
        ) : (
          <p>No NDA signature for this request.</p>
        )}
      </section>
      <section aria-labelledby="trace-grant">
        <h2 id="trace-grant">Grant</h2>
        <dl class="evidence__facts">
          <dt>Grant id</dt>
          <dd>
            <code>{grant.id}</code>
          </dd>
          <dt>State</dt>
          <dd>{grantState(trace, now)}</dd>
          <dt>Granted</dt>
          <dd>
            <Time at={grant.createdAt} />
          </dd>
          <dt>Expires</dt>
          <dd>
            <Time at={grant.expiresAt} />
          </dd>
          <dt>Revoked</dt>
          <dd>{grant.revokedAt ? [<Time at={grant.revokedAt} />, ` by ${grant.revokedBy ?? '—'}`] : 'No'}</dd>
        </dl>
        <Table
          caption="Documents in the grant"
          rows={trace.documents}
          empty={<EmptyState title="No documents" />}
          columns={[
            { header: 'Document', cell: (d) => d.title ?? '(removed document)' },
            { header: 'Version granted', cell: (d) => `v${d.version}`, numeric: true },
            { header: 'SHA-256 of the file (before stamping)', cell: (d) => (d.sha256 ? <code>{d.sha256}</code> : '—') },
          ]}
        />
      </section>
      <section aria-labelledby="trace-accesses">
        <h2 id="trace-accesses">Views and downloads</h2>
        <Table
          caption="Every view of the grant page and every download, oldest first"
          rows={trace.accesses}
          empty={<EmptyState title="The link was never opened" />}
          columns={[
            { header: 'Time', cell: (a) => <Time at={a.at} /> },
            { header: 'What', cell: (a) => (a.kind === 'viewed' ? 'Viewed the grant page' : 'Downloaded') },
            { header: 'Documents (version)', cell: accessDocuments },
            { header: 'IP address', cell: (a) => a.ip ?? '—' },
            { header: 'User agent', cell: (a) => a.userAgent ?? '—' },
          ]}
        />
      </section>
    </>
  );
}

export function TracePage({
  csrfToken,
  grantId = '',
  trace,
  notFound,
  errors = {},
  now,
}: {
  csrfToken: string;
  grantId?: string;
  trace?: GrantTrace | undefined;
  /** A well-formed id no grant of this workspace has. */
  notFound?: boolean;
  errors?: FieldErrors;
  now: Date;
}) {
  const problem = notFound
    ? `No grant of this workspace has the id ${grantId}. Check it against the footer of the copy.`
    : Object.values(errors).find(Boolean);
  return (
    <>
      <PageHeader
        title="Trace a copy"
        description="Who received a stamped copy and what they did with it: look up the grant id from a leaked copy, or give the PDF itself. Each lookup is recorded in the audit trail."
        actions={
          <a class="button button--secondary" href="/admin/documents/grants">
            Grants
          </a>
        }
      />
      {problem ? (
        <div class="form-errors" role="alert" tabindex={-1}>
          <p>{problem}</p>
        </div>
      ) : null}
      <LookupForms csrfToken={csrfToken} grantId={grantId} errors={errors} />
      {trace ? <TraceResult trace={trace} now={now} /> : null}
    </>
  );
}
