/** Where a command writes: the terminal when run directly, a buffer when run through the control socket. */
export interface CommandIO {
  out(line: string): void;
  err(line: string): void;
  /** Standard input, read fully (for --password-stdin and the like). */
  stdin(): Promise<string>;
  /** Whether the output goes to a person at a terminal (progress bars, colour). */
  isTTY: boolean;
  /** Redraws one status line in place (progress bars); absent when nobody watches a terminal. */
  status?: (line: string) => void;
}

export function terminalIO(): CommandIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    stdin: async () => {
      if (process.stdin.isTTY) return '';
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    isTTY: Boolean(process.stdout.isTTY),
    // Progress goes to stderr so `candor backup > list.txt` stays clean; only a terminal gets it.
    ...(process.stderr.isTTY ? { status: (line: string) => process.stderr.write(`\r${line}\x1b[K`) } : {}),
  };
}

export function bufferedIO(stdin = ''): CommandIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    stdin: async () => stdin,
    isTTY: false,
  };
}

/** A command's failure with a one-line reason for the person at the terminal (exit code 1). */
export class UsageError extends Error {
  override name = 'UsageError';
}
