import type { ParseArgsConfig } from 'node:util';
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
}

/** A string option's trimmed value; a usage error when required and missing. */
export function optionText(values: CommandValues, name: string, required = true): string | undefined {
  const value = values[name];
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (required) throw new UsageError(`--${name} is required`);
  return undefined;
}
