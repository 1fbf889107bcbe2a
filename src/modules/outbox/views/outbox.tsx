import type { OutboxRow } from '../../../platform/mail/store.ts';
import { Badge, EmptyState, PageHeader, Pager, Table, Time } from '../../../platform/ui/components.tsx';
import type { OutboxPage } from '../service.ts';

const TONES = { sent: 'success', kept: 'info', queued: 'warning', failed: 'danger' } as const;

function StatusBadge({ status }: { status: string }) {
  const tone = TONES[status as keyof typeof TONES] ?? 'neutral';
  return <Badge tone={tone}>{status}</Badge>;
}

export function OutboxListView({ page, smtpConfigured }: { page: OutboxPage; smtpConfigured: boolean }) {
  return (
    <>
      <PageHeader
        title="Outbox"
        description={
          smtpConfigured
            ? 'Every message Candor sends, with its delivery status. Failed deliveries are retried with backoff.'
            : 'No SMTP server is configured (SMTP_URL), so messages are kept as .eml files in the data directory instead of being sent. Open one to see exactly what would go out.'
        }
      />
      <Table
        caption="Outgoing messages"
        rows={page.messages}
        columns={[
          { header: 'Subject', cell: (m: OutboxRow) => <a href={`/admin/outbox/${m.id}`}>{m.subject}</a> },
          { header: 'To', cell: (m: OutboxRow) => m.to.join(', ') },
          { header: 'Status', cell: (m: OutboxRow) => <StatusBadge status={m.status} /> },
          { header: 'Created', cell: (m: OutboxRow) => <Time at={m.createdAt} />, numeric: true },
        ]}
        empty={
          <EmptyState title="No mail yet">
            Invitations, verification codes and notices appear here as soon as Candor writes them.
          </EmptyState>
        }
      />
      <Pager page={{ number: page.page, size: page.size, total: page.total }} baseUrl="/admin/outbox" />
    </>
  );
}

export function OutboxMessageView({ message }: { message: OutboxRow }) {
  return (
    <>
      <PageHeader
        title={message.subject}
        actions={
          message.emlPath ? (
            <a class="button button--secondary" href={`/admin/outbox/${message.id}/raw`}>
              Download .eml
            </a>
          ) : undefined
        }
      />
      <dl class="details">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={message.status} />
        </dd>
        <dt>To</dt>
        <dd>{message.to.join(', ')}</dd>
        <dt>Created</dt>
        <dd>
          <Time at={message.createdAt} />
        </dd>
        <dt>Delivered</dt>
        <dd>
          <Time at={message.sentAt} />
        </dd>
        <dt>Attempts</dt>
        <dd>{message.attempts}</dd>
        {message.lastError ? (
          <>
            <dt>Last error</dt>
            <dd class="text-danger">{message.lastError}</dd>
          </>
        ) : null}
      </dl>
      <section class="panel" aria-labelledby="body-title">
        <h2 id="body-title" class="panel__title">
          Message
        </h2>
        <pre class="mail-body">{message.text}</pre>
      </section>
    </>
  );
}
