import type { Child } from 'hono/jsx';
import { PageHeader } from '../../../platform/ui/components.tsx';
import type { WorkspaceSummary } from '../service.ts';

/** Pages the person may open: links to others would only lead to a refusal. */
export interface DashboardLinks {
  outbox: boolean;
  tokens: boolean;
}

function LinkIf({ when, href, children }: { when: boolean; href: string; children: Child }) {
  return when ? <a href={href}>{children}</a> : <span>{children}</span>;
}

export function DashboardView({ summary, links }: { summary: WorkspaceSummary; links: DashboardLinks }) {
  return (
    <>
      <PageHeader
        title={`Welcome to ${summary.tenantName}`}
        description="The back office behind your Trust Center: every public promise is backed here by a working control."
      />
      <ul class="stat-grid">
        <li class="stat">
          <span class="stat__label">Database</span>
          <span class="stat__value">{summary.engine === 'pglite' ? 'Embedded' : 'PostgreSQL'}</span>
          <span class="stat__note">{summary.engine === 'pglite' ? 'PGlite in the data directory' : 'External server'}</span>
        </li>
        <li class="stat">
          <span class="stat__label">Mail</span>
          <span class="stat__value">{summary.mailMode === 'smtp' ? 'SMTP' : 'Kept as files'}</span>
          <span class="stat__note">
            <LinkIf when={links.outbox} href="/admin/outbox">
              {summary.messages} message{summary.messages === 1 ? '' : 's'} in the outbox
            </LinkIf>
          </span>
        </li>
        <li class="stat">
          <span class="stat__label">API tokens</span>
          <span class="stat__value">{summary.activeTokens}</span>
          <span class="stat__note">
            <LinkIf when={links.tokens} href="/admin/api-tokens">
              active
            </LinkIf>
          </span>
        </li>
        <li class="stat">
          <span class="stat__label">Public site</span>
          <span class="stat__value">{summary.hosts[0] ?? 'Any host'}</span>
          <span class="stat__note">
            <a href="/">Open the Trust Center</a>
          </span>
        </li>
      </ul>
      <section class="panel" aria-labelledby="next-title">
        <h2 id="next-title" class="panel__title">
          Next steps
        </h2>
        <ol class="checklist">
          <li>
            Configure outgoing mail with <code>SMTP_URL</code> so invitations and notices reach people; until then they wait in
            the{' '}
            <LinkIf when={links.outbox} href="/admin/outbox">
              outbox
            </LinkIf>
            .
          </li>
          <li>
            While this is the only workspace it answers on any host name. To serve another company from this installation, run{' '}
            <code>candor tenant create --slug … --name … --host …</code> with the host name that company’s Trust Center will use.
          </li>
          <li>
            Create an{' '}
            <LinkIf when={links.tokens} href="/admin/api-tokens">
              API token
            </LinkIf>{' '}
            for automation; the API is described at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.
          </li>
        </ol>
      </section>
    </>
  );
}
