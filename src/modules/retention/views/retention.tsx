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
import { describePeriod, findCategory } from '../categories.ts';
import type { RuleView, RunPage, RunRow } from '../service.ts';

const OUTCOME_TONES = {
  running: 'info',
  completed: 'success',
  held: 'warning',
  failed: 'danger',
  interrupted: 'warning',
} as const;

function OutcomeBadge({ outcome }: { outcome: string }) {
  return <Badge tone={OUTCOME_TONES[outcome as keyof typeof OUTCOME_TONES] ?? 'neutral'}>{outcome}</Badge>;
}

function Period({ days }: { days: number }) {
  const said = describePeriod(days);
  return <>{said === `${days} days` || said === '1 day' ? said : `${said} (${days} days)`}</>;
}

function categoryTitle(slug: string): string {
  return findCategory(slug)?.title ?? slug;
}

function RulesTable({ rules, canManage }: { rules: RuleView[]; canManage: boolean }) {
  return (
    <Table
      caption="Retention rules per data category"
      rows={rules}
      columns={[
        {
          header: 'Category',
          cell: (r: RuleView) => (
            <>
              <strong>{r.category.title}</strong>
              <br />
              <span class="muted small">{r.category.description}</span>
            </>
          ),
        },
        {
          header: 'Kept for',
          cell: (r: RuleView) => (
            <>
              <Period days={r.periodDays} /> {r.isDefault ? <Badge tone="neutral">default</Badge> : null}
            </>
          ),
        },
        {
          header: 'Minimum',
          cell: (r: RuleView) => (
            <>
              <Period days={r.category.minimum.days} />
              <br />
              <span class="muted small">{r.category.minimum.reason}</span>
            </>
          ),
        },
        {
          header: 'Purge',
          cell: (r: RuleView) =>
            r.held ? (
              <>
                <Badge tone="warning">on hold</Badge>
                <br />
                <span class="muted small">{r.holdReason}</span>
              </>
            ) : (
              <Badge tone="success">daily</Badge>
            ),
        },
        {
          header: 'Last run',
          cell: (r: RuleView) =>
            r.lastRun ? (
              <>
                <Time at={r.lastRun.startedAt} /> <OutcomeBadge outcome={r.lastRun.outcome} />
              </>
            ) : (
              <span class="muted">not yet</span>
            ),
        },
        { header: 'Deleted last run', cell: (r: RuleView) => (r.lastRun ? r.lastRun.deleted : '—'), numeric: true },
        ...(canManage
          ? [
              {
                header: 'Rule',
                cell: (r: RuleView) => (
                  <a href={`/admin/retention/rules/${r.category.slug}`} aria-label={`Edit the rule for ${r.category.title}`}>
                    Edit
                  </a>
                ),
              },
            ]
          : []),
      ]}
      empty={<EmptyState title="No categories">No capability keeps data under a retention rule yet.</EmptyState>}
    />
  );
}

function RunsTable({ page }: { page: RunPage }) {
  return (
    <>
      <Table
        caption="Deletion records, newest first"
        rows={page.runs}
        columns={[
          { header: 'Started', cell: (r: RunRow) => <Time at={r.startedAt} /> },
          { header: 'Category', cell: (r: RunRow) => categoryTitle(r.category) },
          { header: 'Rule', cell: (r: RunRow) => <Period days={r.periodDays} /> },
          { header: 'Older than', cell: (r: RunRow) => <Time at={r.cutoff} /> },
          { header: 'Deleted', cell: (r: RunRow) => r.deleted, numeric: true },
          { header: 'Batches', cell: (r: RunRow) => r.batches, numeric: true },
          {
            header: 'Outcome',
            cell: (r: RunRow) => (
              <>
                <OutcomeBadge outcome={r.outcome} />
                {r.error ? <span class="muted small"> {r.error}</span> : null}
              </>
            ),
          },
          { header: 'Finished', cell: (r: RunRow) => <Time at={r.finishedAt} /> },
          { header: 'Asked by', cell: (r: RunRow) => r.requestedBy },
        ]}
        empty={
          <EmptyState title="No purge has run yet">
            The purge runs every day at 03:15 UTC; each run leaves a record here for every category.
          </EmptyState>
        }
      />
      <Pager page={{ number: page.page, size: page.size, total: page.total }} baseUrl="/admin/retention" />
    </>
  );
}

export function RetentionPage({
  rules,
  runs,
  canManage,
  csrfToken,
}: {
  rules: RuleView[];
  runs: RunPage;
  canManage: boolean;
  csrfToken: string;
}) {
  const holds = rules.filter((r) => r.held);
  return (
    <>
      <PageHeader
        title="Retention"
        description="How long Candor keeps each kind of data. Every day at 03:15 UTC a purge deletes what is older than its rule, in small batches, and leaves a deletion record: the rule, the cutoff and how many rows went, never what they held."
        actions={
          canManage ? (
            <form method="post" action="/admin/retention/runs" class="inline-form">
              <input type="hidden" name="_csrf" value={csrfToken} />
              <button type="submit" class="button button--secondary">
                Run purge now
              </button>
            </form>
          ) : undefined
        }
      />
      {holds.length > 0 ? (
        <div class="flash flash--info" role="status">
          <p>
            Legal hold: nothing is purged from {holds.map((r) => r.category.title.toLowerCase()).join(', ')} until the hold is
            lifted.
          </p>
        </div>
      ) : null}
      <section class="panel" aria-labelledby="rules-title">
        <h2 id="rules-title" class="panel__title">
          Rules
        </h2>
        <RulesTable rules={rules} canManage={canManage} />
      </section>
      <section class="panel" aria-labelledby="runs-title">
        <h2 id="runs-title" class="panel__title">
          Deletion records
        </h2>
        <RunsTable page={runs} />
      </section>
    </>
  );
}

interface RuleFormProps {
  rule: RuleView;
  csrfToken: string;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

export function RuleEditPage({ rule, csrfToken, values, errors }: RuleFormProps) {
  const { category } = rule;
  const v = values ?? {
    periodDays: String(rule.periodDays),
    hold: rule.held ? 'hold' : 'purge',
    holdReason: rule.holdReason ?? '',
  };
  return (
    <>
      <PageHeader title={`Retention: ${category.title}`} description={category.description} />
      <dl class="details">
        <dt>Default</dt>
        <dd>
          <Period days={category.defaultDays} />
        </dd>
        <dt>Minimum</dt>
        <dd>
          <Period days={category.minimum.days} />. {category.minimum.reason}
        </dd>
        <dt>Last changed</dt>
        <dd>
          {rule.updatedAt ? (
            <>
              <Time at={rule.updatedAt} /> by {rule.updatedBy}
            </>
          ) : (
            'never: the default applies'
          )}
        </dd>
      </dl>
      <section class="panel" aria-labelledby="rule-form-title">
        <h2 id="rule-form-title" class="panel__title">
          Rule
        </h2>
        <Form action={`/admin/retention/rules/${category.slug}`} csrfToken={csrfToken} errors={errors}>
          <Field
            name="periodDays"
            label="Keep for (days)"
            value={v.periodDays}
            error={errors?.periodDays}
            hint={`At least ${category.minimum.days}. The default is ${category.defaultDays}.`}
            required
          />
          <div class={errors?.hold ? 'field field--invalid' : 'field'}>
            <label for="field-hold">Purge</label>
            <select id="field-hold" name="hold" aria-invalid={errors?.hold ? 'true' : undefined}>
              <option value="purge" selected={v.hold !== 'hold'}>
                Purge every day what is older than the rule
              </option>
              <option value="hold" selected={v.hold === 'hold'}>
                Hold: purge nothing (legal hold)
              </option>
            </select>
            {errors?.hold ? (
              <p class="field__error" id="field-hold-error">
                {errors.hold}
              </p>
            ) : null}
          </div>
          <div class={errors?.holdReason ? 'field field--invalid' : 'field'}>
            <label for="field-holdReason">Reason for the hold</label>
            <p class="field__hint" id="field-holdReason-hint">
              Needed while the data is held: the matter, case or request behind it. Shown on the retention page.
            </p>
            <textarea
              id="field-holdReason"
              name="holdReason"
              maxlength={500}
              aria-invalid={errors?.holdReason ? 'true' : undefined}
              aria-describedby={errors?.holdReason ? 'field-holdReason-hint field-holdReason-error' : 'field-holdReason-hint'}
            >
              {v.holdReason ?? ''}
            </textarea>
            {errors?.holdReason ? (
              <p class="field__error" id="field-holdReason-error">
                {errors.holdReason}
              </p>
            ) : null}
          </div>
          <SubmitButton label="Save rule" />{' '}
          <a class="button button--secondary" href="/admin/retention">
            Cancel
          </a>
        </Form>
      </section>
    </>
  );
}
