import { describeResult } from '../../platform/audit/verify.ts';
import { type CommandValues, type DatabaseCommand, optionText } from '../../platform/cli/command.ts';
import { type CommandIO, UsageError } from '../../platform/cli/io.ts';
import { requireTenant } from '../tenants/service.ts';
import { parseTimeBound } from './schema.ts';
import { exportTrailFromCommand, verifyTrailFromCommand } from './service.ts';
import { trustedPublicKey, verifyTrailFile, verifyTrailText } from './trail-file.ts';

function timeOption(values: CommandValues, name: 'from' | 'to'): Date | undefined {
  const text = optionText(values, name, false);
  if (text === undefined) return undefined;
  const time = parseTimeBound(text, name === 'to');
  if (!time) throw new UsageError(`--${name} must be a date like 2025-01-31 or a time like 2025-01-31T09:30:00Z`);
  return time;
}

/** Prints the verdict when the trail is intact; otherwise fails with it, so the exit code says so too. */
function report(ok: boolean, summary: string, io: CommandIO): void {
  if (!ok) throw new Error(summary);
  io.out(summary);
}

/**
 * `candor audit verify FILE` (or `-` for standard input): checks an exported trail and needs no database, so
 * the CLI can run it in its own process (a path is then resolved against the caller's working directory).
 */
export async function verifyExportedTrail(file: string, publicKey: string | undefined, io: CommandIO): Promise<void> {
  const result = file === '-' ? await verifyTrailText(await io.stdin(), publicKey) : await verifyTrailFile(file, publicKey);
  report(result.ok, describeResult(result), io);
}

const auditExport: DatabaseCommand = {
  name: 'audit export',
  summary: 'Write a tenant’s audit trail as verifiable JSON Lines',
  usage: `candor audit export --tenant SLUG [--from TIME] [--to TIME]

  --tenant  the tenant's slug
  --from    only events at or after this time (2025-01-31 or 2025-01-31T09:30:00Z)
  --to      only events before this time; a date alone includes that whole day

Writes the trail to standard output, one JSON object a line: the signing keys, every event with its
hash and the signed checkpoints between them, and an end line. Check a copy with 'candor audit verify'.
The export is itself recorded in the trail (audit.exported).`,
  options: { tenant: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
  async run(runtime, values, io) {
    const range = { from: timeOption(values, 'from'), to: timeOption(values, 'to') };
    const tenant = await requireTenant(runtime.db, optionText(values, 'tenant') ?? '');
    for await (const line of await exportTrailFromCommand(runtime, tenant, range)) io.out(line);
  },
};

const auditVerify: DatabaseCommand = {
  name: 'audit verify',
  summary: 'Verify an exported audit trail, or a tenant’s trail in the database',
  usage: `candor audit verify FILE [--public-key KEY]
candor audit verify --tenant SLUG [--public-key KEY]

  FILE          an export from 'candor audit export' or the back office; - reads standard input
                (--file FILE works too)
  --tenant      verify this tenant's trail as stored in the database instead
  --public-key  the tenant's Ed25519 public key (base64, or a file holding it), obtained independently,
                e.g. from /.well-known/candor/audit-checkpoints.json; without it, checkpoint
                signatures are checked with the keys inside the trail

Checks every event's hash, the links between events, consecutive sequence numbers, the signed
checkpoints and the end line. Prints one line and exits 0 when the trail is intact; otherwise exits 1
naming the first sequence number that does not verify.`,
  options: { file: { type: 'string' }, tenant: { type: 'string' }, 'public-key': { type: 'string' } },
  positional: 'file',
  // A file is checked in the CLI's own process, with no database: a relative path means the caller's directory.
  async standalone(values, io) {
    const file = optionText(values, 'file', false);
    if (file === undefined || optionText(values, 'tenant', false) !== undefined) return false;
    await verifyExportedTrail(file, optionText(values, 'public-key', false), io);
    return true;
  },
  async run(runtime, values, io) {
    const file = optionText(values, 'file', false);
    const slug = optionText(values, 'tenant', false);
    const publicKey = optionText(values, 'public-key', false);
    if (file !== undefined && slug !== undefined) throw new UsageError('give either a file or --tenant, not both');
    if (file !== undefined) return verifyExportedTrail(file, publicKey, io);
    if (slug === undefined) throw new UsageError('give the file to verify, or --tenant SLUG to verify the database');
    const key = publicKey === undefined ? undefined : await trustedPublicKey(publicKey);
    const tenant = await requireTenant(runtime.db, slug);
    const verification = await verifyTrailFromCommand(runtime, tenant, key);
    report(verification.ok, verification.summary, io);
  },
};

export const auditCommands: DatabaseCommand[] = [auditExport, auditVerify];
