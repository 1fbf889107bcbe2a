import type { AuditEventRow } from '../../../platform/audit/store.ts';
import { Badge, EmptyState, Field, type FieldErrors, PageHeader, Pager, Table } from '../../../platform/ui/components.tsx';
import type { AuditEventPage, TrailStatus, Verification } from '../service.ts';

const OUTCOME_TONES = { success: 'success', denied: 'warning', failed: 'danger' } as const;

/** A UTC time to the second: the order of events within a minute matters to an investigation. */
function UtcTime({ at, precise }: { at: Date; precise?: boolean }) {
  const iso = at.toISOString();
  return <time datetime={iso}>{precise ? iso.replace('T', ' ').replace('Z', '') : iso.slice(0, 19).replace('T', ' ')} UTC</time>;
}

function OutcomeBadge({ outcome }: { outcome: string }) {
  return <Badge tone={OUTCOME_TONES[outcome as keyof typeof OUTCOME_TONES] ?? 'neutral'}>{outcome}</Badge>;
}

function actorText(e: AuditEventRow): string {
  return e.actorLabel ?? e.actorId ?? e.actorType;
}

function targetText(e: AuditEventRow): string {
  if (!e.targetType) return '—';
  return e.targetId ? `${e.targetType} ${e.targetId}` : e.targetType;
}

function VerificationState({ verification }: { verification: Verification | undefined }) {
  if (!verification) {
    return <p class="muted">Not verified yet. The chain is verified daily, or now with “Verify now”.</p>;
  }
  return (
    <>
      <p>
        {verification.ok ? <Badge tone="success">intact</Badge> : <Badge tone="danger">NOT intact</Badge>}{' '}
        <span class="muted">
          checked <UtcTime at={verification.checkedAt} /> by {verification.checkedBy}
        </span>
      </p>
      <p class={verification.ok ? undefined : 'text-danger'}>{verification.summary}</p>
    </>
  );
}

interface TrailPanelProps {
  status: TrailStatus;
  csrfToken: string;
  checkpointsUrl: string;
  canVerify: boolean;
}

function TrailPanel({ status, csrfToken, checkpointsUrl, canVerify }: TrailPanelProps) {
  const { head, latestCheckpoint, keys } = status;
  return (
    <section class="panel" aria-labelledby="chain-title">
      <h2 id="chain-title" class="panel__title">
        Chain integrity
      </h2>
      <VerificationState verification={status.lastVerification} />
      {canVerify ? (
        <form method="post" action="/admin/audit/verify" class="inline-form">
          <input type="hidden" name="_csrf" value={csrfToken} />
          <button type="submit" class="button button--secondary button--small">
            Verify now
          </button>
        </form>
      ) : null}
      <dl class="details">
        <dt>Head</dt>
        <dd>
          {head && head.seq > 0 ? (
            <>
              seq {head.seq} <code>{head.hash}</code>
            </>
          ) : (
            <span class="muted">no events yet</span>
          )}
        </dd>
        <dt>Latest signed checkpoint</dt>
        <dd>
          {latestCheckpoint ? (
            <>
              seq {latestCheckpoint.seq}, <UtcTime at={latestCheckpoint.signedAt} />, key <code>{latestCheckpoint.keyId}</code>
            </>
          ) : (
            <span class="muted">none yet (the head is signed within five minutes of a change)</span>
          )}
        </dd>
        <dt>Signing keys</dt>
        <dd>
          {keys.length === 0 ? (
            <span class="muted">created with the first checkpoint</span>
          ) : (
            keys.map((k) => (
              <>
                <code>{k.keyId}</code>
                {k.retiredAt ? ' (retired)' : ''}{' '}
              </>
            ))
          )}
        </dd>
        <dt>Public checkpoints</dt>
        <dd>
          <a href={checkpointsUrl}>{checkpointsUrl}</a>
          <br />
          <span class="muted small">
            Customers and auditors keep copies of these signatures: a later rewrite of the trail cannot match them.
          </span>
        </dd>
      </dl>
    </section>
  );
}

export interface FilterValues {
  actor?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  outcome?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

function FilterForm({ values, errors }: { values: FilterValues; errors: FieldErrors }) {
  const count = Object.values(errors).filter(Boolean).length;
  return (
    <form method="get" action="/admin/audit" class="form form--inline" aria-label="Filter events" novalidate>
      {count > 0 ? (
        <div class="form-errors" role="alert" tabindex={-1}>
          <p>{count === 1 ? 'Please correct the filter below.' : `Please correct the ${count} filters below.`}</p>
        </div>
      ) : null}
      <Field name="actor" label="Actor" value={values.actor} error={errors.actor} placeholder="e-mail, name or id" />
      <Field name="action" label="Action" value={values.action} error={errors.action} placeholder="e.g. session." />
      <Field name="target" label="Target" value={values.target} error={errors.target} placeholder="type or id" />
      <div class={errors.outcome ? 'field field--invalid' : 'field'}>
        <label for="field-outcome">Outcome</label>
        <select id="field-outcome" name="outcome">
          <option value="">any</option>
          {(['success', 'denied', 'failed'] as const).map((o) => (
            <option value={o} selected={values.outcome === o}>
              {o}
            </option>
          ))}
        </select>
      </div>
      <Field name="from" label="From (UTC)" type="date" value={values.from} error={errors.from} />
      <Field name="to" label="To (UTC, inclusive)" type="date" value={values.to} error={errors.to} />
      <button type="submit" class="button button--primary">
        Filter
      </button>
    </form>
  );
}

export interface AuditListViewProps {
  page: AuditEventPage | undefined;
  status: TrailStatus;
  values: FilterValues;
  errors: FieldErrors;
  /** The filter as a query string (no page), for the pager and the exports. */
  query: string;
  /** The time range alone, for the verifiable export. */
  rangeQuery: string;
  csrfToken: string;
  checkpointsUrl: string;
  /** What the reader may also do: export (audit.export) and verify (audit.verify). */
  canExport: boolean;
  canVerify: boolean;
}

export function AuditListView({
  page,
  status,
  values,
  errors,
  query,
  rangeQuery,
  csrfToken,
  checkpointsUrl,
  canExport,
  canVerify,
}: AuditListViewProps) {
  const withQuery = (base: string, q: string) => (q ? `${base}?${q}` : base);
  return (
    <>
      <PageHeader
        title="Audit trail"
        description="Every security-relevant action, in a hash chain signed at checkpoints: an event cannot be changed or removed without the verification saying where."
        actions={
          canExport ? (
            <>
              <a class="button button--secondary" href={withQuery('/admin/audit/export.csv', query)}>
                Export CSV
              </a>
              <a class="button button--secondary" href={withQuery('/admin/audit/export.jsonl', rangeQuery)}>
                Export verifiable JSONL
              </a>
            </>
          ) : undefined
        }
      />
      <TrailPanel status={status} csrfToken={csrfToken} checkpointsUrl={checkpointsUrl} canVerify={canVerify} />
      <FilterForm values={values} errors={errors} />
      {page ? (
        <>
          <Table
            caption="Audit events, newest first"
            rows={page.events}
            columns={[
              { header: 'Seq', cell: (e: AuditEventRow) => <a href={`/admin/audit/${e.seq}`}>{e.seq}</a>, numeric: true },
              { header: 'Time (UTC)', cell: (e: AuditEventRow) => <UtcTime at={e.occurredAt} /> },
              { header: 'Actor', cell: (e: AuditEventRow) => actorText(e) },
              { header: 'Action', cell: (e: AuditEventRow) => <code>{e.action}</code> },
              { header: 'Target', cell: (e: AuditEventRow) => targetText(e) },
              { header: 'Outcome', cell: (e: AuditEventRow) => <OutcomeBadge outcome={e.outcome} /> },
              { header: 'IP', cell: (e: AuditEventRow) => e.ip ?? '—' },
            ]}
            empty={
              <EmptyState title={query ? 'No events match' : 'No events yet'}>
                {query
                  ? 'Nothing in the trail matches these filters. Widen the time range or clear a filter.'
                  : 'Sign-ins, changes to settings and exports appear here as they happen.'}
              </EmptyState>
            }
          />
          <Pager page={{ number: page.page, size: page.size, total: page.total }} baseUrl={withQuery('/admin/audit', query)} />
        </>
      ) : null}
    </>
  );
}

/** The value, or a muted dash for what was not known when the event was recorded. */
function orDash(value: string | null) {
  return value ? value : <span class="muted">—</span>;
}

export function AuditEventView({ event, headSeq }: { event: AuditEventRow; headSeq: number }) {
  return (
    <>
      <PageHeader
        title={`Event ${event.seq}: ${event.action}`}
        actions={
          <>
            {event.seq > 1 ? (
              <a class="button button--secondary" href={`/admin/audit/${event.seq - 1}`} rel="prev">
                Previous
              </a>
            ) : null}
            {event.seq < headSeq ? (
              <a class="button button--secondary" href={`/admin/audit/${event.seq + 1}`} rel="next">
                Next
              </a>
            ) : null}
            <a class="button button--secondary" href="/admin/audit">
              All events
            </a>
          </>
        }
      />
      <dl class="details">
        <dt>Sequence number</dt>
        <dd>{event.seq}</dd>
        <dt>Time</dt>
        <dd>
          <UtcTime at={event.occurredAt} precise />
        </dd>
        <dt>Actor</dt>
        <dd>
          {event.actorType}
          {event.actorLabel ? ` · ${event.actorLabel}` : ''}
          {event.actorId ? (
            <>
              {' '}
              <code>{event.actorId}</code>
            </>
          ) : null}
        </dd>
        <dt>Action</dt>
        <dd>
          <code>{event.action}</code>
        </dd>
        <dt>Target</dt>
        <dd>
          {event.targetType ?? <span class="muted">—</span>}
          {event.targetId ? (
            <>
              {' '}
              <code>{event.targetId}</code>
            </>
          ) : null}
        </dd>
        <dt>Outcome</dt>
        <dd>
          <OutcomeBadge outcome={event.outcome} />
        </dd>
        <dt>IP address</dt>
        <dd>{orDash(event.ip)}</dd>
        <dt>Browser</dt>
        <dd>{orDash(event.userAgent)}</dd>
        <dt>Request id</dt>
        <dd>{orDash(event.requestId)}</dd>
        <dt>Previous hash</dt>
        <dd>
          <code>{event.prevHash}</code>
        </dd>
        <dt>Hash</dt>
        <dd>
          <code>{event.hash}</code>
        </dd>
      </dl>
      <section class="panel" aria-labelledby="details-title">
        <h2 id="details-title" class="panel__title">
          Details
        </h2>
        <pre class="mail-body">{JSON.stringify(event.details, null, 2)}</pre>
      </section>
    </>
  );
}
