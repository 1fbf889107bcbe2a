import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import path from 'node:path';

/** The PostgreSQL client programs a backup or restore needs are not installed, or failed. */
export class PgToolError extends Error {
  override name = 'PgToolError';
}

export type PgTool = 'pg_dump' | 'pg_restore';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * pg_dump or pg_restore: from PATH (on Debian a wrapper that picks the version matching the server), else
 * the newest /usr/lib/postgresql/<version>/bin. A dump must be made by a pg_dump at least as new as the server.
 */
export function findPgTool(tool: PgTool, env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, tool);
    if (executable(candidate)) return candidate;
  }
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    // no PostgreSQL packages installed
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const candidate = path.join(root, version, 'bin', tool);
    if (executable(candidate)) return candidate;
  }
  throw new PgToolError(
    `${tool} was not found on PATH or in /usr/lib/postgresql/*/bin; install the PostgreSQL client programs (the server's major version or newer)`,
  );
}

/**
 * How a tool connects: the URL without its password (command lines are visible to every user of the
 * machine), and the password in PGPASSWORD.
 */
export function toolConnection(url: string): { dbname: string; env: Record<string, string> } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { dbname: parsed.toString(), env: password ? { PGPASSWORD: password } : {} };
}

export interface RunningTool {
  child: ChildProcess;
  /** Resolves when the tool exits 0; rejects with the last line it wrote to stderr otherwise. */
  done: Promise<void>;
}

export function startPgTool(tool: PgTool, url: string, args: string[], stdin: 'pipe' | 'ignore'): RunningTool {
  const program = findPgTool(tool);
  const { dbname, env } = toolConnection(url);
  const child = spawn(program, [...args, `--dbname=${dbname}`], {
    env: { ...process.env, ...env },
    stdio: [stdin, 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new PgToolError(`${tool} could not be started: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      const reason = stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit code ${code ?? signal}`;
      reject(new PgToolError(`${tool} failed: ${reason.replace(/^pg_(dump|restore): (error: )?/, '')}`));
    });
  });
  return { child, done };
}
