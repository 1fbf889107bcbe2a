import { Field, type FieldErrors, Form, SubmitButton } from '../../../platform/ui/components.tsx';
import { FocusLayout } from '../../../platform/ui/layout.tsx';

interface LoginPageProps {
  tenantName: string;
  email?: string | undefined;
  next?: string | undefined;
  errors?: FieldErrors | undefined;
  error?: string | undefined;
}

export function LoginPage({ tenantName, email, next, errors, error }: LoginPageProps) {
  return (
    <FocusLayout title="Sign in" subtitle={`to the ${tenantName} back office`}>
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
    </FocusLayout>
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
