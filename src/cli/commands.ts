import { parseArgs } from 'node:util';
import { auditCommands } from '../modules/audit/commands.ts';
import { createDemo } from '../modules/demo/service.ts';
import { Duration, Role } from '../modules/identity/schema.ts';
import { createApiToken, issueSetupLink } from '../modules/identity/service.ts';
import type { Tenant } from '../modules/tenants/schema.ts';
import { createTenant, listAllTenants, requireTenant, tenantBaseUrl } from '../modules/tenants/service.ts';
import { type CommandValues, type DatabaseCommand, optionText } from '../platform/cli/command.ts';
import { type CommandIO, UsageError } from '../platform/cli/io.ts';
import type { Actor, Runtime } from '../platform/context.ts';
import { migrate } from '../platform/db/migrate.ts';

type Values = CommandValues;

/** Who acts in the trail when a command changes something: whoever can run commands on the server. */
export const CLI_ACTOR: Actor = { kind: 'system', name: 'cli' };
const text = optionText;

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
  usage: `candor token create --tenant SLUG --role ROLE --name NAME [--expires 30d]

  --tenant   the tenant's slug
  --role     the role the token acts as (owner, security-admin, auditor, ...)
  --name     what the token is for, shown in the back office
  --expires  lifetime such as 30d, 12h or 90m (default: never)

Prints the token on standard output, once: Candor keeps only its hash.`,
  options: {
    tenant: { type: 'string' },
    role: { type: 'string' },
    name: { type: 'string' },
    expires: { type: 'string' },
  },
  async run(runtime, values, io) {
    const tenant = await requireTenant(runtime.db, text(values, 'tenant') ?? '');
    const role = Role.safeParse(text(values, 'role'));
    if (!role.success) throw new UsageError(`--role ${role.error.issues[0]?.message ?? 'is invalid'}`);
    const expiresRaw = text(values, 'expires', false);
    const expires = expiresRaw === undefined ? undefined : Duration.safeParse(expiresRaw);
    if (expires && !expires.success) throw new UsageError(`--expires ${expires.error.issues[0]?.message ?? 'is invalid'}`);
    const { token, info } = await createApiToken(
      runtime,
      { tenantId: tenant.id, actor: CLI_ACTOR },
      {
        name: text(values, 'name') ?? '',
        role: role.data,
        expiresInMs: expires?.data,
      },
    );
    io.out(token);
    io.err(
      `Created token "${info.name}" (${info.role}) for ${tenant.slug}${info.expiresAt ? `, expires ${info.expiresAt.toISOString()}` : ', no expiry'}.`,
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
  migrateCommand,
  demoCommand,
  ...auditCommands,
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
