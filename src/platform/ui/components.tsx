import type { Child } from 'hono/jsx';

export interface Flash {
  kind: 'success' | 'error' | 'info';
  message: string;
}

export function FlashMessage({ flash }: { flash: Flash }) {
  return (
    <div class={`flash flash--${flash.kind}`} role={flash.kind === 'error' ? 'alert' : 'status'}>
      <p>{flash.message}</p>
    </div>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: string; actions?: Child }) {
  return (
    <header class="page-header">
      <div>
        <h1>{title}</h1>
        {description ? <p class="page-header__description">{description}</p> : null}
      </div>
      {actions ? <div class="page-header__actions">{actions}</div> : null}
    </header>
  );
}

/** Field-level errors keyed by input name, as services and zod report them. */
export type FieldErrors = Record<string, string | undefined>;

interface FormProps {
  action: string;
  /** The session's CSRF token; omitted only on forms used before sign-in. */
  csrfToken?: string | undefined;
  errors?: FieldErrors | undefined;
  /** A message about the whole form, shown above the fields. */
  error?: string | undefined;
  class?: string;
  /** `multipart/form-data` for forms that upload files. */
  enctype?: 'multipart/form-data';
  children: Child;
}

/** A POST form that carries the CSRF token and summarises errors for screen readers first. */
export function Form({ action, csrfToken, errors, error, class: className, enctype, children }: FormProps) {
  const count = Object.values(errors ?? {}).filter(Boolean).length;
  return (
    <form method="post" action={action} class={className ?? 'form'} enctype={enctype} novalidate>
      {csrfToken ? <input type="hidden" name="_csrf" value={csrfToken} /> : null}
      {error || count > 0 ? (
        <div class="form-errors" role="alert" tabindex={-1}>
          <p>{error ?? (count === 1 ? 'Please correct the field below.' : `Please correct the ${count} fields below.`)}</p>
        </div>
      ) : null}
      {children}
    </form>
  );
}

interface FieldProps {
  name: string;
  label: string;
  type?: string;
  value?: string | undefined;
  error?: string | undefined;
  hint?: string;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  autofocus?: boolean;
  minlength?: number;
  maxlength?: number;
}

/** A labelled input whose error is announced with it (aria-describedby) and shown beside it. */
export function Field({ name, label, type = 'text', value, error, hint, required, ...rest }: FieldProps) {
  const id = `field-${name}`;
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={error ? 'field field--invalid' : 'field'}>
      <label for={id}>
        {label}
        {required ? (
          <span class="field__required" aria-hidden="true">
            {' '}
            *
          </span>
        ) : null}
      </label>
      {hint ? (
        <p class="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <input
        id={id}
        name={name}
        type={type}
        value={type === 'password' ? undefined : value}
        required={required}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described || undefined}
        {...rest}
      />
      {error ? (
        <p class="field__error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function SubmitButton({ label, variant = 'primary' }: { label: string; variant?: 'primary' | 'danger' }) {
  return (
    <button type="submit" class={`button button--${variant}`}>
      {label}
    </button>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: Child; action?: Child }) {
  return (
    <div class="empty-state">
      <div class="empty-state__icon" aria-hidden="true" />
      <h2>{title}</h2>
      {children ? <p>{children}</p> : null}
      {action ?? null}
    </div>
  );
}

export interface Column<Row> {
  header: string;
  cell: (row: Row) => Child;
  /** Right-align numbers and dates. */
  numeric?: boolean;
}

interface TableProps<Row> {
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  empty: Child;
}

export function Table<Row>({ caption, columns, rows, empty }: TableProps<Row>) {
  if (rows.length === 0) return <>{empty}</>;
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((col) => (
              <th scope="col" class={col.numeric ? 'numeric' : undefined}>
                {col.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr>
              {columns.map((col) => (
                <td class={col.numeric ? 'numeric' : undefined}>{col.cell(row)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export interface Page {
  number: number;
  size: number;
  total: number;
}

/** Previous / next links with "showing x–y of z"; pages are 1-based and carried in `?page=`. */
export function Pager({ page, baseUrl }: { page: Page; baseUrl: string }) {
  const pages = Math.max(1, Math.ceil(page.total / page.size));
  if (page.total === 0) return null;
  const from = (page.number - 1) * page.size + 1;
  const to = Math.min(page.total, page.number * page.size);
  const link = (n: number) => `${baseUrl}${baseUrl.includes('?') ? '&' : '?'}page=${n}`;
  return (
    <nav class="pager" aria-label="Pagination">
      <p class="pager__summary">
        Showing {from}–{to} of {page.total}
      </p>
      <div class="pager__links">
        {page.number > 1 ? (
          <a class="button button--secondary button--small" href={link(page.number - 1)} rel="prev">
            Previous
          </a>
        ) : null}
        <span class="pager__position">
          Page {page.number} of {pages}
        </span>
        {page.number < pages ? (
          <a class="button button--secondary button--small" href={link(page.number + 1)} rel="next">
            Next
          </a>
        ) : null}
      </div>
    </nav>
  );
}

export function Badge({ tone, children }: { tone: 'neutral' | 'success' | 'warning' | 'danger' | 'info'; children: Child }) {
  return <span class={`badge badge--${tone}`}>{children}</span>;
}

/** A UTC timestamp a person can read, with the machine value for assistive tech and copy-paste. */
export function Time({ at }: { at: Date | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const iso = at.toISOString();
  return <time datetime={iso}>{iso.slice(0, 16).replace('T', ' ')} UTC</time>;
}

/**
 * A secret shown once (an API token, a webhook signing secret): Candor keeps only a hash or needs it to
 * sign, so this response is the person's only chance to copy it.
 */
export function SecretShownOnce({ title, instruction, secret }: { title: string; instruction: string; secret: string }) {
  return (
    <section class="panel panel--success" aria-labelledby="secret-once-title">
      <h2 id="secret-once-title" class="panel__title">
        {title}
      </h2>
      <p>{instruction}</p>
      <p>
        <code class="secret" data-copy>
          {secret}
        </code>
      </p>
    </section>
  );
}

export interface CheckboxOption {
  value: string;
  label: Child;
  hint?: string | undefined;
  checked?: boolean;
  /** Shown but not choosable (for instance a permission the person does not hold themselves). */
  disabled?: boolean;
}

interface CheckboxGroupProps {
  name: string;
  legend: string;
  hint?: string;
  groups: { label: string; options: CheckboxOption[] }[];
  error?: string | undefined;
}

/** Checkboxes sharing one name, in labelled sub-groups; the form reads them as a list (readForm's `lists`). */
export function CheckboxGroup({ name, legend, hint, groups, error }: CheckboxGroupProps) {
  const id = `field-${name}`;
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <fieldset class={error ? 'checks checks--invalid' : 'checks'} aria-describedby={described || undefined}>
      <legend>{legend}</legend>
      {hint ? (
        <p class="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="field__error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
      {groups.map((group) => (
        <div class="checks__group">
          <p class="checks__group-label">{group.label}</p>
          {group.options.map((option) => (
            <label class={option.disabled ? 'check check--disabled' : 'check'}>
              <input type="checkbox" name={name} value={option.value} checked={option.checked} disabled={option.disabled} />
              <span>{option.label}</span>
              {option.hint ? <span class="check__hint">{option.hint}</span> : null}
              {/* A browser sends no disabled box: a chosen one that cannot be changed travels hidden, so it stays. */}
              {option.disabled && option.checked ? <input type="hidden" name={name} value={option.value} /> : null}
            </label>
          ))}
        </div>
      ))}
    </fieldset>
  );
}
