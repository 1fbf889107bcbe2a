import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message as the sink received it over SMTP, with its envelope and the parts tests look at. */
export interface CapturedMail {
  /** Envelope sender and recipients (MAIL FROM / RCPT TO). */
  envelope: { from: string; to: string[] };
  raw: string;
  parsed: ParsedMail;
}

export interface MailSink {
  /** `smtp://127.0.0.1:<port>` for SMTP_URL. */
  url: string;
  port: number;
  /** Messages accepted so far, oldest first. */
  messages: CapturedMail[];
  /** Every DATA transaction the server finished, accepted or refused. */
  attempts: number;
  /** Resolves with the first message (already received or arriving later) that matches, or rejects after timeoutMs. */
  waitForMail(predicate?: (mail: CapturedMail) => boolean, timeoutMs?: number): Promise<CapturedMail>;
  /** Refuses the next `count` messages at the end of DATA with a temporary (4xx) error. */
  rejectNext(count: number, reply?: { code?: number; message?: string }): void;
  /** Holds the reply to each following message for `ms` (a slow server); 0 answers at once. */
  delayReplies(ms: number): void;
  close(): Promise<void>;
}

/**
 * An in-process SMTP server on a free local port: plain text (no STARTTLS), no authentication required.
 * Point SMTP_URL at `sink.url`; it captures what arrives and can be told to fail or slow down.
 */
export async function startMailSink(): Promise<MailSink> {
  const messages: CapturedMail[] = [];
  const waiters = new Set<{ predicate: (m: CapturedMail) => boolean; resolve: (m: CapturedMail) => void }>();
  let toReject = 0;
  let rejection = { code: 451, message: 'Requested action aborted: try again later' };
  let delayMs = 0;
  let attempts = 0;

  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        attempts++;
        const answer = () => {
          if (toReject > 0) {
            toReject--;
            const error = new Error(rejection.message) as Error & { responseCode: number };
            error.responseCode = rejection.code;
            callback(error);
            return;
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          const mail: CapturedMail = {
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            raw,
            parsed: parseMail(raw),
          };
          messages.push(mail);
          for (const waiter of waiters) {
            if (waiter.predicate(mail)) {
              waiters.delete(waiter);
              waiter.resolve(mail);
            }
          }
          callback(null, 'Message accepted');
        };
        if (delayMs > 0) setTimeout(answer, delayMs);
        else answer();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {}); // a client hanging up mid-session is not the test's failure
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    get attempts() {
      return attempts;
    },
    waitForMail(predicate = () => true, timeoutMs = 10_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<CapturedMail>((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (m: CapturedMail) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching mail within ${timeoutMs} ms (received ${messages.length})`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    rejectNext(count, reply = {}) {
      toReject = count;
      rejection = { code: reply.code ?? 451, message: reply.message ?? 'Requested action aborted: try again later' };
    },
    delayReplies(ms) {
      delayMs = ms;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ParsedMail {
  /** Header names in lower case, values unfolded and with RFC 2047 encoded words decoded. */
  headers: Map<string, string>;
  subject: string;
  from: string;
  to: string;
  /** The text/plain body, transfer encoding undone. */
  text: string;
  /** The text/html body, if any. */
  html: string | undefined;
  /** Parts sent as attachments, base64 undone. */
  attachments: { filename: string; contentType: string; content: Buffer }[];
}

/**
 * Just enough RFC 5322/MIME to read what Candor writes (nodemailer's output): headers, encoded words,
 * quoted-printable or base64 bodies, and multipart/alternative with text and HTML parts.
 */
export function parseMail(raw: string): ParsedMail {
  const { headers, body } = splitEntity(raw);
  const parts = leafParts(headers, body);
  const text = parts.find((p) => p.type === 'text/plain')?.body ?? '';
  const html = parts.find((p) => p.type === 'text/html')?.body;
  return {
    headers,
    subject: headers.get('subject') ?? '',
    from: headers.get('from') ?? '',
    to: headers.get('to') ?? '',
    text,
    html,
    attachments: attachmentsOf(headers, body),
  };
}

function attachmentsOf(headers: Map<string, string>, body: string): ParsedMail['attachments'] {
  const contentType = headers.get('content-type') ?? 'text/plain';
  if (contentType.toLowerCase().startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!boundary) return [];
    return body
      .split(`--${boundary}`)
      .slice(1)
      .filter((s) => !s.startsWith('--'))
      .flatMap((section) => {
        const part = splitEntity(section.replace(/^\n/, ''));
        return attachmentsOf(part.headers, part.body.replace(/\n$/, ''));
      });
  }
  const disposition = headers.get('content-disposition') ?? '';
  if (!disposition.toLowerCase().startsWith('attachment')) return [];
  const filename = /filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? '';
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const content = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64') : Buffer.from(body);
  return [{ filename, contentType: contentType.split(';')[0]?.trim() ?? '', content }];
}

function splitEntity(raw: string): { headers: Map<string, string>; body: string } {
  const normalized = raw.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end === -1 ? normalized : normalized.slice(0, end);
  const body = end === -1 ? '' : normalized.slice(end + 2);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function leafParts(headers: Map<string, string>, body: string): { type: string; body: string }[] {
  const contentType = headers.get('content-type') ?? 'text/plain';
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? 'text/plain';
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!boundary) return [];
    const sections = body.split(`--${boundary}`).slice(1);
    return sections
      .filter((s) => !s.startsWith('--'))
      .flatMap((section) => {
        const part = splitEntity(section.replace(/^\n/, ''));
        return leafParts(part.headers, part.body.replace(/\n$/, ''));
      });
  }
  const charset = /charset="?([^";]+)"?/i.exec(contentType)?.[1] ?? 'utf-8';
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  return [{ type, body: decodeBody(body, encoding, charset) }];
}

function decodeBody(body: string, encoding: string, charset: string): string {
  if (encoding === 'base64') return new TextDecoder(charset).decode(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
  if (encoding === 'quoted-printable') return new TextDecoder(charset).decode(quotedPrintable(body.replace(/=\n/g, '')));
  return body;
}

function quotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047: `=?charset?B|Q?text?=`, adjacent encoded words joined without the space between them. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, charset: string, kind: string, text: string) => {
      const bytes = kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : quotedPrintable(text.replace(/_/g, ' '));
      return new TextDecoder(charset).decode(bytes);
    });
}
