import {
  Badge,
  EmptyState,
  Field,
  type FieldErrors,
  Form,
  PageHeader,
  SecretShownOnce,
  SubmitButton,
  Table,
  Time,
} from '../../../platform/ui/components.tsx';
import type { DestinationInfo } from '../schema.ts';

export interface DestinationsViewProps {
  destinations: DestinationInfo[];
  head: number;
  csrfToken: string;
  /** Readers see the destinations; only those who may manage them get the controls and the add forms. */
  canManage: boolean;
  /** A webhook secret generated for a destination just added: shown in this response only. */
  created?: { name: string; secret: string } | undefined;
  /** Values and errors of the form that was just refused (its `kind` says which form). */
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

function target(d: DestinationInfo) {
  if (d.kind === 'webhook') return <code>{d.url}</code>;
  return (
    <>
      <code>
        {d.host}:{d.port}
      </code>{' '}
      {d.tls ? 'TLS' : <Badge tone="warning">plain TCP</Badge>}
    </>
  );
}

function state(d: DestinationInfo, head: number) {
  if (!d.enabled) return <Badge tone="neutral">disabled</Badge>;
  if (d.failures > 0) return <Badge tone="danger">failing</Badge>;
  if (d.cursor >= head) return <Badge tone="success">up to date</Badge>;
  return <Badge tone="info">{head - d.cursor} behind</Badge>;
}

function lastError(d: DestinationInfo) {
  if (!d.lastError) return <span class="muted">—</span>;
  return (
    <>
      <span>{d.lastError}</span>
      <br />
      <span class="muted">
        <Time at={d.lastErrorAt} />
        {d.failures > 0 ? `, ${d.failures} failed ${d.failures === 1 ? 'attempt' : 'attempts'} since the last success` : ''}
      </span>
    </>
  );
}

function ActionButton(props: { id: string; action: string; label: string; csrfToken: string; danger?: string }) {
  return (
    <form method="post" action={`/admin/siem/${props.id}/${props.action}`} class="inline-form">
      <input type="hidden" name="_csrf" value={props.csrfToken} />
      <button
        type="submit"
        class={props.danger ? 'button button--danger button--small' : 'button button--secondary button--small'}
        data-confirm={props.danger}
      >
        {props.label}
      </button>
    </form>
  );
}

function actions(d: DestinationInfo, csrfToken: string) {
  return (
    <>
      {d.enabled ? <ActionButton id={d.id} action="test" label="Send test event" csrfToken={csrfToken} /> : null}{' '}
      <ActionButton
        id={d.id}
        action={d.enabled ? 'disable' : 'enable'}
        label={d.enabled ? 'Disable' : 'Enable'}
        csrfToken={csrfToken}
      />{' '}
      <ActionButton
        id={d.id}
        action="delete"
        label="Delete"
        csrfToken={csrfToken}
        danger={`Delete the destination “${d.name}”? Events stop going there at once.`}
      />
    </>
  );
}

function StartAtField({ values }: { values?: Record<string, string> | undefined }) {
  const selected = values?.startAt ?? 'beginning';
  return (
    <div class="field">
      <label for={`field-startAt-${values?.kind ?? 'x'}`}>Forward</label>
      <select id={`field-startAt-${values?.kind ?? 'x'}`} name="startAt">
        <option value="beginning" selected={selected === 'beginning'}>
          the whole trail, from its first event
        </option>
        <option value="now" selected={selected === 'now'}>
          only events from now on
        </option>
      </select>
    </div>
  );
}

function SyslogForm({ csrfToken, values, errors }: { csrfToken: string; values: Record<string, string>; errors: FieldErrors }) {
  const tls = values.tls ?? 'on';
  return (
    <section class="panel" aria-labelledby="add-syslog-title">
      <h2 id="add-syslog-title" class="panel__title">
        Add a syslog receiver
      </h2>
      <p>RFC 5424 messages over TCP with octet-counted framing (RFC 6587), facility 13 (log audit).</p>
      <Form action="/admin/siem" csrfToken={csrfToken} errors={errors} class="form">
        <input type="hidden" name="kind" value="syslog" />
        <Field name="name" label="Name" value={values.name} error={errors.name} hint="For example “Splunk”." required />
        <Field name="host" label="Host" value={values.host} error={errors.host} hint="Host name or IP address." required />
        <Field
          name="port"
          label="Port"
          value={values.port ?? '6514'}
          error={errors.port}
          hint="6514 for TLS, often 514 or 601 for TCP."
          required
        />
        <div class="field">
          <label for="field-tls">Transport</label>
          <select id="field-tls" name="tls">
            <option value="on" selected={tls !== 'off'}>
              TLS (recommended)
            </option>
            <option value="off" selected={tls === 'off'}>
              plain TCP
            </option>
          </select>
        </div>
        <Field
          name="servername"
          label="TLS server name"
          value={values.servername}
          error={errors.servername}
          hint="Optional: the name on the receiver's certificate, when it differs from Host."
        />
        <div class={errors.caPem ? 'field field--invalid' : 'field'}>
          <label for="field-caPem">Trusted CA certificates</label>
          <p class="field__hint" id="field-caPem-hint">
            Optional: PEM certificates of a private CA; the system's CAs are used otherwise.
          </p>
          <textarea id="field-caPem" name="caPem" aria-describedby="field-caPem-hint" rows={4}>
            {values.caPem ?? ''}
          </textarea>
          {errors.caPem ? <p class="field__error">{errors.caPem}</p> : null}
        </div>
        <StartAtField values={{ ...values, kind: 'syslog' }} />
        <SubmitButton label="Add syslog receiver" />
      </Form>
    </section>
  );
}

function WebhookForm({ csrfToken, values, errors }: { csrfToken: string; values: Record<string, string>; errors: FieldErrors }) {
  return (
    <section class="panel" aria-labelledby="add-webhook-title">
      <h2 id="add-webhook-title" class="panel__title">
        Add a webhook
      </h2>
      <p>
        JSON batches POSTed to your URL, signed with HMAC-SHA256 in the <code>Candor-Signature</code> header.
      </p>
      <Form action="/admin/siem" csrfToken={csrfToken} errors={errors} class="form">
        <input type="hidden" name="kind" value="webhook" />
        <Field name="webhookName" label="Name" value={values.webhookName} error={errors.webhookName} required />
        <Field name="url" label="URL" type="url" value={values.url} error={errors.url} hint="https:// recommended." required />
        <Field
          name="secret"
          label="Signing secret"
          type="password"
          error={errors.secret}
          hint="Leave empty to have a strong one generated and shown once."
          autocomplete="off"
        />
        <StartAtField values={{ ...values, kind: 'webhook' }} />
        <SubmitButton label="Add webhook" />
      </Form>
    </section>
  );
}

export function DestinationsView({ destinations, head, csrfToken, canManage, created, values, errors }: DestinationsViewProps) {
  const syslogValues = values?.kind === 'syslog' ? values : {};
  const webhookValues = values?.kind === 'webhook' ? values : {};
  return (
    <>
      <PageHeader
        title="SIEM forwarding"
        description="Every audit event, forwarded in order to your SIEM. Each destination keeps its own position in the trail, so nothing is lost while a receiver is down: it catches up when it is back."
      />
      {created ? (
        <SecretShownOnce
          title={`Webhook “${created.name}” added`}
          instruction="Configure your receiver with this signing secret now: it will not be shown again."
          secret={created.secret}
        />
      ) : null}
      <p>
        The trail's newest event is <strong>seq {head}</strong>.
      </p>
      <Table
        caption="SIEM destinations"
        rows={destinations}
        columns={[
          { header: 'Name', cell: (d: DestinationInfo) => d.name },
          { header: 'Kind', cell: (d: DestinationInfo) => d.kind },
          { header: 'Receiver', cell: target },
          { header: 'State', cell: (d: DestinationInfo) => state(d, head) },
          { header: 'Forwarded through', cell: (d: DestinationInfo) => `seq ${d.cursor} of ${head}`, numeric: true },
          { header: 'Last delivery', cell: (d: DestinationInfo) => <Time at={d.lastSuccessAt} />, numeric: true },
          { header: 'Last error', cell: lastError },
          ...(canManage ? [{ header: 'Actions', cell: (d: DestinationInfo) => actions(d, csrfToken) }] : []),
        ]}
        empty={
          <EmptyState title="No destinations yet">
            {canManage
              ? 'Add a syslog receiver or a webhook below; the trail is forwarded from its first event.'
              : 'Nobody forwards the trail yet.'}
          </EmptyState>
        }
      />
      {canManage ? (
        <>
          <SyslogForm csrfToken={csrfToken} values={syslogValues} errors={values?.kind === 'syslog' ? (errors ?? {}) : {}} />
          <WebhookForm csrfToken={csrfToken} values={webhookValues} errors={values?.kind === 'webhook' ? (errors ?? {}) : {}} />
        </>
      ) : null}
    </>
  );
}
