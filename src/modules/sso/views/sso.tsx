import { Badge, Field, type FieldErrors, Form, PageHeader, SubmitButton, Time } from '../../../platform/ui/components.tsx';
import { FocusLayout } from '../../../platform/ui/layout.tsx';
import type { SsoCheck } from '../schema.ts';
import type { SsoSettingsView } from '../service.ts';

interface SettingsPageProps {
  view: SsoSettingsView;
  redirectUri: string;
  csrfToken: string;
  canManage: boolean;
  /** Roles a person created at first sign-in may get (not privileged). */
  roles: { slug: string; name: string }[];
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
  check?: SsoCheck | undefined;
}

function formValues(view: SsoSettingsView): Record<string, string> {
  return {
    displayName: view.displayName,
    issuer: view.issuer,
    clientId: view.clientId,
    scopes: view.scopes,
    allowedDomains: view.allowedDomains.join('\n'),
    defaultRole: view.defaultRole ?? '',
    ...(view.jitEnabled ? { jitEnabled: 'on' } : {}),
    ...(view.providerEnforcesMfa ? { providerEnforcesMfa: 'on' } : {}),
    ...(view.ssoOnly ? { ssoOnly: 'on' } : {}),
    ...(view.enabled ? { enabled: 'on' } : {}),
  };
}

function Checkbox({
  name,
  label,
  hint,
  values,
  error,
}: {
  name: string;
  label: string;
  hint: string;
  values: Record<string, string>;
  error?: string | undefined;
}) {
  return (
    <div class={error ? 'field field--invalid' : 'field'}>
      <label class="check" for={`field-${name}`}>
        <input
          id={`field-${name}`}
          type="checkbox"
          name={name}
          checked={values[name] === 'on'}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? `field-${name}-hint field-${name}-error` : `field-${name}-hint`}
        />
        <span>{label}</span>
      </label>
      <p class="field__hint" id={`field-${name}-hint`}>
        {hint}
      </p>
      {error ? (
        <p class="field__error" id={`field-${name}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

function CheckResult({ check }: { check: SsoCheck }) {
  return (
    <div class={check.ok ? 'flash flash--success' : 'form-errors'} role={check.ok ? 'status' : 'alert'}>
      <p>
        <strong>{check.ok ? 'Provider found.' : 'Check failed.'}</strong> {check.message}
      </p>
      {check.authorizationEndpoint ? (
        <p>
          Authorization endpoint: <code>{check.authorizationEndpoint}</code>
        </p>
      ) : null}
    </div>
  );
}

export function SsoSettingsPage({ view, redirectUri, csrfToken, canManage, roles, values, errors, check }: SettingsPageProps) {
  const v = values ?? formValues(view);
  return (
    <>
      <PageHeader
        title="Single sign-on"
        description="People sign in through your identity provider with OpenID Connect (authorization code with PKCE)."
      />
      {check ? <CheckResult check={check} /> : null}
      <section class="panel" aria-labelledby="sso-status">
        <h2 id="sso-status" class="panel__title">
          Status
        </h2>
        <dl class="details">
          <dt>Single sign-on</dt>
          <dd>{view.enabled ? <Badge tone="success">on</Badge> : <Badge tone="neutral">off</Badge>}</dd>
          <dt>SSO only</dt>
          <dd>{view.ssoOnly ? <Badge tone="warning">passwords only for owners</Badge> : <Badge tone="neutral">off</Badge>}</dd>
          <dt>Last successful sign-in with these settings</dt>
          <dd>{view.verifiedAt ? <Time at={view.verifiedAt} /> : 'none yet'}</dd>
          <dt>Redirect URI to register at the provider</dt>
          <dd>
            <code>{redirectUri}</code>
          </dd>
        </dl>
        {canManage && view.configured ? (
          <form method="post" action="/admin/settings/sso/check" class="inline-form">
            <input type="hidden" name="_csrf" value={csrfToken} />
            <button type="submit" class="button button--secondary">
              Check the provider
            </button>
          </form>
        ) : null}
      </section>
      <Form action="/admin/settings/sso" csrfToken={csrfToken} errors={errors}>
        <section class="panel" aria-labelledby="sso-provider">
          <h2 id="sso-provider" class="panel__title">
            Provider
          </h2>
          <Field
            name="displayName"
            label="Name shown on the sign-in page"
            value={v.displayName}
            error={errors?.displayName}
            hint="People see “Sign in with” this name, for example Okta or Google."
            required
          />
          <Field
            name="issuer"
            label="Issuer URL"
            value={v.issuer}
            error={errors?.issuer}
            hint="Found by discovery at <issuer>/.well-known/openid-configuration. https:// only (http:// on localhost)."
            required
          />
          <Field name="clientId" label="Client id" value={v.clientId} error={errors?.clientId} required />
          <Field
            name="clientSecret"
            label="Client secret"
            type="password"
            error={errors?.clientSecret}
            hint={
              view.clientSecretSet
                ? 'A secret is set. Leave empty to keep it; it is never shown again.'
                : 'Stored encrypted and never shown again.'
            }
            autocomplete="off"
          />
          <Field
            name="scopes"
            label="Scopes"
            value={v.scopes}
            error={errors?.scopes}
            hint="Separated by spaces; openid and email are required."
          />
          <div class={errors?.allowedDomains ? 'field field--invalid' : 'field'}>
            <label for="field-allowedDomains">Allowed email domains</label>
            <p class="field__hint" id="field-allowedDomains-hint">
              One a line. Leave empty to let any address the provider vouches for sign in.
            </p>
            <textarea
              id="field-allowedDomains"
              name="allowedDomains"
              aria-invalid={errors?.allowedDomains ? 'true' : undefined}
              aria-describedby={
                errors?.allowedDomains ? 'field-allowedDomains-hint field-allowedDomains-error' : 'field-allowedDomains-hint'
              }
            >
              {v.allowedDomains ?? ''}
            </textarea>
            {errors?.allowedDomains ? (
              <p class="field__error" id="field-allowedDomains-error">
                {errors.allowedDomains}
              </p>
            ) : null}
          </div>
          <Checkbox
            name="providerEnforcesMfa"
            label="The provider enforces MFA"
            hint="Sessions opened through the provider then count as having a second factor. Otherwise only an amr claim (mfa, otp, hwk, swk) does."
            values={v}
            error={errors?.providerEnforcesMfa}
          />
        </section>
        <section class="panel" aria-labelledby="sso-people">
          <h2 id="sso-people" class="panel__title">
            New people
          </h2>
          <Checkbox
            name="jitEnabled"
            label="Create an account at first sign-in"
            hint="People the provider vouches for who have no account here get one, with the role below."
            values={v}
            error={errors?.jitEnabled}
          />
          <div class={errors?.defaultRole ? 'field field--invalid' : 'field'}>
            <label for="field-defaultRole">Role of new people</label>
            <p class="field__hint" id="field-defaultRole-hint">
              Privileged roles (owner, security admin) are granted to people one by one, never by signing in.
            </p>
            <select
              id="field-defaultRole"
              name="defaultRole"
              aria-invalid={errors?.defaultRole ? 'true' : undefined}
              aria-describedby={errors?.defaultRole ? 'field-defaultRole-hint field-defaultRole-error' : 'field-defaultRole-hint'}
            >
              <option value="">none</option>
              {roles.map((role) => (
                <option value={role.slug} selected={v.defaultRole === role.slug}>
                  {role.name}
                </option>
              ))}
            </select>
            {errors?.defaultRole ? (
              <p class="field__error" id="field-defaultRole-error">
                {errors.defaultRole}
              </p>
            ) : null}
          </div>
        </section>
        <section class="panel" aria-labelledby="sso-switches">
          <h2 id="sso-switches" class="panel__title">
            Switches
          </h2>
          <Checkbox
            name="enabled"
            label="Single sign-on is on"
            hint="The sign-in page offers “Sign in with” the provider."
            values={v}
            error={errors?.enabled}
          />
          <Checkbox
            name="ssoOnly"
            label="SSO only"
            hint="Password sign-in and reset are refused to everyone but owners (their break-glass). Possible once a sign-in through the provider has worked with these settings."
            values={v}
            error={errors?.ssoOnly}
          />
        </section>
        {canManage ? (
          <SubmitButton label="Save single sign-on settings" />
        ) : (
          <p class="muted">Changing these settings needs the permission settings.manage.</p>
        )}
      </Form>
    </>
  );
}

export function SsoRefusedPage({ message }: { message: string }) {
  return (
    <FocusLayout title="Sign-in refused" subtitle="Single sign-on could not sign you in.">
      <p role="alert">{message}</p>
      <p>
        <a href="/admin/login">Back to sign in</a>
      </p>
    </FocusLayout>
  );
}
