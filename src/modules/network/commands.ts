import { type DatabaseCommand, optionText } from '../../platform/cli/command.ts';
import { UsageError } from '../../platform/cli/io.ts';
import type { Actor } from '../../platform/context.ts';
import { requireTenant } from '../tenants/service.ts';
import { ALLOWLIST_NAMES, ALLOWLIST_TITLES, type AllowlistName } from './schema.ts';
import { allowlistsOfTenant, disableAllowlist } from './service.ts';

/** Whoever can run commands on the server already holds everything: the trail names the command line. */
const CLI_ACTOR: Actor = { kind: 'system', name: 'cli' };

function listOption(value: string | undefined): AllowlistName {
  const list = ALLOWLIST_NAMES.find((name) => name === value);
  if (!list) throw new UsageError(`--list must be one of ${ALLOWLIST_NAMES.join(', ')}`);
  return list;
}

const allowlistShow: DatabaseCommand = {
  name: 'allowlist show',
  summary: 'Show a tenant’s IP allow-lists for the back office and the API',
  usage: `candor allowlist show --tenant SLUG

  --tenant  the tenant's slug

Prints each list (admin, api), whether it is on, and its entries one a line.`,
  options: { tenant: { type: 'string' } },
  async run(runtime, values, io) {
    const tenant = await requireTenant(runtime.db, optionText(values, 'tenant') ?? '');
    for (const list of await allowlistsOfTenant(runtime, tenant.id)) {
      io.out(`${list.list}\t${list.enabled ? 'on' : 'off'}\t${list.entries.length} entries`);
      for (const entry of list.entries) io.out(`  ${entry.cidr}${entry.label ? `\t${entry.label}` : ''}`);
    }
  },
};

const allowlistDisable: DatabaseCommand = {
  name: 'allowlist disable',
  summary: 'Turn an IP allow-list off (break-glass when nobody can reach the back office or API)',
  usage: `candor allowlist disable --tenant SLUG --list admin|api

  --tenant  the tenant's slug
  --list    admin (the back office) or api (the JSON API)

Lets every address in again; the entries are kept, to turn the list back on in the back office once fixed.
Recorded in the audit trail as ip_allowlist.disabled. A running server sees the change at once when the
command reaches it (PGlite), otherwise within ten seconds.`,
  options: { tenant: { type: 'string' }, list: { type: 'string' } },
  async run(runtime, values, io) {
    const tenant = await requireTenant(runtime.db, optionText(values, 'tenant') ?? '');
    const list = listOption(optionText(values, 'list'));
    const changed = await disableAllowlist(runtime, { tenantId: tenant.id, actor: CLI_ACTOR }, list);
    io.out(
      changed
        ? `The ${ALLOWLIST_TITLES[list]} allow-list of ${tenant.slug} is now off: every address is let in.`
        : `The ${ALLOWLIST_TITLES[list]} allow-list of ${tenant.slug} was already off.`,
    );
  },
};

export const networkCommands: DatabaseCommand[] = [allowlistShow, allowlistDisable];
