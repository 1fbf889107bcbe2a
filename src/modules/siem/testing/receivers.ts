import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

/** One RFC 5424 message as a receiver sees it, with its structured data decoded. */
export interface SyslogMessage {
  raw: string;
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sdId: string;
  params: Record<string, string>;
  msg: string;
}

/** Parses `<PRI>1 TS HOST APP PROCID MSGID [SD-ID k="v" …] MSG` with RFC 5424's SD-PARAM escapes. */
export function parseSyslogMessage(raw: string): SyslogMessage {
  const header = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) \[/.exec(raw);
  if (!header) throw new Error(`not an RFC 5424 message: ${raw.slice(0, 80)}`);
  let i = header[0].length;
  const sdIdEnd = raw.indexOf(' ', i);
  const sdId = raw.slice(i, sdIdEnd);
  i = sdIdEnd;
  const params: Record<string, string> = {};
  while (raw[i] === ' ') {
    const eq = raw.indexOf('=', i);
    const name = raw.slice(i + 1, eq);
    if (raw[eq + 1] !== '"') throw new Error(`SD-PARAM ${name} is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; raw[j] !== '"'; j++) {
      if (j >= raw.length) throw new Error('unterminated SD-PARAM');
      const c = raw[j] as string;
      if (c === '\\' && ['"', '\\', ']'].includes(raw[j + 1] ?? '')) {
        value += raw[j + 1];
        j++;
      } else if (c === ']' || c === '"') {
        throw new Error(`unescaped ${c} in SD-PARAM ${name}`);
      } else {
        value += c;
      }
    }
    params[name] = value;
    i = j + 1;
  }
  if (raw[i] !== ']' || raw[i + 1] !== ' ') throw new Error(`structured data not closed at ${i}: ${raw.slice(i, i + 20)}`);
  return {
    raw,
    pri: Number(header[1]),
    version: Number(header[2]),
    timestamp: header[3] as string,
    hostname: header[4] as string,
    appName: header[5] as string,
    procId: header[6] as string,
    msgId: header[7] as string,
    sdId,
    params,
    msg: raw.slice(i + 2),
  };
}

/**
 * A TCP syslog receiver with RFC 6587 octet-counting framing: `MSG-LEN SP SYSLOG-MSG`, the length in bytes.
 * A frame whose length prefix is not a number is a framing error, recorded rather than guessed around.
 */
export class SyslogReceiver {
  readonly messages: SyslogMessage[] = [];
  readonly framingErrors: string[] = [];
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  /** @param credentials a key and certificate (PEM) to listen with TLS instead of plain TCP */
  constructor(
    public port = 0,
    private readonly credentials?: { key: string; cert: string },
  ) {}

  async listen(): Promise<number> {
    const server = this.credentials
      ? tls.createServer(this.credentials, (socket) => this.accept(socket))
      : net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) return;
        const length = buffer.subarray(0, space).toString('ascii');
        if (!/^[1-9]\d{0,8}$/.test(length)) {
          this.framingErrors.push(`bad length ${JSON.stringify(length.slice(0, 20))}`);
          socket.destroy();
          return;
        }
        const end = space + 1 + Number(length);
        if (buffer.length < end) return;
        const raw = buffer.subarray(space + 1, end).toString('utf8');
        buffer = buffer.subarray(end);
        try {
          this.messages.push(parseSyslogMessage(raw));
        } catch (error) {
          this.framingErrors.push((error as Error).message);
        }
      }
    });
    socket.on('end', () => {
      if (buffer.length > 0) this.framingErrors.push(`connection ended inside a frame (${buffer.length} bytes left)`);
      socket.end();
    });
    socket.on('error', () => {});
  }

  /** Sequence numbers received, in arrival order. */
  seqs(): number[] {
    return this.messages.map((m) => Number(m.params.seq));
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A port that was free a moment ago (for a receiver that is down at first). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface WebhookDelivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

/** An HTTP receiver that answers each delivery with the status `answer` picks and keeps what it got. */
export class WebhookReceiver {
  readonly deliveries: WebhookDelivery[] = [];
  private server: http.Server | undefined;
  url = '';

  constructor(private readonly answer: (delivery: Omit<WebhookDelivery, 'status'>, index: number) => number) {}

  async listen(): Promise<string> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const delivery = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        const status = this.answer(delivery, this.deliveries.length);
        this.deliveries.push({ ...delivery, status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/candor/events`;
    return this.url;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
