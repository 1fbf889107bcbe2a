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
import type { Campaign, ItemWithGrant, Reviewer, ReviewSettings } from '../service.ts';

function StatusBadge({ campaign }: { campaign: Campaign }) {
  if (campaign.status === 'closed') return <Badge tone="neutral">closed</Badge>;
  return campaign.overdue ? <Badge tone="danger">overdue</Badge> : <Badge tone="info">open</Badge>;
}

/** What became of an item: its decision and outcome, or why it waits. */
export function ItemStatus({ item }: { item: ItemWithGrant }) {
  if (item.decision === 'revoke') {
    return item.outcome === 'already_gone' ? (
      <Badge tone="neutral">revoke — grant already gone</Badge>
    ) : (
      <Badge tone="danger">revoked</Badge>
    );
  }
  if (item.decision === 'keep') {
    return item.grantPresent ? <Badge tone="success">kept</Badge> : <Badge tone="neutral">kept — grant since removed</Badge>;
  }
  if (!item.reviewerId) return <Badge tone="warning">no reviewer</Badge>;
  return item.grantPresent ? <Badge tone="info">undecided</Badge> : <Badge tone="neutral">undecided — grant already gone</Badge>;
}

interface ReviewerSelectProps {
  id: string;
  reviewers: Reviewer[];
  selected?: string | undefined;
  label: string;
  empty?: string;
}

/** A choice among the people who may review (`reviewerId`); several on one page need distinct ids. */
function ReviewerSelect({ id, reviewers, selected, label, empty }: ReviewerSelectProps) {
  return (
    <>
      <label for={id}>{label}</label>
      <select id={id} name="reviewerId">
        {empty ? <option value="">{empty}</option> : null}
        {reviewers.map((r) => (
          <option value={r.id} selected={selected === r.id}>
            {r.name} ({r.email})
          </option>
        ))}
      </select>
    </>
  );
}

export interface ReviewsListProps {
  campaigns: Campaign[];
  settings: ReviewSettings;
  reviewers: Reviewer[];
  canManage: boolean;
  csrfToken: string;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

export function ReviewsListView({
  campaigns,
  settings,
  reviewers,
  canManage,
  csrfToken,
  values = {},
  errors = {},
}: ReviewsListProps) {
  return (
    <>
      <PageHeader
        title="Access reviews"
        description="Campaigns in which reviewers keep or revoke every role each person holds. Nobody reviews their own access; a revoke applies at once."
        actions={
          <a class="button button--secondary" href="/admin/access-reviews/mine">
            My reviews
          </a>
        }
      />
      <Table
        caption="Access review campaigns"
        rows={campaigns}
        columns={[
          { header: 'Campaign', cell: (c: Campaign) => <a href={`/admin/access-reviews/${c.id}`}>{c.name}</a> },
          {
            header: 'Started by',
            cell: (c: Campaign) => (c.trigger === 'schedule' ? 'the quarterly schedule' : c.startedByLabel),
          },
          { header: 'Started', cell: (c: Campaign) => <Time at={c.startedAt} />, numeric: true },
          { header: 'Due', cell: (c: Campaign) => <Time at={c.dueAt} />, numeric: true },
          { header: 'Status', cell: (c: Campaign) => <StatusBadge campaign={c} /> },
          {
            header: 'Decided',
            cell: (c: Campaign) => `${c.counts.total - c.counts.undecided} of ${c.counts.total}`,
            numeric: true,
          },
        ]}
        empty={<EmptyState title="No campaign yet">The first one starts with the next quarter, or start one now.</EmptyState>}
      />
      {canManage ? (
        <section class="panel" aria-labelledby="start-title">
          <h2 id="start-title" class="panel__title">
            Start a campaign
          </h2>
          <Form action="/admin/access-reviews" csrfToken={csrfToken} errors={errors} error={errors._}>
            <Field
              name="name"
              label="Name"
              value={values.name}
              error={errors.name}
              hint="Empty: “Access review” and today’s date."
            />
            <Field name="dueInDays" label="Due in (days)" value={values.dueInDays ?? '14'} error={errors.dueInDays} required />
            <div class={errors.reviewerId ? 'field field--invalid' : 'field'}>
              <ReviewerSelect
                id="field-reviewerId"
                label="Reviewer"
                reviewers={reviewers}
                selected={values.reviewerId}
                empty="Spread over the administrators (default)"
              />
              {errors.reviewerId ? <p class="field__error">{errors.reviewerId}</p> : null}
            </div>
            <SubmitButton label="Start the campaign" />
          </Form>
        </section>
      ) : null}
      <section class="panel" aria-labelledby="schedule-title">
        <h2 id="schedule-title" class="panel__title">
          Schedule
        </h2>
        <p>
          {settings.scheduleEnabled
            ? 'A campaign starts on the first day of January, April, July and October (UTC), due 14 days later.'
            : 'The quarterly schedule is off: campaigns start only by hand.'}
          {settings.updatedBy ? (
            <span class="muted small">
              {' '}
              Last changed by {settings.updatedBy}, <Time at={settings.updatedAt} />.
            </span>
          ) : null}
        </p>
        {canManage ? (
          <Form action="/admin/access-reviews/settings" csrfToken={csrfToken}>
            <div class="field">
              <label for="field-scheduleEnabled">Quarterly campaigns</label>
              <select id="field-scheduleEnabled" name="scheduleEnabled">
                <option value="on" selected={settings.scheduleEnabled}>
                  on
                </option>
                <option value="off" selected={!settings.scheduleEnabled}>
                  off
                </option>
              </select>
            </div>
            <SubmitButton label="Save the schedule" />
          </Form>
        ) : null}
      </section>
    </>
  );
}

interface DecideProps {
  campaignId: string;
  item: ItemWithGrant;
  csrfToken: string;
  back: string;
}

/** Keep and revoke for one grant, with an optional note; revoking asks for confirmation first. */
export function DecideForm({ campaignId, item, csrfToken, back }: DecideProps) {
  return (
    <form method="post" action={`/admin/access-reviews/${campaignId}/items/${item.id}/decide`} class="inline-form decide-form">
      <input type="hidden" name="_csrf" value={csrfToken} />
      <input type="hidden" name="back" value={back} />
      <label class="visually-hidden" for={`note-${item.id}`}>
        Note on {item.subjectEmail}’s role {item.roleName}
      </label>
      <input id={`note-${item.id}`} name="note" type="text" placeholder="Note (optional)" maxlength={1000} />
      <button type="submit" name="decision" value="keep" class="button button--secondary button--small">
        Keep
      </button>
      <button
        type="submit"
        name="decision"
        value="revoke"
        class="button button--danger button--small"
        data-confirm={`Revoke the role “${item.roleName}” from ${item.subjectEmail}? It stops applying at once.`}
      >
        Revoke
      </button>
    </form>
  );
}

export interface CampaignViewProps {
  campaign: Campaign;
  items: ItemWithGrant[];
  ownItemsOnly: boolean;
  viewerId: string;
  reviewers: Reviewer[];
  /** Every reviewer with items in the campaign, for the filter. */
  filterOptions: { id: string; email: string }[];
  filter?: string | undefined;
  canManage: boolean;
  csrfToken: string;
  error?: string | undefined;
}

function Summary({ campaign }: { campaign: Campaign }) {
  const stat = (label: string, value: number) => (
    <li class="stat">
      <span class="stat__label">{label}</span>
      <span class="stat__value">{value}</span>
    </li>
  );
  return (
    <ul class="stat-grid">
      {stat('Grants', campaign.counts.total)}
      {stat('Kept', campaign.counts.kept)}
      {stat('Revoked', campaign.counts.revoked)}
      {stat('Undecided', campaign.counts.undecided)}
      {stat('Without reviewer', campaign.counts.flagged)}
    </ul>
  );
}

export function CampaignView(props: CampaignViewProps) {
  const { campaign, items, viewerId, reviewers, canManage, csrfToken } = props;
  const open = campaign.status === 'open';
  const back = `/admin/access-reviews/${campaign.id}${props.filter ? `?reviewer=${props.filter}` : ''}`;
  const actions: Child[] = [];
  if (campaign.status === 'closed') {
    actions.push(
      <a class="button button--secondary" href={`/admin/access-reviews/${campaign.id}/export.csv`}>
        Export CSV
      </a>,
      <a class="button button--secondary" href={`/admin/access-reviews/${campaign.id}/evidence`}>
        Printable evidence
      </a>,
    );
  }
  if (open && canManage) {
    actions.push(
      <form method="post" action={`/admin/access-reviews/${campaign.id}/close`} class="inline-form">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <button
          type="submit"
          class="button button--secondary"
          data-confirm={`Close “${campaign.name}”? ${campaign.counts.undecided} undecided item(s) stay undecided.`}
        >
          Close the campaign
        </button>
      </form>,
    );
  }
  return (
    <>
      <PageHeader
        title={campaign.name}
        description={`Started ${campaign.startedAt.toISOString().slice(0, 10)} by ${campaign.trigger === 'schedule' ? 'the quarterly schedule' : campaign.startedByLabel}; due ${campaign.dueAt.toISOString().slice(0, 10)}.`}
        actions={actions.length ? actions : undefined}
      />
      {props.error ? (
        <div class="form-errors" role="alert">
          <p>{props.error}</p>
        </div>
      ) : null}
      <p>
        <StatusBadge campaign={campaign} />
        {campaign.closedAt ? (
          <span class="muted small">
            {' '}
            Closed <Time at={campaign.closedAt} /> by {campaign.closedByLabel}.
          </span>
        ) : null}
      </p>
      <Summary campaign={campaign} />
      {props.ownItemsOnly ? (
        <p class="muted">You see the grants assigned to you.</p>
      ) : (
        <form
          method="get"
          action={`/admin/access-reviews/${campaign.id}`}
          class="form form--inline"
          aria-label="Filter by reviewer"
        >
          <div class="field">
            <label for="field-reviewer">Reviewer</label>
            <select id="field-reviewer" name="reviewer">
              <option value="">Everyone</option>
              {props.filterOptions.map((r) => (
                <option value={r.id} selected={props.filter === r.id}>
                  {r.email}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" class="button button--secondary button--small">
            Filter
          </button>
        </form>
      )}
      <Table
        caption="Grants under review"
        rows={items}
        columns={[
          {
            header: 'Person',
            cell: (i: ItemWithGrant) => (
              <>
                {i.subjectName}
                <br />
                <span class="muted small">{i.subjectEmail}</span>
              </>
            ),
          },
          { header: 'Role', cell: (i: ItemWithGrant) => i.roleName },
          {
            header: 'Reviewer',
            cell: (i: ItemWithGrant) =>
              i.reviewerEmail ?? (
                <span class="muted small" title={i.flag ?? undefined}>
                  none: {i.flag}
                </span>
              ),
          },
          {
            header: 'Decision',
            cell: (i: ItemWithGrant) => (
              <>
                <ItemStatus item={i} />
                {i.decidedAt ? (
                  <>
                    <br />
                    <span class="muted small">
                      {i.decidedByLabel}, <Time at={i.decidedAt} />
                    </span>
                  </>
                ) : null}
                {i.note ? (
                  <>
                    <br />
                    <span class="small">“{i.note}”</span>
                  </>
                ) : null}
              </>
            ),
          },
          {
            header: 'Actions',
            cell: (i: ItemWithGrant) => (
              <>
                {open && i.reviewerId === viewerId && i.decision !== 'revoke' ? (
                  <DecideForm campaignId={campaign.id} item={i} csrfToken={csrfToken} back={back} />
                ) : null}
                {open && canManage && !i.decision ? (
                  <form method="post" action={`/admin/access-reviews/${campaign.id}/items/${i.id}/reassign`} class="inline-form">
                    <input type="hidden" name="_csrf" value={csrfToken} />
                    <ReviewerSelect
                      id={`reassign-${i.id}`}
                      label="Reassign to"
                      reviewers={reviewers.filter((r) => r.id !== i.subjectId && r.id !== i.reviewerId)}
                    />
                    <button type="submit" class="button button--secondary button--small">
                      Reassign
                    </button>
                  </form>
                ) : null}
              </>
            ),
          },
        ]}
        empty={
          <EmptyState title="No grants here">
            Nobody held a role when the campaign started, or no item matches the filter.
          </EmptyState>
        }
      />
    </>
  );
}

export function MyReviewsView({
  items,
  csrfToken,
}: {
  items: (ItemWithGrant & { campaignName: string; dueAt: Date })[];
  csrfToken: string;
}) {
  return (
    <>
      <PageHeader
        title="My reviews"
        description="Grants waiting for your decision in open campaigns. Keep what people still need; revoke the rest."
      />
      <Table
        caption="Grants awaiting your decision"
        rows={items}
        columns={[
          {
            header: 'Campaign',
            cell: (i) => (
              <>
                <a href={`/admin/access-reviews/${i.campaignId}`}>{i.campaignName}</a>
                <br />
                <span class="muted small">
                  due <Time at={i.dueAt} />
                </span>
              </>
            ),
          },
          { header: 'Person', cell: (i) => `${i.subjectName} (${i.subjectEmail})` },
          { header: 'Role', cell: (i) => i.roleName },
          { header: 'Status', cell: (i) => <ItemStatus item={i} /> },
          {
            header: 'Decide',
            cell: (i) => (
              <DecideForm campaignId={i.campaignId} item={i} csrfToken={csrfToken} back="/admin/access-reviews/mine" />
            ),
          },
        ]}
        empty={<EmptyState title="Nothing to review">No open campaign has grants assigned to you.</EmptyState>}
      />
    </>
  );
}
