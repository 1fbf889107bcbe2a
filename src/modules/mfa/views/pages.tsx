import { raw } from 'hono/html';
import { assetUrl } from '../../../platform/ui/assets.ts';
import {
  Badge,
  CheckboxGroup,
  Field,
  type FieldErrors,
  Form,
  PageHeader,
  SubmitButton,
  Time,
} from '../../../platform/ui/components.tsx';
import { FocusLayout } from '../../../platform/ui/layout.tsx';
import type { MfaPolicyView, MfaStatus, TotpEnrolment } from '../service.ts';

/** The passkey ceremonies need JavaScript: the script reveals their forms (hidden without it). */
export function PasskeyScript() {
  return <script src={assetUrl('passkeys.js')} defer />;
}

function CodeField({ error, autofocus }: { error?: string | undefined; autofocus?: boolean }) {
  const described = error ? 'field-code-error' : undefined;
  return (
    <div class={error ? 'field field--invalid' : 'field'}>
      <label for="field-code">Code from your authenticator app</label>
      <input
        id="field-code"
        name="code"
        type="text"
        inputmode="numeric"
        pattern="[0-9 ]*"
        maxlength={8}
        autocomplete="one-time-code"
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described}
        autofocus={autofocus}
      />
      {error ? (
        <p class="field__error" id="field-code-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** Password or current code: what removing a factor or replacing codes asks for. */
function ReauthFields({ errors }: { errors?: FieldErrors | undefined }) {
  return (
    <>
      <Field name="password" label="Your password" type="password" autocomplete="current-password" error={errors?.password} />
      <Field
        name="code"
        label="or a code from your authenticator app"
        autocomplete="one-time-code"
        error={errors?.code}
        maxlength={8}
      />
    </>
  );
}

export interface AccountMfaProps {
  status: MfaStatus;
  csrfToken: string;
  errors?: FieldErrors | undefined;
  error?: string | undefined;
  /** Shown when the gate sent the person here. */
  mustEnrol?: boolean;
}

export function AccountMfaView({ status, csrfToken, errors, error, mustEnrol }: AccountMfaProps) {
  return (
    <>
      <PageHeader
        title="Two-step sign-in"
        description="A second factor keeps your account safe when your password is not: an authenticator app, a passkey, or both."
      />
      {mustEnrol ? (
        <section class="panel" role="alert">
          <p>
            Your role requires two-step sign-in. Set up an authenticator app or a passkey to continue; until then, this is the
            only page you can use.
          </p>
        </section>
      ) : null}
      {error ? (
        <div class="form-errors" role="alert">
          <p>{error}</p>
        </div>
      ) : null}
      <section class="panel" aria-labelledby="totp-title">
        <h2 id="totp-title" class="panel__title">
          Authenticator app {status.totp ? <Badge tone="success">On</Badge> : <Badge tone="neutral">Off</Badge>}
        </h2>
        {status.totp ? (
          <Form action="/admin/account/mfa/totp/remove" csrfToken={csrfToken} errors={errors}>
            <p>To remove the authenticator app, confirm it is you.</p>
            <ReauthFields errors={errors} />
            <SubmitButton label="Remove authenticator app" variant="danger" />
          </Form>
        ) : (
          <p>
            <a class="button button--primary" href="/admin/account/mfa/totp">
              Set up an authenticator app
            </a>
          </p>
        )}
      </section>
      <section class="panel" aria-labelledby="recovery-title">
        <h2 id="recovery-title" class="panel__title">
          Recovery codes
        </h2>
        <p>{status.recoveryCodesLeft} of 10 recovery codes left. Each works once, when you cannot use your app or passkey.</p>
        {status.enrolled ? (
          <Form action="/admin/account/mfa/recovery-codes" csrfToken={csrfToken}>
            <p>New codes replace the old ones. Confirm it is you:</p>
            <Field name="password" label="Your password" type="password" autocomplete="current-password" />
            <SubmitButton label="Make new recovery codes" />
          </Form>
        ) : null}
      </section>
      <section class="panel" aria-labelledby="passkeys-title">
        <h2 id="passkeys-title" class="panel__title">
          Passkeys
        </h2>
        {status.passkeys.length === 0 ? <p>No passkeys yet.</p> : null}
        <ul class="passkeys">
          {status.passkeys.map((p) => (
            <li>
              <strong>{p.name}</strong> · added <Time at={p.createdAt} /> · last used{' '}
              {p.lastUsedAt ? <Time at={p.lastUsedAt} /> : 'never'}
              <form method="post" action={`/admin/account/mfa/passkeys/${p.id}/remove`} class="inline-form">
                <input type="hidden" name="_csrf" value={csrfToken} />
                <button type="submit" class="button button--danger" data-confirm={`Remove the passkey ${p.name}?`}>
                  Remove {p.name}
                </button>
              </form>
            </li>
          ))}
        </ul>
        <form
          method="post"
          action="/admin/account/mfa/passkeys"
          class="form"
          data-passkey="register"
          data-options="/admin/account/mfa/passkeys/options"
          data-next="/admin/account/mfa"
          hidden
        >
          <input type="hidden" name="_csrf" value={csrfToken} />
          <Field
            name="name"
            label="Name for the new passkey"
            hint="So you can tell your passkeys apart: “Work laptop”."
            maxlength={80}
          />
          <button type="submit" class="button button--primary">
            Add a passkey
          </button>
          <p data-passkey-status role="status" />
        </form>
        <noscript>
          <p>Adding a passkey needs JavaScript.</p>
        </noscript>
      </section>
      <PasskeyScript />
    </>
  );
}

export function TotpEnrolView({
  enrolment,
  csrfToken,
  errors,
}: {
  enrolment: TotpEnrolment;
  csrfToken: string;
  errors?: FieldErrors | undefined;
}) {
  return (
    <>
      <PageHeader title="Set up an authenticator app" description="Scan the code with your app, then type the code it shows." />
      <section class="panel" aria-labelledby="scan-title">
        <h2 id="scan-title" class="panel__title">
          1. Scan
        </h2>
        {/* Our own SVG, generated on the server from the otpauth URI: no inline script or style, CSP-safe. */}
        <div class="qr" role="img" aria-label="QR code for your authenticator app">
          {raw(enrolment.qrSvg)}
        </div>
        <p>
          Or type this key:{' '}
          <code class="secret" data-copy data-totp-secret>
            {enrolment.secret}
          </code>
        </p>
      </section>
      <section class="panel" aria-labelledby="confirm-title">
        <h2 id="confirm-title" class="panel__title">
          2. Confirm
        </h2>
        <Form action="/admin/account/mfa/totp" csrfToken={csrfToken} errors={errors}>
          <input type="hidden" name="secret" value={enrolment.secret} />
          <CodeField error={errors?.code ?? errors?.secret} autofocus />
          <SubmitButton label="Turn on" />
        </Form>
      </section>
    </>
  );
}

export function RecoveryCodesView({ codes }: { codes: string[] }) {
  return (
    <>
      <PageHeader title="Your recovery codes" description="Shown once. Keep them somewhere safe, away from your phone." />
      <section class="panel panel--success" aria-labelledby="codes-title">
        <h2 id="codes-title" class="panel__title">
          Ten recovery codes
        </h2>
        <p>Each code signs you in once when your authenticator app or passkey is not at hand. Older codes no longer work.</p>
        <ol class="recovery-codes" data-copy>
          {codes.map((code) => (
            <li>
              <code>{code}</code>
            </li>
          ))}
        </ol>
        <p>
          <a class="button button--primary" href="/admin">
            I have saved them: continue
          </a>
        </p>
      </section>
    </>
  );
}

export interface ChallengePageProps {
  status: MfaStatus;
  csrfToken: string;
  next: string;
  errors?: FieldErrors | undefined;
  error?: string | undefined;
}

/** The second step of signing in: the session exists, but nothing else opens until this is done. */
export function ChallengePage({ status, csrfToken, next, errors, error }: ChallengePageProps) {
  const action = `/admin/mfa/challenge?next=${encodeURIComponent(next)}`;
  return (
    <FocusLayout title="Two-step sign-in" subtitle="Prove it is you with your second factor.">
      {status.totp ? (
        <Form action={action} csrfToken={csrfToken} errors={errors} error={error}>
          <CodeField error={errors?.code} autofocus />
          <SubmitButton label="Verify" />
        </Form>
      ) : error ? (
        <div class="form-errors" role="alert">
          <p>{error}</p>
        </div>
      ) : null}
      {status.passkeys.length > 0 ? (
        <form
          method="post"
          action="/admin/mfa/challenge/passkey"
          class="form"
          data-passkey="second-factor"
          data-options="/admin/mfa/challenge/passkey/options"
          data-next={next}
          hidden
        >
          <input type="hidden" name="_csrf" value={csrfToken} />
          <button type="submit" class="button button--primary">
            Use a passkey
          </button>
          <p data-passkey-status role="status" />
        </form>
      ) : null}
      <details open={Boolean(errors?.recoveryCode)}>
        <summary>Use a recovery code</summary>
        <Form action={action} csrfToken={csrfToken}>
          <Field name="recoveryCode" label="Recovery code" autocomplete="off" error={errors?.recoveryCode} maxlength={20} />
          <SubmitButton label="Use recovery code" />
        </Form>
      </details>
      <form method="post" action="/admin/logout">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <button type="submit" class="button button--ghost">
          Sign out
        </button>
      </form>
      <PasskeyScript />
    </FocusLayout>
  );
}

export function PolicyView({
  policy,
  canManage,
  csrfToken,
  errors,
}: {
  policy: MfaPolicyView;
  canManage: boolean;
  csrfToken: string;
  errors?: FieldErrors | undefined;
}) {
  const chosen = new Set(policy.roles);
  return (
    <>
      <PageHeader
        title="Two-step sign-in policy"
        description="People holding these roles must use a second factor. Those without one are led to set one up at their next step; nobody is locked out."
      />
      <section class="panel">
        {canManage ? (
          <Form action="/admin/mfa/policy" csrfToken={csrfToken} errors={errors}>
            <CheckboxGroup
              name="roles"
              legend="Roles that require two-step sign-in"
              groups={[
                { label: 'Roles', options: policy.available.map((r) => ({ value: r, label: r, checked: chosen.has(r) })) },
              ]}
              error={errors?.roles}
            />
            <SubmitButton label="Save policy" />
          </Form>
        ) : (
          <ul>
            {policy.roles.map((r) => (
              <li>{r}</li>
            ))}
          </ul>
        )}
        <p>
          {policy.updatedAt ? (
            <>
              Last changed <Time at={policy.updatedAt} />.
            </>
          ) : (
            'The default policy: owners and security administrators.'
          )}
        </p>
      </section>
    </>
  );
}

/** The MFA section of a person's page in the access capability. */
export function PersonMfaPanel({ status, canReset, csrfToken }: { status: MfaStatus; canReset: boolean; csrfToken: string }) {
  const factors = [status.totp ? 'authenticator app' : '', ...status.passkeys.map((p) => `passkey “${p.name}”`)].filter(Boolean);
  return (
    <section class="panel" aria-labelledby="mfa-title">
      <h2 id="mfa-title" class="panel__title">
        Two-step sign-in{' '}
        {status.enrolled ? <Badge tone="success">On</Badge> : <Badge tone={status.required ? 'danger' : 'neutral'}>Off</Badge>}
      </h2>
      <p>
        {status.enrolled
          ? `Factors: ${factors.join(', ')}. ${status.recoveryCodesLeft} recovery codes left.`
          : 'No second factor.'}
        {status.required ? ' Required by the policy for their role.' : ''}
      </p>
      {canReset && status.enrolled ? (
        <form method="post" action={`/admin/users/${status.userId}/mfa/reset`}>
          <input type="hidden" name="_csrf" value={csrfToken} />
          <button
            type="submit"
            class="button button--danger"
            data-confirm="Remove every second factor and recovery code of this person? They will have to set them up again."
          >
            Reset two-step sign-in
          </button>
        </form>
      ) : null}
    </section>
  );
}

/** The passwordless part of the sign-in page (hidden without JavaScript). */
export function PasskeySignIn({ next }: { next: string }) {
  return (
    <>
      <form
        method="post"
        action="/admin/login/passkey"
        class="form"
        data-passkey="sign-in"
        data-options="/admin/login/passkey/options"
        data-next={next}
        hidden
      >
        <button type="submit" class="button button--secondary">
          Sign in with a passkey
        </button>
        <p data-passkey-status role="status" />
      </form>
      <PasskeyScript />
    </>
  );
}
