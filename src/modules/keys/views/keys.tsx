import type { TenantKeyInfo } from '../../../platform/crypto/keyring.ts';
import { Badge, EmptyState, PageHeader, Table, Time } from '../../../platform/ui/components.tsx';
import type { HolderStatus, KeysOverview } from '../schema.ts';

export interface KeysViewProps {
  overview: KeysOverview;
  csrfToken: string;
  /** Owners and security admins see the rotate button; auditors only read. */
  canRotate: boolean;
}

function purposeLabel(key: TenantKeyInfo) {
  return key.purpose === 'data' ? 'Data (fields and files)' : 'Blind index';
}

function stateBadge(key: TenantKeyInfo) {
  return key.state === 'active' ? <Badge tone="success">active</Badge> : <Badge tone="neutral">retired, decrypt only</Badge>;
}

function progressCell(holder: HolderStatus) {
  const current = holder.total - holder.stale;
  if (holder.total === 0) return <span class="muted">no values yet</span>;
  return (
    <>
      <progress max={holder.total} value={current} aria-label={`${holder.name}: ${current} of ${holder.total} current`} />{' '}
      {current} of {holder.total}
    </>
  );
}

function holderState(holder: HolderStatus) {
  if (holder.stale === 0) return <Badge tone="success">up to date</Badge>;
  return <Badge tone="info">{holder.stale} to re-encrypt</Badge>;
}

function RotateForm({ csrfToken }: { csrfToken: string }) {
  return (
    <form method="post" action="/admin/keys/rotate" class="inline-form">
      <input type="hidden" name="_csrf" value={csrfToken} />
      <button
        type="submit"
        class="button button--primary"
        data-confirm="Rotate the data key? New writes use the new version at once; stored values are re-encrypted in the background."
      >
        Rotate data key
      </button>
    </form>
  );
}

export function KeysView({ overview, csrfToken, canRotate }: KeysViewProps) {
  const { master, tenant } = overview;
  return (
    <>
      <PageHeader
        title="Encryption keys"
        description="Confidential fields and files are encrypted with AES-256-GCM under this organisation’s own data key, which is itself wrapped by the install’s master key. Rotating the data key makes new writes use a new version at once; older values keep working and are re-encrypted in the background."
        actions={canRotate ? <RotateForm csrfToken={csrfToken} /> : undefined}
      />
      <section class="panel" aria-labelledby="master-title">
        <h2 id="master-title" class="panel__title">
          Master key
        </h2>
        <dl class="details">
          <dt>Key id</dt>
          <dd>
            <code>{master.id}</code> <span class="muted">(a fingerprint; the key itself is never shown)</span>
          </dd>
          <dt>Source</dt>
          <dd>
            <code>{master.source}</code>
          </dd>
          <dt>Active data key</dt>
          <dd>
            {tenant.activeVersion === null ? (
              <span class="muted">none yet (made on first use)</span>
            ) : (
              `version ${tenant.activeVersion}`
            )}
          </dd>
          <dt>Re-encryption</dt>
          <dd>
            {tenant.stale === 0 ? (
              <Badge tone="success">nothing pending</Badge>
            ) : (
              <Badge tone="info">{tenant.stale} value(s) still under older versions or in clear</Badge>
            )}
          </dd>
        </dl>
      </section>
      <h2>Key versions</h2>
      <Table
        caption="Tenant key versions"
        rows={tenant.keys}
        columns={[
          { header: 'Purpose', cell: purposeLabel },
          { header: 'Version', cell: (k: TenantKeyInfo) => `v${k.version}`, numeric: true },
          { header: 'State', cell: stateBadge },
          { header: 'Wrapped by', cell: (k: TenantKeyInfo) => <code>{k.masterKeyId}</code> },
          { header: 'Created', cell: (k: TenantKeyInfo) => <Time at={k.createdAt} />, numeric: true },
          { header: 'Retired', cell: (k: TenantKeyInfo) => <Time at={k.retiredAt} />, numeric: true },
        ]}
        empty={
          <EmptyState title="No keys yet">This organisation’s keys are made the first time something is encrypted.</EmptyState>
        }
      />
      <h2>Encrypted data</h2>
      <Table
        caption="Encrypted columns and stores"
        rows={tenant.holders}
        columns={[
          { header: 'Where', cell: (h: HolderStatus) => <code>{h.name}</code> },
          { header: 'Under the active version', cell: progressCell },
          { header: 'State', cell: holderState },
        ]}
        empty={<EmptyState title="Nothing encrypted is registered" />}
      />
    </>
  );
}
