import { Field, type FieldErrors, Form, SubmitButton } from '../../../platform/ui/components.tsx';
import { FocusLayout } from '../../../platform/ui/layout.tsx';
import type { InvitationInfo } from '../invitations.ts';

interface InvitationPageProps {
  action: string;
  tenantName: string;
  invitation: InvitationInfo;
  values?: Record<string, string> | undefined;
  errors?: FieldErrors | undefined;
}

/** Where an invited person confirms their name and chooses their first password. */
export function InvitationPage({ action, tenantName, invitation, values, errors }: InvitationPageProps) {
  return (
    <FocusLayout
      title={`Join ${tenantName}`}
      subtitle={`Choose a password for ${invitation.email} to start using the back office.`}
    >
      <Form action={action} errors={errors}>
        {/* Lets a password manager file the new password under the right account. */}
        <input type="hidden" name="username" value={invitation.email} autocomplete="username" />
        <Field
          name="name"
          label="Your name"
          value={values?.name ?? invitation.name}
          error={errors?.name}
          autocomplete="name"
          required
        />
        <Field
          name="password"
          label="Password"
          type="password"
          error={errors?.password}
          hint="At least 12 characters, any you like. Avoid common passwords and your own names."
          autocomplete="new-password"
          minlength={12}
          required
          autofocus
        />
        <SubmitButton label="Set password and sign in" />
      </Form>
    </FocusLayout>
  );
}
