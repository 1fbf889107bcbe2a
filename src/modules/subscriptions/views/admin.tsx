import {
  Badge,
  EmptyState,
  Form,
  PageHeader,
  SecretShownOnce,
  SubmitButton,
  Table,
  Time,
} from '../../../platform/ui/components.tsx';
import { TOPIC_TITLE, TOPICS, type Topic } from '../schema.ts';
import type { EndpointInfo, SubscriptionSummary } from '../service.ts';
import type { DeliveryRow } from '../store.ts';

export interface SubscriptionsPageProps {
  summary: SubscriptionSummary;
  endpoints: EndpointInfo[];
  deliveries: DeliveryRow[];
  csrfToken: string;
  canManage: boolean;
  created?: { url: string; secret: string } | undefined;
  error?: string | undefined;
}

const STATE_TONE = { confirmed: 'success', pending: 'info', unsubscribed: 'neutral' } as const;
const DELIVERY_TONE = { delivered: 'success', pending: 'info', retrying: 'warning', failed: 'danger' } as const;

function topicsText(topics: string[]): string {
  return topics.map((t) => TOPIC_TITLE[t as Topic] ?? t).join(', ') || '—';
}

export function SubscriptionsPage(props: SubscriptionsPageProps) {
  const { summary, endpoints, deliveries } = props;
  return (
    <>
      <PageHeader title="Subscriptions" description="Who follows the Trust Center by email, and the webhooks it notifies." />
      {props.created ? (
        <SecretShownOnce
          title="Webhook added"
          instruction={`Give this signing secret to the receiver at ${props.created.url}; it is not shown again.`}
          secret={props.created.secret}
        />
      ) : null}
      <section class="section">
        <h2>Email subscribers</h2>
        <Table
          caption="Subscribers per topic"
          columns={[
            { header: 'Topic', cell: (r: SubscriptionSummary['topics'][number]) => TOPIC_TITLE[r.topic] },
            { header: 'Confirmed', cell: (r) => String(r.confirmed), numeric: true },
            { header: 'Awaiting confirmation', cell: (r) => String(r.pending), numeric: true },
          ]}
          rows={summary.topics}
          empty={null}
        />
        <Table
          caption="Subscribers"
          columns={[
            { header: 'Address', cell: (r: SubscriptionSummary['subscribers'][number]) => <code>{r.email}</code> },
            { header: 'State', cell: (r) => <Badge tone={STATE_TONE[r.state]}>{r.state}</Badge> },
            { header: 'Topics', cell: (r) => topicsText(r.topics) },
            { header: 'Since', cell: (r) => <Time at={r.createdAt} /> },
          ]}
          rows={summary.subscribers}
          empty={<EmptyState title="No subscribers yet">Visitors subscribe on the updates and sub-processor pages.</EmptyState>}
        />
      </section>
      <section class="section">
        <h2>Webhooks</h2>
        <Table
          caption="Webhook endpoints"
          columns={[
            { header: 'URL', cell: (e: EndpointInfo) => <code>{e.url}</code> },
            { header: 'Topics', cell: (e) => topicsText(e.topics) },
            {
              header: 'Added',
              cell: (e) => (
                <>
                  {e.createdBy}, <Time at={e.createdAt} />
                </>
              ),
            },
            {
              header: '',
              cell: (e) =>
                props.canManage ? (
                  <Form action={`/admin/subscriptions/webhooks/${e.id}/delete`} csrfToken={props.csrfToken} class="inline">
                    <SubmitButton label="Remove" variant="danger" />
                  </Form>
                ) : null,
            },
          ]}
          rows={endpoints}
          empty={<p class="muted">No webhook endpoints.</p>}
        />
        {props.canManage ? (
          <Form action="/admin/subscriptions/webhooks" csrfToken={props.csrfToken} error={props.error}>
            <div class="field">
              <label for="field-url">Endpoint URL</label>
              <input id="field-url" name="url" type="url" required />
            </div>
            <fieldset class="checks">
              <legend>Topics</legend>
              {TOPICS.map((t) => (
                <label class="check">
                  <input type="checkbox" name="topics" value={t} checked /> <span>{TOPIC_TITLE[t]}</span>
                </label>
              ))}
            </fieldset>
            <SubmitButton label="Add webhook" />
          </Form>
        ) : null}
        <h3>Delivery log</h3>
        <Table
          caption="Webhook deliveries"
          columns={[
            { header: 'When', cell: (d: DeliveryRow) => <Time at={d.createdAt} /> },
            { header: 'Endpoint', cell: (d) => <code>{endpoints.find((e) => e.id === d.endpointId)?.url ?? d.endpointId}</code> },
            { header: 'Topic', cell: (d) => TOPIC_TITLE[d.topic as Topic] ?? d.topic },
            { header: 'Status', cell: (d) => <Badge tone={DELIVERY_TONE[d.status]}>{d.status}</Badge> },
            { header: 'Attempts', cell: (d) => String(d.attempts), numeric: true },
            { header: 'Last error', cell: (d) => d.lastError ?? '—' },
          ]}
          rows={deliveries}
          empty={<p class="muted">Nothing delivered yet.</p>}
        />
      </section>
    </>
  );
}
