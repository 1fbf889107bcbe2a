import { Badge, EmptyState, Form, PageHeader, SubmitButton, Table, Time } from '../../../platform/ui/components.tsx';
import { TOPIC_LABEL } from '../schema.ts';
import type { ContactMessage } from '../service.ts';

export function ContactMessagesPage({ messages }: { messages: ContactMessage[] }) {
  return (
    <>
      <PageHeader title="Contact messages" description="Messages sent through the Trust Center's contact form." />
      <Table
        caption="Contact messages"
        columns={[
          { header: 'Received', cell: (m: ContactMessage) => <Time at={m.createdAt} /> },
          { header: 'Topic', cell: (m) => TOPIC_LABEL[m.topic] },
          { header: 'From', cell: (m) => <a href={`/admin/contact/${m.id}`}>{m.name}</a> },
          { header: 'Routed to', cell: (m) => m.routedTo ?? <span class="muted">not mailed (no address)</span> },
          {
            header: 'State',
            cell: (m) => (m.handledAt ? <Badge tone="success">handled</Badge> : <Badge tone="warning">open</Badge>),
          },
        ]}
        rows={messages}
        empty={<EmptyState title="No messages yet">Visitors write from the Trust Center's contact page.</EmptyState>}
      />
    </>
  );
}

export function ContactMessagePage({
  message,
  csrfToken,
  canHandle,
}: {
  message: ContactMessage;
  csrfToken: string;
  canHandle: boolean;
}) {
  return (
    <>
      <PageHeader title={`${TOPIC_LABEL[message.topic]} message from ${message.name}`} />
      <dl class="details">
        <dt>From</dt>
        <dd>
          {message.name} &lt;<a href={`mailto:${message.email}`}>{message.email}</a>&gt;
        </dd>
        <dt>Received</dt>
        <dd>
          <Time at={message.createdAt} />
        </dd>
        <dt>Routed to</dt>
        <dd>{message.routedTo ?? '—'}</dd>
        <dt>State</dt>
        <dd>
          {message.handledAt ? (
            <>
              handled by {message.handledBy}, <Time at={message.handledAt} />
            </>
          ) : (
            'open'
          )}
        </dd>
      </dl>
      <pre class="contact-message">{message.message}</pre>
      {canHandle && !message.handledAt ? (
        <Form action={`/admin/contact/${message.id}/handled`} csrfToken={csrfToken}>
          <SubmitButton label="Mark handled" />
        </Form>
      ) : null}
      <p>
        <a href="/admin/contact">All messages</a>
      </p>
    </>
  );
}
