import { DEFAULT_LOCALE, isLocale, LOCALE_NAMES, LOCALES, type Locale } from '../../../platform/i18n/locales.ts';
import { Badge, type FieldErrors, Form, PageHeader, SubmitButton, Table, Time } from '../../../platform/ui/components.tsx';
import type { CertificateFile } from '../certificates.ts';
import type { ExpiringCertification } from '../reminders.ts';
import { type FieldSpec, isPolicySection, type SectionSpec } from '../schema.ts';
import type { DiffLine, DraftView, SectionSummary } from '../service.ts';
import type { VersionRow } from '../store.ts';
import type { StoredDocument } from '../tables.ts';

/** A back-office address in a content language (`?locale=es`; English needs none). */
export function inLocale(url: string, locale: Locale): string {
  return locale === DEFAULT_LOCALE ? url : `${url}?locale=${locale}`;
}

/** Language names in the back office's own sentences (the picker names each language in itself). */
const IN_ENGLISH: Record<Locale, string> = { en: 'English', es: 'Spanish', tr: 'Turkish' };

/** Which language's content the page edits: plain links, the current one marked. */
function LocalePicker({ url, locale }: { url: string; locale: Locale }) {
  return (
    <nav class="button-row" aria-label="Content language">
      {LOCALES.map((l) => (
        <a
          class={`button button--small ${l === locale ? 'button--primary' : 'button--secondary'}`}
          href={inLocale(url, l)}
          lang={l}
          aria-current={l === locale ? 'true' : undefined}
        >
          {LOCALE_NAMES[l]}
        </a>
      ))}
    </nav>
  );
}

export interface Abilities {
  edit: boolean;
  publish: boolean;
  approve: boolean;
}

function ReviewBadge({ state }: { state: string }) {
  if (state === 'in_review') return <Badge tone="info">In review</Badge>;
  if (state === 'approved') return <Badge tone="success">Approved</Badge>;
  return <Badge tone="neutral">Draft</Badge>;
}

function StateBadge({ s }: { s: { publishedVersion: number | null; unpublishedChanges: boolean; showsEnglish?: boolean } }) {
  if (s.publishedVersion === null && s.showsEnglish) return <Badge tone="neutral">Shows English</Badge>;
  if (s.publishedVersion === null) return <Badge tone="warning">Not published</Badge>;
  if (s.unpublishedChanges) return <Badge tone="info">Unpublished changes</Badge>;
  return <Badge tone="success">Published v{s.publishedVersion}</Badge>;
}

/** A notice of published certifications near or past their valid-until, so renewals are not missed. */
function ExpiryNotice({ expiring }: { expiring: ExpiringCertification[] }) {
  if (expiring.length === 0) return null;
  return (
    <div class="flash flash--error" role="status">
      <div>
        <p>Certifications to renew</p>
        <ul>
          {expiring.map((c) => (
            <li>
              <a href="/admin/trust-center/certifications">{c.standard}</a>{' '}
              {c.daysLeft < 0
                ? `expired on ${c.validUntil}`
                : `expires on ${c.validUntil} (in ${c.daysLeft} day${c.daysLeft === 1 ? '' : 's'})`}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

export function SectionsPage({
  sections,
  can,
  locale,
  expiring = [],
}: {
  sections: SectionSummary[];
  can: Abilities;
  locale: Locale;
  expiring?: ExpiringCertification[];
}) {
  return (
    <>
      <PageHeader
        title="Trust Center"
        description="Edit each section as a draft, preview it, then publish. Policies are approved before they go out."
        actions={
          can.edit ? (
            <a class="button button--primary" href="/admin/trust-center/policies/new">
              New policy
            </a>
          ) : undefined
        }
      />
      <LocalePicker url="/admin/trust-center" locale={locale} />
      <ExpiryNotice expiring={expiring} />
      <Table
        caption={`Sections (${IN_ENGLISH[locale]})`}
        rows={sections}
        empty={<p>No sections.</p>}
        columns={[
          { header: 'Section', cell: (s) => <a href={inLocale(`/admin/trust-center/${s.section}`, locale)}>{s.title}</a> },
          { header: 'Kind', cell: (s) => (isPolicySection(s.section) ? 'Policy' : s.spec.title) },
          { header: 'State', cell: (s) => <StateBadge s={s} /> },
          {
            header: 'Review',
            cell: (s) => (isPolicySection(s.section) && s.draft ? <ReviewBadge state={s.draft.reviewState} /> : '—'),
          },
          { header: 'Last edit', cell: (s) => (s.draft ? <Time at={s.draft.updatedAt} /> : '—') },
        ]}
      />
      <p>
        <a href={locale === DEFAULT_LOCALE ? '/' : `/${locale}`} target="_blank" rel="noopener">
          Open the public Trust Center
        </a>
      </p>
    </>
  );
}

export interface FormState {
  values: StoredDocument;
  errors: FieldErrors;
  message?: string | undefined;
}

function sizeLabel(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A file field: the current file (kept through a hidden id), a chooser to replace it, a box to remove it. */
function FileInput({
  field,
  name,
  value,
  error,
  file,
}: {
  field: FieldSpec;
  name: string;
  value: string;
  error?: string | undefined;
  file: CertificateFile | undefined;
}) {
  const id = `field-${name.replace(/\./g, '-')}`;
  return (
    <div class={error ? 'field field--invalid' : 'field'}>
      <input type="hidden" name={name} value={value} />
      <label for={id}>{field.label}</label>
      {field.hint ? <p class="field__hint">{field.hint}</p> : null}
      {file ? (
        <p class="tc-file">
          <a href={`/admin/trust-center/files/${file.id}`}>{file.filename}</a> <span class="muted">({sizeLabel(file.size)})</span>{' '}
          <label class="inline">
            <input type="checkbox" name={`${name}Remove`} value="1" /> Remove
          </label>
        </p>
      ) : null}
      <input
        id={id}
        name={`${name}File`}
        type="file"
        accept="application/pdf,image/png,image/jpeg"
        aria-invalid={error ? 'true' : undefined}
      />
      {error ? <p class="field__error">{error}</p> : null}
    </div>
  );
}

function InputFor({ field, name, value, error }: { field: FieldSpec; name: string; value: string; error?: string | undefined }) {
  const id = `field-${name.replace(/\./g, '-')}`;
  const input =
    field.kind === 'markdown' ? (
      <textarea id={id} name={name} rows={field.name === 'body' ? 14 : 4} aria-invalid={error ? 'true' : undefined}>
        {value}
      </textarea>
    ) : (
      <input
        id={id}
        name={name}
        type={field.kind === 'date' ? 'date' : field.kind === 'email' ? 'email' : field.kind === 'url' ? 'url' : 'text'}
        value={value}
        aria-invalid={error ? 'true' : undefined}
      />
    );
  return (
    <div class={error ? 'field field--invalid' : 'field'}>
      <label for={id}>
        {field.label}
        {field.required ? <span aria-hidden="true"> *</span> : null}
        {field.kind === 'markdown' ? <span class="muted"> (Markdown)</span> : null}
      </label>
      {field.hint ? <p class="field__hint">{field.hint}</p> : null}
      {input}
      {error ? <p class="field__error">{error}</p> : null}
    </div>
  );
}

/** The editing form: top-level fields, then every item and a few blank rows (an emptied row is removed). */
export function DocumentForm({
  spec,
  action,
  csrfToken,
  doc,
  errors = {},
  message,
  submit,
  readOnly,
  files = new Map(),
}: {
  spec: SectionSpec;
  action: string;
  csrfToken: string;
  doc: StoredDocument;
  errors?: FieldErrors;
  message?: string | undefined;
  submit: string;
  readOnly: boolean;
  files?: Map<string, CertificateFile>;
}) {
  const rows = spec.items
    ? [...doc.items, ...Array.from({ length: spec.items.blankRows }, () => ({}) as Record<string, string>)]
    : [];
  const uploads = spec.items?.fields.some((f) => f.kind === 'file') ?? false;
  return (
    <Form
      action={action}
      csrfToken={csrfToken}
      errors={errors}
      error={message}
      {...(uploads ? { enctype: 'multipart/form-data' } : {})}
    >
      <fieldset disabled={readOnly}>
        {spec.fields.map((f) => (
          <InputFor field={f} name={`fields.${f.name}`} value={doc.fields[f.name] ?? ''} error={errors[`fields.${f.name}`]} />
        ))}
        {spec.items
          ? rows.map((item, i) => (
              <fieldset class="panel tc-item">
                <legend>
                  {spec.items?.label} {i + 1}
                  {i >= doc.items.length ? ' (new)' : ''}
                </legend>
                {spec.items?.fields.map((f) =>
                  f.kind === 'file' ? (
                    <FileInput
                      field={f}
                      name={`items.${i}.${f.name}`}
                      value={item[f.name] ?? ''}
                      error={errors[`items.${i}.${f.name}`]}
                      file={files.get(item[f.name] ?? '')}
                    />
                  ) : (
                    <InputFor
                      field={f}
                      name={`items.${i}.${f.name}`}
                      value={item[f.name] ?? ''}
                      error={errors[`items.${i}.${f.name}`]}
                    />
                  ),
                )}
              </fieldset>
            ))
          : null}
        {spec.items ? <p class="field__hint">Empty every field of an item to remove it. Save to get more blank rows.</p> : null}
        {readOnly ? null : <SubmitButton label={submit} />}
      </fieldset>
    </Form>
  );
}

function ActionButton({
  action,
  csrfToken,
  label,
  variant,
}: {
  action: string;
  csrfToken: string;
  label: string;
  variant?: 'primary';
}) {
  return (
    <form method="post" action={action} class="inline-form">
      <input type="hidden" name="_csrf" value={csrfToken} />
      <button type="submit" class={`button button--${variant ?? 'secondary'}`}>
        {label}
      </button>
    </form>
  );
}

export function EditSectionPage({
  view,
  title,
  versions,
  csrfToken,
  can,
  form,
  files,
}: {
  view: DraftView;
  title: string;
  versions: VersionRow[];
  csrfToken: string;
  can: Abilities;
  form?: FormState | undefined;
  files?: Map<string, CertificateFile>;
}) {
  const base = `/admin/trust-center/${view.section}`;
  const at = (url: string) => inLocale(url, view.locale);
  const policy = isPolicySection(view.section);
  const review = view.draft?.reviewState ?? 'draft';
  const publishable = view.draft !== undefined && view.unpublishedChanges && (!policy || review === 'approved');
  return (
    <>
      <PageHeader title={title} description={view.spec.description} />
      <LocalePicker url={base} locale={view.locale} />
      {view.translatingFrom ? (
        <p class="field__hint">
          No {IN_ENGLISH[view.locale]} version yet: the public page shows the English one. The form starts from the English text;
          save it as a {IN_ENGLISH[view.locale]} draft, then publish.
        </p>
      ) : null}
      <div class="panel">
        <p>
          <StateBadge s={view} /> {policy && view.draft ? <ReviewBadge state={review} /> : null}{' '}
          {view.draft ? (
            <span class="muted">
              Draft saved by {view.draft.updatedBy}, <Time at={view.draft.updatedAt} />
              {view.draft.approvedBy ? `; approved by ${view.draft.approvedBy}` : ''}
            </span>
          ) : null}
        </p>
        <div class="button-row">
          {view.draft ? (
            <a class="button button--secondary" href={at(`${base}/preview`)}>
              Preview
            </a>
          ) : null}
          {policy && can.edit && view.draft && review === 'draft' ? (
            <ActionButton action={at(`${base}/review`)} csrfToken={csrfToken} label="Ask for review" />
          ) : null}
          {policy && can.approve && review === 'in_review' ? (
            <ActionButton action={at(`${base}/approve`)} csrfToken={csrfToken} label="Approve" />
          ) : null}
          {can.publish && publishable ? (
            <ActionButton action={at(`${base}/publish`)} csrfToken={csrfToken} label="Publish" variant="primary" />
          ) : null}
        </div>
      </div>
      <DocumentForm
        spec={view.spec}
        action={at(base)}
        csrfToken={csrfToken}
        doc={form?.values ?? view.document}
        errors={form?.errors}
        message={form?.message}
        submit="Save draft"
        readOnly={!can.edit}
        {...(files ? { files } : {})}
      />
      <h2>Version history</h2>
      <VersionTable base={base} locale={view.locale} versions={versions} />
    </>
  );
}

function VersionTable({ base, locale, versions }: { base: string; locale: Locale; versions: VersionRow[] }) {
  return (
    <Table
      caption="Version history"
      rows={versions}
      empty={<p class="muted">Never published.</p>}
      columns={[
        { header: 'Version', cell: (v) => <a href={inLocale(`${base}/versions/${v.version}`, locale)}>Version {v.version}</a> },
        { header: 'Published', cell: (v) => <Time at={v.publishedAt} /> },
        { header: 'By', cell: (v) => v.publishedBy },
        { header: 'Approved by', cell: (v) => v.approvedBy ?? '—' },
        { header: 'Note', cell: (v) => v.note ?? '' },
      ]}
    />
  );
}

export function VersionPage({
  section,
  title,
  version,
  against,
  diff,
  csrfToken,
  canPublish,
  isLatest,
}: {
  section: string;
  title: string;
  version: VersionRow;
  against: number | null;
  diff: DiffLine[];
  csrfToken: string;
  canPublish: boolean;
  isLatest: boolean;
}) {
  const base = `/admin/trust-center/${section}`;
  const locale = isLocale(version.locale) ? version.locale : DEFAULT_LOCALE;
  return (
    <>
      <PageHeader
        title={`${title}: version ${version.version}${locale === DEFAULT_LOCALE ? '' : ` (${IN_ENGLISH[locale]})`}`}
        description={`Published by ${version.publishedBy}${version.approvedBy ? `, approved by ${version.approvedBy}` : ''}${version.note ? ` (${version.note})` : ''}.`}
      />
      <p>
        <a href={inLocale(base, locale)}>Back to the draft</a>
      </p>
      <h2>{against ? `Changes since version ${against}` : 'Content of the first version'}</h2>
      <pre class="tc-diff">
        {diff.map((line) =>
          line.kind === 'added' ? (
            <ins>{`+ ${line.text}\n`}</ins>
          ) : line.kind === 'removed' ? (
            <del>{`- ${line.text}\n`}</del>
          ) : (
            <span>{`  ${line.text}\n`}</span>
          ),
        )}
      </pre>
      {canPublish && !isLatest ? (
        <ActionButton
          action={inLocale(`${base}/versions/${version.version}/rollback`, locale)}
          csrfToken={csrfToken}
          label={`Publish version ${version.version} again`}
        />
      ) : null}
    </>
  );
}

export function NewPolicyPage({ spec, csrfToken, form }: { spec: SectionSpec; csrfToken: string; form?: FormState | undefined }) {
  return (
    <>
      <PageHeader title="New policy" description="Saved as a draft; ask for review when it is ready." />
      <DocumentForm
        spec={spec}
        action="/admin/trust-center/policies"
        csrfToken={csrfToken}
        doc={form?.values ?? { fields: {}, items: [] }}
        errors={form?.errors}
        message={form?.message}
        submit="Create draft"
        readOnly={false}
      />
    </>
  );
}
