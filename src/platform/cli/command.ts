import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../../config.ts';
import type { Runtime } from '../context.ts';
import { type CommandIO, UsageError } from './io.ts';

export type CommandOptions = NonNullable<ParseArgsConfig['options']>;
export type CommandValues = Record<string, string | boolean | string[] | undefined>;

/**
 * A `candor` command that works on the database. Capabilities declare theirs; src/cli/commands.ts lists
 * them. With a server holding the embedded database, the command runs inside that server.
 */
export interface DatabaseCommand {
  /** One or two words: `migrate`, `tenant create`. */
  name: string;
  summary: string;
  usage: string;
  options: CommandOptions;
  /** The name under which one optional positional argument is passed in `values` (`audit verify FILE`). */
  positional?: string;
  run(runtime: Runtime, values: CommandValues, io: CommandIO): Promise<void>;
  /**
   * Work that needs no database (checking a file, restoring into an empty place): the CLI runs it in its
   * own process without opening the configured database or asking a running server. Resolves false to
   * hand the command to `run` instead (`audit verify --tenant` needs the database).
   */
  standalone?(values: CommandValues, io: CommandIO, config: Config): Promise<boolean>;
  /**
   * Options that name local files or directories. A command may run inside a server started elsewhere, so
   * the CLI makes these absolute against the caller's working directory first (URLs are left alone).
   */
  pathOptions?: string[];
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The command's arguments with every path option made absolute against `cwd` (see pathOptions). */
export function withAbsolutePaths(command: DatabaseCommand, args: string[], cwd = process.cwd()): string[] {
  const names = new Set(command.pathOptions ?? []);
  if (names.size === 0) return args;
  const absolute = (value: string) => (URL_LIKE.test(value) || value === '-' ? value : path.resolve(cwd, value));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const inline = /^--([^=]+)=(.*)$/s.exec(arg);
    if (inline?.[1] && names.has(inline[1])) out.push(`--${inline[1]}=${absolute(inline[2] ?? '')}`);
    else if (arg.startsWith('--') && names.has(arg.slice(2)) && i + 1 < args.length) {
      out.push(arg, absolute(args[i + 1] as string));
      i++;
    } else out.push(arg);
  }
  return out;
}

/** A string option's trimmed value; a usage error when required and missing. */
export function optionText(values: CommandValues, name: string, required = true): string | undefined {
  const value = values[name];
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (required) throw new UsageError(`--${name} is required`);
  return undefined;
}

/** A repeatable string option's trimmed, non-empty values (`--permission a --permission b`, or `a,b`). */
export function optionList(values: CommandValues, name: string): string[] {
  const value = values[name];
  const raw = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return raw
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}
