import { Badge, Field, type FieldErrors, Form, PageHeader, SubmitButton, Table, Time } from '../../../platform/ui/components.tsx';
import type { Branding } from '../branding.ts';
import { VERIFICATION_PATH } from '../domains.ts';
import type { DomainRow } from '../store.ts';

export interface BrandingFormState {
  values: { displayName?: string; primaryColor?: string; accentColor?: string };
  errors: FieldErrors;
  message?: string | undefined;
}

export function BrandingPage({
  branding,
  domains,
  csrfToken,
  canEdit,
  canManageDomains,
  form,
  domainError,
}: {
  branding: Branding;
  domains: DomainRow[] | undefined;
  csrfToken: string;
  canEdit: boolean;
  canManageDomains: boolean;
  form?: BrandingFormState | undefined;
  domainError?: { value: string; message: string } | undefined;
}) {
  const values = form?.values ?? {
    displayName: branding.displayName ?? '',
    primaryColor: branding.primaryColor ?? '',
    accentColor: branding.accentColor ?? '',
  };
  const errors = form?.errors ?? {};
  return (
    <>
      <PageHeader
        title="Branding and domain"
        description="How the public Trust Center looks and where it lives. Changes are live at once."
      />
      <Form
        action="/admin/trust-center/branding"
        csrfToken={csrfToken}
        errors={errors}
        error={form?.message}
        enctype="multipart/form-data"
      >
        <fieldset disabled={!canEdit}>
          <Field
            name="displayName"
            label="Display name"
            value={values.displayName}
            error={errors.displayName}
            hint="Shown in the header and titles; empty: the workspace name"
            maxlength={120}
          />
          <Field
            name="primaryColor"
            label="Primary colour"
            value={values.primaryColor}
            error={errors.primaryColor}
            hint="#rrggbb, for buttons; must reach 4.5:1 contrast against the page (WCAG AA). Empty: Candor blue"
            placeholder="#1f4fd1"
          />
          <Field
            name="accentColor"
            label="Accent colour"
            value={values.accentColor}
            error={errors.accentColor}
            hint="#rrggbb, for links; must reach 4.5:1 contrast against the page. Empty: the default"
            placeholder="#1c47bd"
          />
          <div class={errors.logo ? 'field field--invalid' : 'field'}>
            <label for="field-logo">Logo</label>
            <p class="field__hint">PNG, JPEG or WebP, at most 1 MiB (SVG is not accepted: it can carry script)</p>
            {branding.logoBlobId ? (
              <p>
                <img src={`/brand/logo/${branding.logoBlobId}`} alt="Current logo" height={48} />{' '}
                <label class="inline">
                  <input type="checkbox" name="removeLogo" value="1" /> Remove the logo
                </label>
              </p>
            ) : null}
            <input id="field-logo" name="logo" type="file" accept="image/png,image/jpeg,image/webp" />
            {errors.logo ? <p class="field__error">{errors.logo}</p> : null}
          </div>
          {canEdit ? <SubmitButton label="Save branding" /> : null}
        </fieldset>
      </Form>
      {domains ? <DomainsPanel domains={domains} csrfToken={csrfToken} canManage={canManageDomains} error={domainError} /> : null}
    </>
  );
}

function DomainsPanel({
  domains,
  csrfToken,
  canManage,
  error,
}: {
  domains: DomainRow[];
  csrfToken: string;
  canManage: boolean;
  error?: { value: string; message: string } | undefined;
}) {
  return (
    <section>
      <h2>Custom domains</h2>
      <p>
        Point the domain at this Candor server, add it here, then verify: Candor reads <code>{VERIFICATION_PATH}</code> on the
        domain and expects the token below, which this server answers once the domain reaches it.
      </p>
      <Table
        caption="Custom domains"
        rows={domains}
        empty={<p>No custom domain.</p>}
        columns={[
          { header: 'Domain', cell: (d) => d.hostname },
          {
            header: 'State',
            cell: (d) => (d.verifiedAt ? <Badge tone="success">Verified</Badge> : <Badge tone="warning">Not verified</Badge>),
          },
          { header: 'Token', cell: (d) => <code>{d.token}</code> },
          {
            header: 'Last check',
            cell: (d) => (
              <>
                {d.lastCheckedAt ? <Time at={d.lastCheckedAt} /> : '—'}
                {d.lastError ? <p class="field__error">{d.lastError}</p> : null}
              </>
            ),
          },
          {
            header: 'Actions',
            cell: (d) =>
              canManage ? (
                <div class="button-row">
                  <form method="post" action={`/admin/trust-center/domains/${d.hostname}/verify`} class="inline-form">
                    <input type="hidden" name="_csrf" value={csrfToken} />
                    <button type="submit" class="button button--secondary">
                      Verify
                    </button>
                  </form>
                  <form method="post" action={`/admin/trust-center/domains/${d.hostname}/remove`} class="inline-form">
                    <input type="hidden" name="_csrf" value={csrfToken} />
                    <button type="submit" class="button button--danger">
                      Remove
                    </button>
                  </form>
                </div>
              ) : (
                '—'
              ),
          },
        ]}
      />
      {canManage ? (
        <Form
          action="/admin/trust-center/domains"
          csrfToken={csrfToken}
          errors={error ? { hostname: error.message } : {}}
          error={error?.message}
        >
          <Field
            name="hostname"
            label="Add a domain"
            value={error?.value}
            error={error?.message}
            placeholder="trust.example.com"
          />
          <SubmitButton label="Add domain" />
        </Form>
      ) : null}
    </section>
  );
}
