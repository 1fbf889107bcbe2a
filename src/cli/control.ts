import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ZodError } from 'zod';
import { bufferedIO } from '../platform/cli/io.ts';
import type { Runtime } from '../platform/context.ts';
import { runDatabaseCommand } from './commands.ts';

export const CONTROL_SOCKET = 'control.sock';

interface ControlRequest {
  argv: string[];
  stdin: string;
}

export interface ControlResponse {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** One line for the person at the terminal, whatever went wrong. */
export function describeError(error: unknown): string {
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    return `${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? 'failed';
}

export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, CONTROL_SOCKET);
}

/**
 * While `candor start` holds the embedded database, other `candor` commands cannot open it; they send their
 * arguments here instead and the server runs them. The socket is owner-only: whoever can use it can
 * already read the data directory.
 */
export async function serveControlSocket(runtime: Runtime, dataDir: string): Promise<net.Server> {
  const file = controlSocketPath(dataDir);
  rmSync(file, { force: true }); // a socket file left by a process that died
  const server = net.createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > 1_000_000) socket.destroy();
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      const line = buffer.slice(0, newline);
      void answer(runtime, line).then((response) => socket.end(`${JSON.stringify(response)}\n`));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => resolve());
  });
  chmodSync(file, 0o600);
  return server;
}

async function answer(runtime: Runtime, line: string): Promise<ControlResponse> {
  const io = bufferedIO();
  try {
    const request = JSON.parse(line) as ControlRequest;
    if (!Array.isArray(request.argv) || !request.argv.every((a) => typeof a === 'string')) throw new Error('bad request');
    const commandIO = { ...io, stdin: async () => (typeof request.stdin === 'string' ? request.stdin : '') };
    await runDatabaseCommand(runtime, request.argv, commandIO);
    return { code: 0, stdout: io.stdout, stderr: io.stderr };
  } catch (error) {
    return { code: 1, stdout: io.stdout, stderr: [...io.stderr, `candor: ${describeError(error)}`] };
  }
}

/** Sends a command to the running server; rejects when no server listens on the socket. */
export function sendControlCommand(dataDir: string, argv: string[], stdin: string): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(controlSocketPath(dataDir));
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ argv, stdin })}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
    });
    socket.on('end', () => {
      try {
        resolve(JSON.parse(buffer) as ControlResponse);
      } catch {
        reject(new Error('the running server gave no answer'));
      }
    });
    socket.on('error', reject);
  });
}
