import { type DatabaseCommand, optionText } from '../../platform/cli/command.ts';
import { UsageError } from '../../platform/cli/io.ts';
import type { RequestContext, Runtime } from '../../platform/context.ts';
import { InvalidInput } from '../../platform/errors.ts';
import type { Tenant } from '../tenants/schema.ts';
import { requireTenant, tenantBaseUrl } from '../tenants/service.ts';
import { Email, NewPassword } from './schema.ts';
import { createPerson } from './service.ts';

/** The command line acts as the system: whoever can run commands on the server already holds everything. */
function commandContext(runtime: Runtime, tenant: Tenant): RequestContext {
  return {
    ...runtime,
    tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
    actor: { kind: 'system', name: 'cli' },
    requestId: '',
    ip: '',
    userAgent: '',
  };
}

/** The password as piped in: one trailing line break (from `echo` or a file) is not part of it. */
export function passwordFromStdin(input: string): string {
  return input.replace(/\r?\n$/, '');
}

function firstIssue(result: { error: { issues: { message: string }[] } }): string {
  return result.error.issues[0]?.message ?? 'is invalid';
}

const userCreate: DatabaseCommand = {
  name: 'user create',
  summary: 'Create a person who can sign in, with a role',
  usage: `candor user create --tenant SLUG --email EMAIL --role ROLE [--name NAME] --password-stdin

  --tenant          the tenant's slug
  --email           the address the person signs in with
  --role            owner, security-admin, privacy-officer, incident-commander, responder,
                    vendor-manager, content-editor, approver, auditor, employee, or a custom role's slug
  --name            the name shown in the back office (default: the part of the address before @)
  --password-stdin  read the password from standard input (at least 12 characters)

Example:
  printf '%s' "$PASSWORD" | candor user create --tenant acme --email ada@acme.example \\
    --role security-admin --password-stdin

Prints the new person's id. More roles can be granted in the back office under People.`,
  options: {
    tenant: { type: 'string' },
    email: { type: 'string' },
    role: { type: 'string' },
    name: { type: 'string' },
    'password-stdin': { type: 'boolean' },
  },
  async run(runtime, values, io) {
    const tenant = await requireTenant(runtime.db, optionText(values, 'tenant') ?? '');
    const email = Email.safeParse(optionText(values, 'email'));
    if (!email.success) throw new UsageError(`--email ${firstIssue(email)}`);
    const role = optionText(values, 'role') ?? '';
    if (values['password-stdin'] !== true) {
      throw new UsageError('--password-stdin is required: pipe the password on standard input');
    }
    const password = passwordFromStdin(await io.stdin());
    if (password === '') throw new UsageError('the password on standard input is empty');
    const strong = NewPassword.safeParse(password);
    if (!strong.success) throw new UsageError(`password: ${firstIssue(strong)}`);
    const name = optionText(values, 'name', false) ?? email.data.split('@')[0] ?? email.data;
    const user = await createPerson(commandContext(runtime, tenant), { email: email.data, name, role, password }).catch(
      (error: unknown) => {
        if (error instanceof InvalidInput && error.fields.role) throw new UsageError(`--role: ${error.message}`);
        if (error instanceof InvalidInput && error.fields.password) throw new UsageError(`password: ${error.fields.password}`);
        throw error;
      },
    );
    io.out(user.id);
    io.err(
      `Created ${user.email} (${role}) in ${tenant.slug}; they can sign in at ${tenantBaseUrl(runtime.config.publicUrl, tenant)}/admin/login`,
    );
  },
};

export const identityCommands: DatabaseCommand[] = [userCreate];
