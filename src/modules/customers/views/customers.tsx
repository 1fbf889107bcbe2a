import {
  EmptyState,
  Field,
  type FieldErrors,
  Form,
  PageHeader,
  SubmitButton,
  Table,
  Time,
} from '../../../platform/ui/components.tsx';
import type { CustomerRow } from '../store.ts';

export interface CustomerFormValues {
  name: string;
  domains: string;
  contacts: string;
}

export function CustomersPage({
  customers,
  csrfToken,
  canManage,
  values = { name: '', domains: '', contacts: '' },
  errors = {},
}: {
  customers: CustomerRow[];
  csrfToken: string;
  canManage: boolean;
  values?: CustomerFormValues;
  errors?: FieldErrors;
}) {
  return (
    <>
      <PageHeader
        title="Customers"
        description="Customer organizations: requests for documents from their domains or contacts are approved automatically (after the NDA); incident notices will reach their contacts."
      />
      <Table
        caption="Customers"
        rows={customers}
        empty={<EmptyState title="No customers yet" />}
        columns={[
          { header: 'Name', cell: (c) => <a href={`/admin/customers/${c.id}`}>{c.name}</a> },
          { header: 'Domains', cell: (c) => c.domains.join(', ') },
          { header: 'Contacts', cell: (c) => c.contacts.join(', ') },
          { header: 'Updated', cell: (c) => <Time at={c.updatedAt} /> },
        ]}
      />
      {canManage ? (
        <section class="panel">
          <h2>Add a customer</h2>
          <CustomerForm action="/admin/customers" csrfToken={csrfToken} values={values} errors={errors} submit="Add customer" />
        </section>
      ) : null}
    </>
  );
}

function CustomerForm({
  action,
  csrfToken,
  values,
  errors,
  submit,
}: {
  action: string;
  csrfToken: string;
  values: CustomerFormValues;
  errors: FieldErrors;
  submit: string;
}) {
  const area = (name: 'domains' | 'contacts', label: string, hint: string) => (
    <div class={errors[name] ? 'field field--invalid' : 'field'}>
      <label for={`field-${name}`}>{label}</label>
      <p class="field__hint">{hint}</p>
      <textarea id={`field-${name}`} name={name} rows={4}>
        {values[name]}
      </textarea>
      {errors[name] ? <p class="field__error">{errors[name]}</p> : null}
    </div>
  );
  return (
    <Form action={action} csrfToken={csrfToken} errors={errors}>
      <Field name="name" label="Organization" value={values.name} error={errors.name} required maxlength={200} />
      {area('domains', 'Mail domains', 'One a line, such as example.com (subdomains count too).')}
      {area('contacts', 'Contacts', 'Email addresses, one a line.')}
      <SubmitButton label={submit} />
    </Form>
  );
}

export function CustomerPage({
  customer,
  csrfToken,
  canManage,
  values,
  errors = {},
}: {
  customer: CustomerRow;
  csrfToken: string;
  canManage: boolean;
  values?: CustomerFormValues;
  errors?: FieldErrors;
}) {
  const shown = values ?? { name: customer.name, domains: customer.domains.join('\n'), contacts: customer.contacts.join('\n') };
  return (
    <>
      <PageHeader title={customer.name} description={`Updated by ${customer.updatedBy}`} />
      {canManage ? (
        <>
          <CustomerForm
            action={`/admin/customers/${customer.id}`}
            csrfToken={csrfToken}
            values={shown}
            errors={errors}
            submit="Save"
          />
          <Form action={`/admin/customers/${customer.id}/delete`} csrfToken={csrfToken}>
            <SubmitButton label="Remove customer" variant="danger" />
          </Form>
        </>
      ) : (
        <dl class="facts">
          <dt>Domains</dt>
          <dd>{customer.domains.join(', ')}</dd>
          <dt>Contacts</dt>
          <dd>{customer.contacts.join(', ')}</dd>
        </dl>
      )}
    </>
  );
}
