import { Badge, type FieldErrors, Form, PageHeader, SubmitButton, Table, Time } from '../../../platform/ui/components.tsx';
import { ALLOWLIST_TITLES, type Allowlist, type AllowlistEntry, type AllowlistName } from '../schema.ts';
import { entriesContain, entriesToText } from '../service.ts';

/** A form sent back with errors: which list, what was typed, what is wrong. */
export interface FormState {
  list: AllowlistName;
  values: Record<string, string>;
  errors: FieldErrors;
  message?: string | undefined;
}

export interface AllowlistsPageProps {
  lists: Allowlist[];
  yourAddress: string;
  canManage: boolean;
  csrfToken: string;
  form?: FormState | undefined;
}

const SURFACES: Record<AllowlistName, string> = {
  admin: '/admin: every back-office page, the sign-in page included',
  api: '/api/v1: every call of the JSON API',
};

function YourAddress({ list, address }: { list: Allowlist; address: string }) {
  const inside = entriesContain(list.entries, address);
  return (
    <p>
      Your address is <code>{address}</code>:{' '}
      {inside ? (
        <Badge tone="success">inside this list</Badge>
      ) : (
        <Badge tone={list.enabled ? 'danger' : 'warning'}>not in this list</Badge>
      )}
    </p>
  );
}

function EntriesTable({ list }: { list: Allowlist }) {
  return (
    <Table
      caption={`Entries of the ${ALLOWLIST_TITLES[list.list]} allow-list`}
      rows={list.entries}
      columns={[
        { header: 'Range', cell: (e: AllowlistEntry) => <code>{e.cidr}</code> },
        { header: 'Label', cell: (e: AllowlistEntry) => e.label || <span class="muted">—</span> },
      ]}
      empty={<p class="muted">No entries.</p>}
    />
  );
}

function EditForm({ list, csrfToken, form }: { list: Allowlist; csrfToken: string; form?: FormState | undefined }) {
  const mine = form?.list === list.list ? form : undefined;
  const errors = mine?.errors ?? {};
  const enabled = mine ? mine.values.enabled === 'on' : list.enabled;
  const text = mine ? (mine.values.entries ?? '') : entriesToText(list.entries);
  const id = `field-entries-${list.list}`;
  return (
    <Form action={`/admin/ip-allowlists/${list.list}`} csrfToken={csrfToken} errors={errors} error={mine?.message}>
      <div class="field">
        <label for={`field-enabled-${list.list}`}>State</label>
        <select id={`field-enabled-${list.list}`} name="enabled">
          <option value="off" selected={!enabled}>
            off: every address is let in
          </option>
          <option value="on" selected={enabled}>
            on: only the ranges below are let in
          </option>
        </select>
      </div>
      <div class={errors.entries ? 'field field--invalid' : 'field'}>
        <label for={id}>Entries</label>
        <p class="field__hint" id={`${id}-hint`}>
          One a line: an IPv4 or IPv6 address or CIDR range, then a label. For example <code>203.0.113.0/24 Berlin office</code>{' '}
          or <code>2001:db8::/32 VPN</code>. A bare address means that address alone.
        </p>
        <textarea
          id={id}
          name="entries"
          rows={6}
          aria-invalid={errors.entries ? 'true' : undefined}
          aria-describedby={errors.entries ? `${id}-hint ${id}-error` : `${id}-hint`}
        >
          {text}
        </textarea>
        {errors.entries ? (
          <p class="field__error" id={`${id}-error`}>
            {errors.entries}
          </p>
        ) : null}
      </div>
      <SubmitButton label={`Save the ${ALLOWLIST_TITLES[list.list]} list`} />
    </Form>
  );
}

function ListPanel(props: { list: Allowlist } & Omit<AllowlistsPageProps, 'lists'>) {
  const { list, yourAddress, canManage, csrfToken, form } = props;
  const title = `${ALLOWLIST_TITLES[list.list][0]?.toUpperCase()}${ALLOWLIST_TITLES[list.list].slice(1)}`;
  return (
    <section class="panel" aria-labelledby={`list-${list.list}`}>
      <h2 id={`list-${list.list}`} class="panel__title">
        {title} {list.enabled ? <Badge tone="success">on</Badge> : <Badge tone="neutral">off</Badge>}
      </h2>
      <p class="muted">Guards {SURFACES[list.list]}.</p>
      <YourAddress list={list} address={yourAddress} />
      {list.updatedAt ? (
        <p class="muted small">
          Last changed <Time at={list.updatedAt} /> by {list.updatedBy ?? 'unknown'}.
        </p>
      ) : null}
      {canManage ? <EditForm list={list} csrfToken={csrfToken} form={form} /> : <EntriesTable list={list} />}
    </section>
  );
}

export function AllowlistsPage(props: AllowlistsPageProps) {
  return (
    <>
      <PageHeader
        title="IP allow-lists"
        description="Let the back office and the API be used only from the networks listed. Requests from elsewhere are refused (403) and recorded; the public Trust Center is never restricted. If you are ever locked out, run `candor allowlist disable --tenant SLUG --list admin` on the server."
      />
      {props.lists.map((list) => (
        <ListPanel list={list} {...props} />
      ))}
      {props.canManage ? null : <p class="muted">Changing these lists needs the permission settings.manage.</p>}
    </>
  );
}
