import { parseArgs } from 'node:util';
import { isPermission, knownPermissions, PERMISSIONS } from '../modules/access/service.ts';
import { auditCommands } from '../modules/audit/commands.ts';
import { backupsCommands } from '../modules/backups/commands.ts';
import { createDemo } from '../modules/demo/service.ts';
import { identityCommands } from '../modules/identity/commands.ts';
import { Duration } from '../modules/identity/schema.ts';
import { createApiToken, issueSetupLink } from '../modules/identity/service.ts';
import { keysCommands } from '../modules/keys/commands.ts';
import { networkCommands } from '../modules/network/commands.ts';
import type { Tenant } from '../modules/tenants/schema.ts';
import { createTenant, listAllTenants, requireTenant, tenantBaseUrl } from '../modules/tenants/service.ts';
import { type CommandValues, type DatabaseCommand, optionList, optionText } from '../platform/cli/command.ts';
import { type CommandIO, UsageError } from '../platform/cli/io.ts';
import type { Actor, Runtime } from '../platform/context.ts';
import { migrate } from '../platform/db/migrate.ts';
import { InvalidInput } from '../platform/errors.ts';

type Values = CommandValues;

/** Who acts in the trail when a command changes something: whoever can run commands on the server. */
export const CLI_ACTOR: Actor = { kind: 'system', name: 'cli' };
const text = optionText;
const listOption = optionList;

function hostList(values: Values): string[] {
  const raw = values.host;
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  return list
    .flatMap((h) => h.split(','))
    .map((h) => h.trim())
    .filter(Boolean);
}

/** Prints the one-time owner setup link for a tenant that has nobody yet. */
export async function printSetupLink(runtime: Runtime, tenant: Tenant, io: CommandIO, actor: Actor = CLI_ACTOR): Promise<void> {
  const link = await issueSetupLink(runtime, tenant, actor);
  if (!link) return;
  const url = `${tenantBaseUrl(runtime.config.publicUrl, tenant)}${link}`;
  runtime.log.info({ tenant: tenant.slug, setupUrl: url }, 'first-run setup link (single use, valid for one hour)');
  io.err(`Create the first owner of "${tenant.name}" (single use, valid for one hour):\n  ${url}`);
}

const tenantCreate: DatabaseCommand = {
  name: 'tenant create',
  summary: 'Create a tenant (a company with its own Trust Center and back office)',
  usage: `candor tenant create --slug SLUG --name NAME [--host HOST]... [--contact-email EMAIL]

  --slug           short identifier: lower-case letters, digits and hyphens
  --name           the company's display name
  --host           a host name that serves this tenant (repeat, or separate with commas)
  --contact-email  public address for security questions

Prints the tenant's id, then a one-time link that creates its first owner.`,
  options: {
    slug: { type: 'string' },
    name: { type: 'string' },
    host: { type: 'string', multiple: true },
    'contact-email': { type: 'string' },
  },
  async run(runtime, values, io) {
    const tenant = await createTenant(
      runtime.db,
      {
        slug: text(values, 'slug') ?? '',
        name: text(values, 'name') ?? '',
        hosts: hostList(values),
        contactEmail: text(values, 'contact-email', false),
      },
      { audit: runtime.audit, actor: CLI_ACTOR },
    );
    io.out(tenant.id);
    io.err(`Created tenant "${tenant.slug}" (${tenant.name})${tenant.hosts.length ? ` for ${tenant.hosts.join(', ')}` : ''}.`);
    await printSetupLink(runtime, tenant, io);
  },
};

const tenantList: DatabaseCommand = {
  name: 'tenant list',
  summary: 'List tenants',
  usage: 'candor tenant list\n\nPrints one tenant a line: slug, name, hosts.',
  options: {},
  async run(runtime, _values, io) {
    for (const t of await listAllTenants(runtime.db)) io.out(`${t.slug}\t${t.name}\t${t.hosts.join(',') || '(any host)'}`);
  },
};

const tokenCreate: DatabaseCommand = {
  name: 'token create',
  summary: 'Create an API token for the JSON API',
  usage: `candor token create --tenant SLUG --name NAME (--permission PERMISSION... | --role ROLE) [--expires 30d]
                           [--allow-ip CIDR]...

  --tenant      the tenant's slug
  --name        what the token is for, shown in the back office
  --permission  a permission the token acts with, such as audit.read (repeat for several)
  --role        a shortcut: every permission of this role (owner, security-admin, auditor, ...)
  --expires     lifetime such as 30d, 12h or 90m (default: never)
  --allow-ip    an address or CIDR range the token may be used from, such as 203.0.113.0/24 or
                2001:db8::/32 (repeat for several; default: anywhere)

Prints the token on standard output, once: Candor keeps only its hash.`,
  options: {
    tenant: { type: 'string' },
    permission: { type: 'string', multiple: true },
    role: { type: 'string' },
    name: { type: 'string' },
    expires: { type: 'string' },
    'allow-ip': { type: 'string', multiple: true },
  },
  async run(runtime, values, io) {
    const tenant = await requireTenant(runtime.db, text(values, 'tenant') ?? '');
    const permissions = listOption(values, 'permission');
    const unknown = permissions.filter((p) => !isPermission(p));
    if (unknown.length > 0) {
      throw new UsageError(
        `--permission ${unknown.join(', ')} is not a permission; valid: ${PERMISSIONS.map((p) => p.slug).join(', ')}`,
      );
    }
    const role = text(values, 'role', false);
    if (permissions.length === 0 && !role) throw new UsageError('give --permission (one or more) or --role');
    const expiresRaw = text(values, 'expires', false);
    const expires = expiresRaw === undefined ? undefined : Duration.safeParse(expiresRaw);
    if (expires && !expires.success) throw new UsageError(`--expires ${expires.error.issues[0]?.message ?? 'is invalid'}`);
    const { token, info } = await createApiToken(
      runtime,
      { tenantId: tenant.id, actor: CLI_ACTOR },
      {
        name: text(values, 'name') ?? '',
        permissions: knownPermissions(permissions),
        role,
        expiresInMs: expires?.data,
        allowedIps: listOption(values, 'allow-ip'),
      },
    ).catch((error: unknown) => {
      // The command line names its flag: "--role unknown role ..." reads better than a form's message.
      if (error instanceof InvalidInput && error.fields.role) throw new UsageError(`--role: ${error.message}`);
      if (error instanceof InvalidInput && error.fields.allowedIps) throw new UsageError(`--allow-ip ${error.fields.allowedIps}`);
      throw error;
    });
    io.out(token);
    const scope = info.permissions.length === 1 ? '1 permission' : `${info.permissions.length} permissions`;
    io.err(
      `Created token "${info.name}" (${scope}) for ${tenant.slug}${info.expiresAt ? `, expires ${info.expiresAt.toISOString()}` : ', no expiry'}${info.allowedIps ? `, usable only from ${info.allowedIps.join(', ')}` : ''}.`,
    );
  },
};

const migrateCommand: DatabaseCommand = {
  name: 'migrate',
  summary: 'Apply database migrations (start does this too)',
  usage: 'candor migrate\n\nApplies pending migrations and re-applies roles and row-level security policies.',
  options: {},
  async run(runtime, _values, io) {
    const report = await migrate(runtime.db, { reapplyPolicies: true });
    io.out(
      report.applied.length > 0
        ? `Applied ${report.applied.length} migration(s): ${report.applied.join(', ')}`
        : `Database is up to date (${report.total} migrations).`,
    );
  },
};

const demoCommand: DatabaseCommand = {
  name: 'demo',
  summary: 'Create the demo tenant with sample content',
  usage: 'candor demo\n\nCreates the "demo" tenant (Halcyon Ledger, a fictional company) with sample content. Safe to run twice.',
  options: {},
  async run(runtime, _values, io) {
    const { tenant, created } = await createDemo(runtime, CLI_ACTOR);
    io.out(created ? `Created the demo tenant "${tenant.name}".` : `The demo tenant "${tenant.name}" already exists.`);
    io.out(`Trust Center: ${tenantBaseUrl(runtime.config.publicUrl, tenant)}/`);
    await printSetupLink(runtime, tenant, io);
  },
};

export const DATABASE_COMMANDS: DatabaseCommand[] = [
  tenantCreate,
  tenantList,
  tokenCreate,
  ...identityCommands,
  migrateCommand,
  demoCommand,
  ...auditCommands,
  ...keysCommands,
  ...backupsCommands,
  ...networkCommands,
];

/** Finds the command named by the first one or two words of argv. */
export function findCommand(argv: string[]): { command: DatabaseCommand; rest: string[] } | undefined {
  const two = `${argv[0]} ${argv[1]}`;
  const byTwo = DATABASE_COMMANDS.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = DATABASE_COMMANDS.find((c) => c.name === argv[0]);
  return byOne ? { command: byOne, rest: argv.slice(1) } : undefined;
}

/** Parses a command's options strictly: an unknown flag or a stray argument is a usage error. */
export function parseCommandArgs(command: DatabaseCommand, rest: string[]): Values {
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: command.options,
      strict: true,
      allowPositionals: Boolean(command.positional),
    });
    if (positionals.length > 1) throw new Error(`unexpected argument ${positionals[1]}`);
    const [first] = positionals;
    if (command.positional && first !== undefined) return { ...values, [command.positional]: first } as Values;
    return values as Values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see candor ${command.name} --help)`);
  }
}

/** Runs a database command with an open runtime; the caller owns the runtime and the output. */
export async function runDatabaseCommand(runtime: Runtime, argv: string[], io: CommandIO): Promise<void> {
  const found = findCommand(argv);
  if (!found) throw new UsageError(`unknown command "${argv.join(' ')}" (see candor --help)`);
  const values = parseCommandArgs(found.command, found.rest);
  await found.command.run(runtime, values, io);
}
