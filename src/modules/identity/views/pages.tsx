import { Field, type FieldErrors, Form, SubmitButton } from '../../../platform/ui/components.tsx';
import { FocusLayout } from '../../../platform/ui/layout.tsx';
import { PasskeySignIn } from '../../mfa/views/pages.tsx';

interface LoginPageProps {
  tenantName: string;
  email?: string | undefined;
  next?: string | undefined;
  errors?: FieldErrors | undefined;
  error?: string | undefined;
  notice?: string | undefined;
  /** Single sign-on, when the tenant has it on: the button, and whether passwords are for owners only. */
  sso?: { displayName: string; ssoOnly: boolean } | undefined;
}

export function LoginPage({ tenantName, email, next, errors, error, notice, sso }: LoginPageProps) {
  return (
    <FocusLayout title="Sign in" subtitle={`to the ${tenantName} back office`}>
      {notice ? <p role="status">{notice}</p> : null}
      {sso ? <SsoSignIn {...sso} next={next} /> : null}
      <Form action={next ? `/admin/login?next=${encodeURIComponent(next)}` : '/admin/login'} errors={errors} error={error}>
        <Field
          name="email"
          label="Email"
          type="email"
          value={email}
          error={errors?.email}
          autocomplete="username"
          required
          autofocus
        />
        <Field
          name="password"
          label="Password"
          type="password"
          error={errors?.password}
          autocomplete="current-password"
          required
        />
        <SubmitButton label="Sign in" />
      </Form>
      <PasskeySignIn next={next ?? '/admin'} />
      <p>
        <a href="/admin/forgot-password">Forgot password?</a>
      </p>
    </FocusLayout>
  );
}

function SsoSignIn({ displayName, ssoOnly, next }: { displayName: string; ssoOnly: boolean; next?: string | undefined }) {
  return (
    <div class="sso-offer">
      <p>
        <a class="button button--primary" href={next ? `/admin/sso/start?next=${encodeURIComponent(next)}` : '/admin/sso/start'}>
          Sign in with {displayName}
        </a>
      </p>
      {ssoOnly ? (
        <p role="note">
          This workspace signs in with {displayName}. Passwords work only for owners, as their way in if {displayName} is down.
        </p>
      ) : (
        <p class="muted">Or sign in with your password:</p>
      )}
    </div>
  );
}

interface SetupPageProps {
  action: string;
  values?: { name?: string; email?: string } | undefined;
  errors?: FieldErrors | undefined;
}

export function SetupPage({ action, values, errors }: SetupPageProps) {
  return (
    <FocusLayout
      title="Create the owner account"
      subtitle="This one-time link sets up the first person who runs this Candor workspace. You can invite everyone else afterwards."
    >
      <Form action={action} errors={errors}>
        <Field name="name" label="Your name" value={values?.name} error={errors?.name} autocomplete="name" required autofocus />
        <Field
          name="email"
          label="Work email"
          type="email"
          value={values?.email}
          error={errors?.email}
          autocomplete="username"
          required
        />
        <Field
          name="password"
          label="Password"
          type="password"
          error={errors?.password}
          hint="At least 12 characters. A passphrase of several words is easy to remember and hard to guess."
          autocomplete="new-password"
          minlength={12}
          required
        />
        <SubmitButton label="Create owner and sign in" />
      </Form>
    </FocusLayout>
  );
}

export function ForgotPasswordPage({
  email,
  errors,
  sent,
  ssoOnlyWith,
}: {
  email?: string;
  errors?: FieldErrors | undefined;
  sent?: boolean;
  /** The provider's name when the workspace is SSO-only: reset links then go to owners only. */
  ssoOnlyWith?: string | undefined;
}) {
  const ssoNote = ssoOnlyWith ? (
    <p role="note">
      This workspace signs in with {ssoOnlyWith}: only owners can reset a password here. Everyone else,{' '}
      <a href="/admin/login">sign in with {ssoOnlyWith}</a>.
    </p>
  ) : null;
  if (sent) {
    return (
      <FocusLayout title="Check your email" subtitle="Reset your password">
        <p>
          If {email ?? 'that address'} has an account here, a link to choose a new password is on its way. It works once, for one
          hour.
        </p>
        {ssoNote}
        <p>
          <a href="/admin/login">Back to sign in</a>
        </p>
      </FocusLayout>
    );
  }
  return (
    <FocusLayout title="Forgot your password?" subtitle="We will email you a link to choose a new one.">
      {ssoNote}
      <Form action="/admin/forgot-password" errors={errors}>
        <Field
          name="email"
          label="Email"
          type="email"
          value={email}
          error={errors?.email}
          autocomplete="username"
          required
          autofocus
        />
        <SubmitButton label="Email me a reset link" />
      </Form>
    </FocusLayout>
  );
}

export function ResetPasswordPage({ action, errors }: { action: string; errors?: FieldErrors | undefined }) {
  return (
    <FocusLayout title="Choose a new password" subtitle="Every session of your account ends when it changes.">
      <Form action={action} errors={errors}>
        <Field
          name="newPassword"
          label="New password"
          type="password"
          error={errors?.newPassword}
          hint="At least 12 characters, any you like. Avoid common passwords and your own names."
          autocomplete="new-password"
          required
          autofocus
        />
        <SubmitButton label="Set new password" />
      </Form>
    </FocusLayout>
  );
}
