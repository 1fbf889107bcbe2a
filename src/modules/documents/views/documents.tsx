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
import { type FileKind, KIND_LABELS, MAX_UPLOAD_BYTES } from '../files.ts';
import { ACCESS_LEVEL_LABELS, ACCESS_LEVELS, type AccessLevel } from '../schema.ts';
import type { DocumentView, VersionView } from '../service.ts';
import type { DocumentRow } from '../store.ts';

const LEVEL_TONES: Record<AccessLevel, 'success' | 'info' | 'warning' | 'neutral'> = {
  public: 'success',
  nda: 'info',
  approval: 'warning',
  internal: 'neutral',
};
const LEVEL_NAMES: Record<AccessLevel, string> = { public: 'Public', nda: 'NDA', approval: 'Approval', internal: 'Internal' };

export function LevelBadge({ level }: { level: string }) {
  const known = (ACCESS_LEVELS as readonly string[]).includes(level) ? (level as AccessLevel) : 'internal';
  return <Badge tone={LEVEL_TONES[known]}>{LEVEL_NAMES[known]}</Badge>;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function DocumentsPage({ documents, canManage }: { documents: DocumentRow[]; canManage: boolean }) {
  const create = canManage ? (
    <a class="button button--primary" href="/admin/documents/new">
      New document
    </a>
  ) : undefined;
  return (
    <>
      <PageHeader
        title="Documents"
        description="Reports and papers people can ask for on the Trust Center: each has an access level and a version history."
        actions={create}
      />
      <Table
        caption="Documents"
        rows={documents}
        empty={<EmptyState title="No documents yet" action={create} />}
        columns={[
          { header: 'Title', cell: (d) => <a href={`/admin/documents/${d.id}`}>{d.title}</a> },
          { header: 'Access', cell: (d) => <LevelBadge level={d.accessLevel} /> },
          {
            header: 'Current version',
            cell: (d) => (d.currentVersion === null ? <Badge tone="warning">No file</Badge> : `v${d.currentVersion}`),
          },
          { header: 'Updated', cell: (d) => <Time at={d.updatedAt} /> },
        ]}
      />
    </>
  );
}

export interface DocumentFormValues {
  title: string;
  description: string;
  accessLevel: string;
  grantsSeeNewVersion: boolean;
  nonPdfDownloadAllowed: boolean;
  viewOnly: boolean;
  /** Days as typed; empty for the default. */
  grantDays: string;
}

export const EMPTY_FORM: DocumentFormValues = {
  title: '',
  description: '',
  accessLevel: 'nda',
  grantsSeeNewVersion: true,
  nonPdfDownloadAllowed: false,
  viewOnly: false,
  grantDays: '',
};

export function formValuesOf(d: DocumentRow): DocumentFormValues {
  return {
    title: d.title,
    description: d.description,
    accessLevel: d.accessLevel,
    grantsSeeNewVersion: d.grantsSeeNewVersion,
    nonPdfDownloadAllowed: d.nonPdfDownloadAllowed,
    viewOnly: d.viewOnly,
    grantDays: d.grantDays === null ? '' : String(d.grantDays),
  };
}

function DocumentForm({
  action,
  csrfToken,
  values,
  errors = {},
  submit,
  readOnly = false,
}: {
  action: string;
  csrfToken: string;
  values: DocumentFormValues;
  errors?: FieldErrors | undefined;
  submit: string;
  readOnly?: boolean;
}) {
  return (
    <Form action={action} csrfToken={csrfToken} errors={errors}>
      <fieldset disabled={readOnly}>
        <Field name="title" label="Title" value={values.title} error={errors.title} required maxlength={200} />
        <div class={errors.description ? 'field field--invalid' : 'field'}>
          <label for="field-description">Description</label>
          <p class="field__hint">Shown to people choosing what to request. Plain text.</p>
          <textarea
            id="field-description"
            name="description"
            rows={4}
            maxlength={2000}
            aria-invalid={errors.description ? 'true' : undefined}
          >
            {values.description}
          </textarea>
          {errors.description ? <p class="field__error">{errors.description}</p> : null}
        </div>
        <fieldset class={errors.accessLevel ? 'field field--invalid' : 'field'}>
          <legend>Access level</legend>
          {ACCESS_LEVELS.map((level) => (
            <label class="check">
              <input type="radio" name="accessLevel" value={level} checked={values.accessLevel === level} />{' '}
              <span>{ACCESS_LEVEL_LABELS[level]}</span>
            </label>
          ))}
          {errors.accessLevel ? <p class="field__error">{errors.accessLevel}</p> : null}
        </fieldset>
        <label class="check">
          <input type="checkbox" name="grantsSeeNewVersion" value="on" checked={values.grantsSeeNewVersion} />{' '}
          <span>
            People with open access get a new version as soon as it is uploaded (otherwise they keep the version they were given)
          </span>
        </label>
        <label class="check">
          <input type="checkbox" name="nonPdfDownloadAllowed" value="on" checked={values.nonPdfDownloadAllowed} />{' '}
          <span>
            Requesters may download versions that are not PDFs (spreadsheets, Word files, archives). These cannot be stamped with
            the recipient’s name, so they are kept for staff unless this is on.
          </span>
        </label>
        <label class="check">
          <input type="checkbox" name="viewOnly" value="on" checked={values.viewOnly} />{' '}
          <span>
            View only: requesters see the stamped pages in their browser, with no download button, and the download address
            refuses this document. A deterrent, not a protection: the pages still reach their browser, so a determined person can
            keep a copy (or photograph the screen); the stamp still names them.
          </span>
        </label>
        <Field
          name="grantDays"
          label="Access lasts (days)"
          hint="How long a requester’s link to this document works. Empty: 30 days. A request for several documents gets the shortest."
          value={values.grantDays}
          error={errors.grantDays}
          maxlength={3}
        />
        <SubmitButton label={submit} />
      </fieldset>
    </Form>
  );
}

export function NewDocumentPage({
  csrfToken,
  values = EMPTY_FORM,
  errors,
}: {
  csrfToken: string;
  values?: DocumentFormValues;
  errors?: FieldErrors;
}) {
  return (
    <>
      <PageHeader title="New document" description="Create the document, then upload its file." />
      <section class="panel">
        <DocumentForm action="/admin/documents" csrfToken={csrfToken} values={values} errors={errors} submit="Create document" />
      </section>
    </>
  );
}

function UploadForm({
  id,
  csrfToken,
  error,
  note,
}: {
  id: string;
  csrfToken: string;
  error?: string | undefined;
  note?: string;
}) {
  return (
    <form method="post" action={`/admin/documents/${id}/versions`} enctype="multipart/form-data" class="form" novalidate>
      <input type="hidden" name="_csrf" value={csrfToken} />
      {error ? (
        <div class="form-errors" role="alert" tabindex={-1}>
          <p>{error}</p>
        </div>
      ) : null}
      <div class={error ? 'field field--invalid' : 'field'}>
        <label for="field-file">File</label>
        <p class="field__hint" id="field-file-hint">
          A PDF (stamped with each recipient’s name when they download it), or an Excel, Word, PowerPoint or ZIP file; at most{' '}
          {MAX_UPLOAD_BYTES / 1024 / 1024} MiB. It replaces the current version; earlier versions stay in the history.
        </p>
        <input
          id="field-file"
          name="file"
          type="file"
          accept=".pdf,.xlsx,.docx,.pptx,.zip"
          required
          aria-describedby="field-file-hint"
          aria-invalid={error ? 'true' : undefined}
        />
      </div>
      <Field name="note" label="What changed (optional)" value={note ?? ''} maxlength={500} />
      <SubmitButton label="Upload new version" />
    </form>
  );
}

function VersionsTable({ id, versions }: { id: string; versions: VersionView[] }) {
  return (
    <Table
      caption="Version history"
      rows={versions}
      empty={<p>No file uploaded yet.</p>}
      columns={[
        {
          header: 'Version',
          cell: (v) => (
            <>
              v{v.version} {v.current ? <Badge tone="success">Current</Badge> : null}
            </>
          ),
        },
        { header: 'File', cell: (v) => v.filename ?? '—' },
        {
          header: 'Type',
          cell: (v) => (
            <>
              {KIND_LABELS[v.kind as FileKind] ?? v.kind}
              {v.pages !== null ? `, ${v.pages} pages` : ''}
              {v.decrypted ? ' (decrypted at upload)' : ''}
            </>
          ),
        },
        { header: 'Size', cell: (v) => bytes(v.size), numeric: true },
        { header: 'Note', cell: (v) => v.note || '—' },
        {
          header: 'Uploaded',
          cell: (v) => (
            <>
              <Time at={v.uploadedAt} /> by {v.uploadedBy}
            </>
          ),
        },
        {
          header: 'File',
          cell: (v) => (
            <a href={`/admin/documents/${id}/versions/${v.version}/file`} download>
              Download (recorded)
            </a>
          ),
        },
      ]}
    />
  );
}

export interface DocumentPageProps {
  view: DocumentView;
  csrfToken: string;
  canManage: boolean;
  values?: DocumentFormValues | undefined;
  errors?: FieldErrors | undefined;
  uploadError?: string | undefined;
  uploadNote?: string | undefined;
}

export function DocumentPage({ view, csrfToken, canManage, values, errors, uploadError, uploadNote }: DocumentPageProps) {
  const d = view.document;
  const current = view.versions.find((v) => v.current);
  return (
    <>
      <PageHeader title={d.title} description={d.description || undefined} />
      <p>
        <LevelBadge level={d.accessLevel} />{' '}
        {current
          ? `Current version: v${current.version} (${KIND_LABELS[current.kind as FileKind] ?? current.kind})`
          : 'No file yet.'}
        {current && current.kind !== 'pdf' && !d.nonPdfDownloadAllowed
          ? ' Kept for staff: requesters cannot download this type.'
          : ''}
      </p>
      {canManage ? (
        <section class="panel">
          <h2>New version</h2>
          <UploadForm id={d.id} csrfToken={csrfToken} error={uploadError} note={uploadNote} />
        </section>
      ) : null}
      <section>
        <h2>Version history</h2>
        <VersionsTable id={d.id} versions={view.versions} />
      </section>
      <section class="panel">
        <h2>Settings</h2>
        <DocumentForm
          action={`/admin/documents/${d.id}`}
          csrfToken={csrfToken}
          values={values ?? formValuesOf(d)}
          errors={errors}
          submit="Save settings"
          readOnly={!canManage}
        />
      </section>
    </>
  );
}
