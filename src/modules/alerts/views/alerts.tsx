import type { JsonValue } from '../../../platform/audit/canonical.ts';
import {
  Badge,
  EmptyState,
  Field,
  type FieldErrors,
  Form,
  PageHeader,
  Pager,
  SubmitButton,
  Table,
  Time,
} from '../../../platform/ui/components.tsx';
import { RULES } from '../rules.ts';
import { COUNTED_RULES, type StatusFilter, thresholdField } from '../schema.ts';
import type { AlertDetail, AlertEventRow, AlertPage, AlertRow, AlertSettingsView } from '../service.ts';

const SEVERITY_TONES = { high: 'danger', medium: 'warning', low: 'info' } as const;
const STATUS_TONES = { open: 'danger', acknowledged: 'warning', closed: 'neutral' } as const;

function SeverityBadge({ severity }: { severity: string }) {
  return <Badge tone={SEVERITY_TONES[severity as keyof typeof SEVERITY_TONES] ?? 'neutral'}>{severity}</Badge>;
}

function StatusBadge({ status }: { status: string }) {
  return <Badge tone={STATUS_TONES[status as keyof typeof STATUS_TONES] ?? 'neutral'}>{status}</Badge>;
}

function ruleName(id: string): string {
  return RULES.find((r) => r.id === id)?.name ?? id;
}

const FILTERS: { status: StatusFilter; label: string }[] = [
  { status: 'active', label: 'Open and acknowledged' },
  { status: 'open', label: 'Open' },
  { status: 'acknowledged', label: 'Acknowledged' },
  { status: 'closed', label: 'Closed' },
  { status: 'all', label: 'All' },
];

export function AlertsListView({ page }: { page: AlertPage }) {
  return (
    <>
      <PageHeader
        title="Alerts"
        description="Raised automatically from the audit trail as events are written: repeated failed sign-ins, permission denials, access from outside the allow-list, MFA failures, privileged grants outside business hours and bulk reads or exports."
        actions={
          <a class="button button--secondary" href="/admin/alerts/settings">
            Settings
          </a>
        }
      />
      <nav aria-label="Filter by status" class="page-header__actions">
        {FILTERS.map((f) => (
          <a
            class={`button button--small ${f.status === page.status ? 'button--primary' : 'button--secondary'}`}
            href={`/admin/alerts?status=${f.status}`}
            aria-current={f.status === page.status ? 'page' : undefined}
          >
            {f.label}
          </a>
        ))}
      </nav>
      <Table
        caption="Alerts"
        rows={page.alerts}
        columns={[
          { header: 'Severity', cell: (a: AlertRow) => <SeverityBadge severity={a.severity} /> },
          { header: 'Alert', cell: (a: AlertRow) => <a href={`/admin/alerts/${a.id}`}>{a.title}</a> },
          { header: 'Rule', cell: (a: AlertRow) => ruleName(a.rule) },
          { header: 'Status', cell: (a: AlertRow) => <StatusBadge status={a.status} /> },
          { header: 'Events', cell: (a: AlertRow) => a.eventCount, numeric: true },
          { header: 'Opened', cell: (a: AlertRow) => <Time at={a.openedAt} />, numeric: true },
          { header: 'Last event', cell: (a: AlertRow) => <Time at={a.lastEventAt} />, numeric: true },
        ]}
        empty={
          <EmptyState title="No alerts here">
            Alerts appear as soon as a rule matches what the audit trail records. Nothing to look at is good news.
          </EmptyState>
        }
      />
      <Pager page={{ number: page.page, size: page.size, total: page.total }} baseUrl={`/admin/alerts?status=${page.status}`} />
    </>
  );
}

function detailsText(details: Record<string, JsonValue>): string {
  return Object.keys(details).length === 0 ? '' : JSON.stringify(details);
}

interface DetailProps {
  detail: AlertDetail;
  csrfToken: string;
  canManage: boolean;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

export function AlertDetailView({ detail, csrfToken, canManage, values, errors }: DetailProps) {
  const { alert, events, rule } = detail;
  const shown = events.length;
  return (
    <>
      <PageHeader
        title={alert.title}
        description={rule?.description}
        actions={
          canManage && alert.status === 'open' ? (
            <form method="post" action={`/admin/alerts/${alert.id}/acknowledge`} class="inline-form">
              <input type="hidden" name="_csrf" value={csrfToken} />
              <button type="submit" class="button button--secondary">
                Acknowledge
              </button>
            </form>
          ) : undefined
        }
      />
      <dl class="details">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={alert.status} />
        </dd>
        <dt>Severity</dt>
        <dd>
          <SeverityBadge severity={alert.severity} />
        </dd>
        <dt>Rule</dt>
        <dd>{ruleName(alert.rule)}</dd>
        <dt>Key</dt>
        <dd>
          <code>{alert.key}</code>
        </dd>
        <dt>Events</dt>
        <dd>{alert.eventCount}</dd>
        <dt>Opened</dt>
        <dd>
          <Time at={alert.openedAt} />
        </dd>
        <dt>Last event</dt>
        <dd>
          <Time at={alert.lastEventAt} />
        </dd>
        {alert.acknowledgedAt ? (
          <>
            <dt>Acknowledged</dt>
            <dd>
              <Time at={alert.acknowledgedAt} /> by {alert.acknowledgedBy}
            </dd>
          </>
        ) : null}
        {alert.closedAt ? (
          <>
            <dt>Closed</dt>
            <dd>
              <Time at={alert.closedAt} /> by {alert.closedBy}
            </dd>
            <dt>Note</dt>
            <dd>{alert.closeNote}</dd>
          </>
        ) : null}
      </dl>
      <section class="panel" aria-labelledby="events-title">
        <h2 id="events-title" class="panel__title">
          Causing events
        </h2>
        {shown < alert.eventCount ? (
          <p class="muted">
            Showing the first {shown} of {alert.eventCount} events; the audit trail has them all.
          </p>
        ) : null}
        <Table
          caption="Audit events that caused this alert"
          rows={events}
          columns={[
            { header: '#', cell: (e: AlertEventRow) => <a href={`/admin/audit/${e.seq}`}>{e.seq}</a>, numeric: true },
            { header: 'Time', cell: (e: AlertEventRow) => <Time at={e.occurredAt} /> },
            { header: 'Action', cell: (e: AlertEventRow) => <code>{e.action}</code> },
            { header: 'Actor', cell: (e: AlertEventRow) => e.actorLabel ?? e.actorType },
            { header: 'Outcome', cell: (e: AlertEventRow) => e.outcome },
            { header: 'IP', cell: (e: AlertEventRow) => e.ip ?? '' },
            { header: 'Details', cell: (e: AlertEventRow) => <code>{detailsText(e.details)}</code> },
          ]}
          empty={<EmptyState title="No events">The events of this alert are no longer in the trail (retention).</EmptyState>}
        />
      </section>
      {canManage && alert.status !== 'closed' ? (
        <section class="panel" aria-labelledby="close-title">
          <h2 id="close-title" class="panel__title">
            Close the alert
          </h2>
          <Form action={`/admin/alerts/${alert.id}/close`} csrfToken={csrfToken} errors={errors}>
            <div class={errors?.note ? 'field field--invalid' : 'field'}>
              <label for="field-note">
                Note
                <span class="field__required" aria-hidden="true">
                  {' '}
                  *
                </span>
              </label>
              <p class="field__hint" id="field-note-hint">
                What was found and what was done. It stays with the alert and in the audit trail.
              </p>
              <textarea
                id="field-note"
                name="note"
                required
                maxlength={2000}
                aria-invalid={errors?.note ? 'true' : undefined}
                aria-describedby={errors?.note ? 'field-note-hint field-note-error' : 'field-note-hint'}
              >
                {values?.note ?? ''}
              </textarea>
              {errors?.note ? (
                <p class="field__error" id="field-note-error">
                  {errors.note}
                </p>
              ) : null}
            </div>
            <SubmitButton label="Close alert" />
          </Form>
        </section>
      ) : null}
    </>
  );
}

interface SettingsProps {
  view: AlertSettingsView;
  csrfToken: string;
  /** Readers see the settings; only those who may change them get the save button. */
  canManage: boolean;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

/** The form's values as typed, or the saved settings when the form is shown fresh. */
function settingsValues(view: AlertSettingsView): Record<string, string> {
  const { settings } = view;
  const values: Record<string, string> = {
    businessHoursStart: String(settings.businessHours.start),
    businessHoursEnd: String(settings.businessHours.end),
    timeZone: settings.businessHours.timeZone,
    contacts: settings.contacts.join('\n'),
  };
  for (const rule of COUNTED_RULES) {
    values[thresholdField(rule, 'count')] = String(settings.thresholds[rule].count);
    values[thresholdField(rule, 'window')] = String(settings.thresholds[rule].windowMinutes);
  }
  return values;
}

export function AlertSettingsPage({ view, csrfToken, canManage, values, errors }: SettingsProps) {
  const v = values ?? settingsValues(view);
  return (
    <>
      <PageHeader
        title="Alert settings"
        description="When each rule raises an alert, what counts as business hours, and who is told."
      />
      <Form action="/admin/alerts/settings" csrfToken={csrfToken} errors={errors}>
        {COUNTED_RULES.map((id) => {
          const rule = RULES.find((r) => r.id === id);
          const count = thresholdField(id, 'count');
          const window = thresholdField(id, 'window');
          return (
            <section class="panel" aria-labelledby={`rule-${id}`}>
              <h2 id={`rule-${id}`} class="panel__title">
                {rule?.name ?? id}
              </h2>
              <p class="muted">{rule?.description}</p>
              <div class="form--inline">
                <Field
                  name={count}
                  label="Events"
                  value={v[count]}
                  error={errors?.[count]}
                  hint="How many raise an alert."
                  required
                />
                <Field
                  name={window}
                  label="Within (minutes)"
                  value={v[window]}
                  error={errors?.[window]}
                  hint="The window they are counted in."
                  required
                />
              </div>
            </section>
          );
        })}
        <section class="panel" aria-labelledby="business-hours">
          <h2 id="business-hours" class="panel__title">
            Business hours
          </h2>
          <p class="muted">
            Monday to Friday. Granting an owner or security-admin role outside these hours raises an alert; access from outside
            the allow-list always does.
          </p>
          <div class="form--inline">
            <Field
              name="businessHoursStart"
              label="From (hour)"
              value={v.businessHoursStart}
              error={errors?.businessHoursStart}
              hint="0–23"
              required
            />
            <Field
              name="businessHoursEnd"
              label="Until (hour)"
              value={v.businessHoursEnd}
              error={errors?.businessHoursEnd}
              hint="1–24, not included"
              required
            />
            <Field
              name="timeZone"
              label="Time zone"
              value={v.timeZone}
              error={errors?.timeZone}
              hint="For example UTC or Europe/Berlin."
              required
            />
          </div>
        </section>
        <section class="panel" aria-labelledby="contacts-title">
          <h2 id="contacts-title" class="panel__title">
            Security contacts
          </h2>
          <div class={errors?.contacts ? 'field field--invalid' : 'field'}>
            <label for="field-contacts">Send alert mail to</label>
            <p class="field__hint" id="field-contacts-hint">
              One address a line. Leave empty to use the owners and the public security contact
              {view.defaultContacts.length > 0 ? ` (now ${view.defaultContacts.join(', ')})` : ''}.
            </p>
            <textarea
              id="field-contacts"
              name="contacts"
              aria-invalid={errors?.contacts ? 'true' : undefined}
              aria-describedby={errors?.contacts ? 'field-contacts-hint field-contacts-error' : 'field-contacts-hint'}
            >
              {v.contacts ?? ''}
            </textarea>
            {errors?.contacts ? (
              <p class="field__error" id="field-contacts-error">
                {errors.contacts}
              </p>
            ) : null}
          </div>
        </section>
        {canManage ? (
          <SubmitButton label="Save settings" />
        ) : (
          <p class="muted">Changing these settings needs the permission alerts.manage.</p>
        )}
      </Form>
    </>
  );
}
