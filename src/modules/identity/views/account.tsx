import { Field, type FieldErrors, Form, PageHeader, SubmitButton } from '../../../platform/ui/components.tsx';
import { PASSWORD_MIN_LENGTH } from '../passwords.ts';

export interface AccountViewProps {
  name: string;
  email: string;
  csrfToken: string;
  errors?: FieldErrors | undefined;
  error?: string | undefined;
}

export function AccountView({ name, email, csrfToken, errors, error }: AccountViewProps) {
  return (
    <>
      <PageHeader title="Your account" description={`${name} · ${email}`} />
      <p>
        <a href="/admin/account/mfa">Two-step sign-in: authenticator app, passkeys, recovery codes</a>
      </p>
      <section class="panel" aria-labelledby="change-password-title">
        <h2 id="change-password-title" class="panel__title">
          Change password
        </h2>
        <Form action="/admin/account/password" csrfToken={csrfToken} errors={errors} error={error}>
          {/* Lets password managers tie the new password to the right account. */}
          <input type="hidden" name="username" value={email} autocomplete="username" />
          <Field
            name="currentPassword"
            label="Current password"
            type="password"
            error={errors?.currentPassword}
            autocomplete="current-password"
            required
          />
          <Field
            name="newPassword"
            label="New password"
            type="password"
            error={errors?.newPassword}
            hint={`At least ${PASSWORD_MIN_LENGTH} characters, any you like. Avoid common passwords and your own names. Your other sessions end when it changes.`}
            autocomplete="new-password"
            required
          />
          <SubmitButton label="Change password" />
        </Form>
      </section>
    </>
  );
}
