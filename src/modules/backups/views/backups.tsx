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
import { formatBytes } from '../backup.ts';
import type { BackupHealth, BackupSettings } from '../schema.ts';
import { BACKUPS_PAGE_SIZE, type BackupEventRow, type BackupRow, type BackupsOverview } from '../service.ts';

const STATUS_TONES = { queued: 'info', running: 'info', ok: 'success', failed: 'danger', deleted: 'neutral' } as const;
const CHECK_TONES = { ok: 'success', mismatch: 'danger', missing: 'danger', failed: 'warning' } as const;

function HealthBanner({ health }: { health: BackupHealth }) {
  if (health.state === 'failing') {
    return (
      <div class="flash flash--error" role="alert">
        <p>Backups need attention:</p>
        <ul>
          {health.problems.map((p) => (
            <li>{p}</li>
          ))}
        </ul>
      </div>
    );
  }
  if (health.state === 'none') {
    return (
      <section class="panel" aria-labelledby="backup-health">
        <h2 id="backup-health" class="panel__title">
          No backup yet
        </h2>
        <p>The first scheduled backup runs at 02:30 UTC; “Back up now” takes one at once.</p>
      </section>
    );
  }
  return (
    <section class="panel panel--success" aria-labelledby="backup-health">
      <h2 id="backup-health" class="panel__title">
        Backups are healthy
      </h2>
      <p>
        The latest backup succeeded at <Time at={health.lastSuccessAt ? new Date(health.lastSuccessAt) : null} />; no stored
        backup has failed a verification (the history shows which have been verified).
      </p>
    </section>
  );
}

function Check({ status, at, detail }: { status: string | null; at: Date | null; detail: string | null }) {
  if (!status) return <span class="muted">not yet</span>;
  return (
    <>
      <Badge tone={CHECK_TONES[status as keyof typeof CHECK_TONES] ?? 'neutral'}>{status}</Badge> <Time at={at} />
      {status !== 'ok' && detail ? (
        <>
          <br />
          <span class="small">{detail}</span>
        </>
      ) : null}
    </>
  );
}

function Outcome({ row }: { row: BackupRow }) {
  return (
    <>
      <Badge tone={STATUS_TONES[row.status]}>{row.status}</Badge>
      {row.error ? (
        <>
          <br />
          <span class="small">{row.error}</span>
        </>
      ) : null}
      {row.warnings.length > 0 ? (
        <>
          <br />
          <span class="small">
            {row.warnings.length} warning(s): {row.warnings[0]}
          </span>
        </>
      ) : null}
    </>
  );
}

function ActionButton({ action, label, csrfToken }: { action: string; label: string; csrfToken: string }) {
  return (
    <form method="post" action={action} class="inline-form">
      <input type="hidden" name="_csrf" value={csrfToken} />
      <button type="submit" class="button button--secondary">
        {label}
      </button>
    </form>
  );
}

function History({ overview, page }: { overview: BackupsOverview; page: number }) {
  return (
    <section aria-labelledby="backup-history">
      <h2 id="backup-history">History</h2>
      <Table
        caption="Backups, newest first"
        rows={overview.backups}
        columns={[
          { header: 'Started', cell: (r: BackupRow) => <Time at={r.createdAt} /> },
          { header: 'Status', cell: (r: BackupRow) => <Outcome row={r} /> },
          { header: 'By', cell: (r: BackupRow) => r.requestedBy ?? r.trigger },
          { header: 'Size', cell: (r: BackupRow) => (r.size === null ? '—' : formatBytes(r.size)), numeric: true },
          { header: 'Location', cell: (r: BackupRow) => (r.location ? <code>{r.location}</code> : <code>{r.destination}</code>) },
          {
            header: 'Verified',
            cell: (r: BackupRow) => <Check status={r.verifyStatus} at={r.verifiedAt} detail={r.verifyDetail} />,
          },
          { header: 'Drill', cell: (r: BackupRow) => <Check status={r.drillStatus} at={r.drillAt} detail={r.drillDetail} /> },
        ]}
        empty={
          <EmptyState title="No backups yet">
            Backups appear here as they are taken, with their verification and drills.
          </EmptyState>
        }
      />
      <Pager page={{ number: page, size: BACKUPS_PAGE_SIZE, total: overview.total }} baseUrl="/admin/backups" />
    </section>
  );
}

function Events({ events }: { events: BackupEventRow[] }) {
  if (events.length === 0) return null;
  return (
    <section aria-labelledby="backup-events">
      <h2 id="backup-events">Recent activity</h2>
      <Table
        caption="Backups, verifications, drills and retention, newest first"
        rows={events}
        columns={[
          { header: 'Time', cell: (e: BackupEventRow) => <Time at={e.at} /> },
          { header: 'What', cell: (e: BackupEventRow) => e.kind },
          {
            header: 'Outcome',
            cell: (e: BackupEventRow) => <Badge tone={e.outcome === 'ok' ? 'success' : 'danger'}>{e.outcome}</Badge>,
          },
          { header: 'Detail', cell: (e: BackupEventRow) => e.detail },
        ]}
        empty={null}
      />
    </section>
  );
}

export interface SettingsFormProps {
  settings: BackupSettings;
  defaultDestination: string;
  csrfToken: string;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

function SettingsForm({ settings, defaultDestination, csrfToken, values, errors = {} }: SettingsFormProps) {
  const v = values ?? {
    ownerEmail: settings.ownerEmail ?? '',
    destination: settings.destination ?? '',
    scheduleEnabled: settings.scheduleEnabled ? 'on' : 'off',
    keepDaily: String(settings.keepDaily),
    keepMonthly: String(settings.keepMonthly),
  };
  return (
    <section class="panel" aria-labelledby="backup-settings">
      <h2 id="backup-settings" class="panel__title">
        Settings
      </h2>
      <Form action="/admin/backups/settings" csrfToken={csrfToken} errors={errors}>
        <Field
          name="ownerEmail"
          label="Backup owner"
          type="email"
          value={v.ownerEmail}
          error={errors.ownerEmail}
          hint="Who is mailed when a backup fails, goes missing or stops verifying. Empty: this workspace's owners."
        />
        <Field
          name="destination"
          label="Destination"
          value={v.destination}
          error={errors.destination}
          hint={`An absolute directory or s3://bucket/prefix. Empty: ${defaultDestination}. Keep backups off the machine they protect.`}
        />
        <div class={errors.scheduleEnabled ? 'field field--invalid' : 'field'}>
          <label for="field-scheduleEnabled">Daily backup</label>
          <select id="field-scheduleEnabled" name="scheduleEnabled">
            <option value="on" selected={v.scheduleEnabled !== 'off'}>
              on, every day at 02:30 UTC
            </option>
            <option value="off" selected={v.scheduleEnabled === 'off'}>
              off
            </option>
          </select>
        </div>
        <Field
          name="keepDaily"
          label="Daily backups to keep"
          value={v.keepDaily}
          error={errors.keepDaily}
          hint="The newest backup of each of this many days."
          required
        />
        <Field
          name="keepMonthly"
          label="Monthly backups to keep"
          value={v.keepMonthly}
          error={errors.keepMonthly}
          hint="The newest backup of each of this many months; 0 for none."
          required
        />
        <SubmitButton label="Save settings" />
      </Form>
    </section>
  );
}

export interface BackupsViewProps {
  overview: BackupsOverview;
  page: number;
  canManage: boolean;
  /** "Verify now" changes nothing: auditors hold it without being able to run backups. */
  canVerify: boolean;
  csrfToken: string;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

export function BackupsView({ overview, page, canManage, canVerify, csrfToken, values, errors }: BackupsViewProps) {
  if (!overview.managedHere) {
    return (
      <>
        <PageHeader
          title="Backups"
          description="Backups cover the whole installation: every workspace, its files and its settings."
        />
        <HealthBanner health={overview.health} />
        <p>
          They are managed in the workspace “{overview.managedIn ?? 'created first'}”: its owners set the destination and
          schedule, and see the history.
        </p>
      </>
    );
  }
  return (
    <>
      <PageHeader
        title="Backups"
        description="Encrypted backups of the whole installation: the database, every stored file and kept mail, checked daily and restored into a scratch database every month."
        actions={
          canManage || canVerify ? (
            <>
              {canManage ? <ActionButton action="/admin/backups/run" label="Back up now" csrfToken={csrfToken} /> : null}
              {canVerify ? <ActionButton action="/admin/backups/verify" label="Verify now" csrfToken={csrfToken} /> : null}
            </>
          ) : undefined
        }
      />
      <HealthBanner health={overview.health} />
      <dl class="details">
        <dt>Destination</dt>
        <dd>
          <code>{overview.destination}</code>
        </dd>
        <dt>Schedule</dt>
        <dd>
          {overview.settings?.scheduleEnabled
            ? 'daily at 02:30 UTC; verification daily at 04:30 UTC'
            : 'off (verification still runs daily at 04:30 UTC)'}
        </dd>
        <dt>Retention</dt>
        <dd>
          {overview.settings?.keepDaily} daily and {overview.settings?.keepMonthly} monthly backups
        </dd>
        <dt>Restore drill</dt>
        <dd>on the 1st of every month at 05:00 UTC</dd>
      </dl>
      <History overview={overview} page={page} />
      <Events events={overview.events} />
      {canManage && overview.settings ? (
        <SettingsForm
          settings={overview.settings}
          defaultDestination={overview.defaultDestination ?? ''}
          csrfToken={csrfToken}
          values={values}
          errors={errors}
        />
      ) : null}
    </>
  );
}
