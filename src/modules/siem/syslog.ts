import net from 'node:net';
import tls from 'node:tls';
import type { RecordedEvent } from '../../platform/audit/audit.ts';
import { canonicalJson, type JsonValue } from '../../platform/audit/canonical.ts';

/**
 * Facility 13, "log audit" (RFC 5424 §6.2.1): the trail is an audit log, and SIEMs route this facility to
 * audit storage. (Facility 10, authpriv, would mix it with the host's own login records.)
 */
export const SYSLOG_FACILITY = 13;
const SEVERITY = { warning: 4, informational: 6 } as const;
/** RFC 5612's enterprise number for documentation; the SD-ID is private to Candor, not registered. */
export const SD_ID = 'candor@32473';
const APP_NAME = 'candor';
const NILVALUE = '-';

/** Escapes an SD-PARAM value: `"`, `\` and `]` take a backslash (RFC 5424 §6.3.3). */
export function sdParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** A header field: printable US-ASCII without spaces, at most `max` characters, or the NILVALUE. */
function headerField(value: string, max: number): string {
  const printable = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return printable || NILVALUE;
}

function actorOf(event: RecordedEvent): string {
  return `${event.actor.type}:${event.actor.label ?? event.actor.id ?? NILVALUE}`;
}

/**
 * One event as an RFC 5424 message:
 * `<PRI>1 TIMESTAMP HOSTNAME candor - MSGID [candor@32473 …] MSG`, where MSG is the event's canonical JSON,
 * the exact bytes its hash covers: sha256(MSG) equals the `hash` parameter, so a SIEM can check each
 * message on its own (MSG is sent without a BOM for that reason, as RFC 5424's MSG-ANY).
 */
export function syslogMessage(event: RecordedEvent, hostname: string): string {
  const { hash, ...chained } = event;
  const severity = event.outcome === 'success' ? SEVERITY.informational : SEVERITY.warning;
  const params: [string, string][] = [
    ['tenant', event.tenant],
    ['seq', String(event.seq)],
    ['actor', actorOf(event)],
    ['outcome', event.outcome],
    ...(event.target ? ([['target', `${event.target.type}:${event.target.id ?? NILVALUE}`]] as [string, string][]) : []),
    ['hash', hash],
  ];
  const sd = `[${SD_ID} ${params.map(([name, value]) => `${name}="${sdParamValue(value)}"`).join(' ')}]`;
  const header = [
    `<${SYSLOG_FACILITY * 8 + severity}>1`,
    event.time,
    headerField(hostname, 255),
    APP_NAME,
    NILVALUE,
    headerField(event.action, 32),
  ].join(' ');
  return `${header} ${sd} ${canonicalJson(chained as unknown as JsonValue)}`;
}

/** RFC 6587 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes of the UTF-8 message. */
export function octetCountedFrame(message: string): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]);
}

export interface SyslogTarget {
  host: string;
  port: number;
  tls: boolean;
  caPem?: string | null;
  servername?: string | null;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** How long a batch may take from connecting to the receiver closing the connection. */
const SEND_TIMEOUT_MS = 30_000;
/** After our data is flushed and our side closed, how long to wait for the receiver to close its side. */
const CLOSE_GRACE_MS = 2_000;

/**
 * Sends frames over one connection and resolves once they are written, flushed and the connection shut
 * down without error. TCP syslog has no acknowledgement (RFC 6587), so "flushed and closed cleanly" is the
 * strongest receipt it offers; a reset, a refused connection or a timeout rejects and the caller retries.
 */
export function sendSyslogFrames(target: SyslogTarget, frames: Buffer[]): Promise<void> {
  const where = `syslog ${target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    const socket = target.tls
      ? tls.connect({
          host: target.host,
          port: target.port,
          // A server name is sent (and checked) for host names; IP addresses are checked against the certificate's IP SANs.
          ...(target.servername || net.isIP(target.host) === 0 ? { servername: target.servername || target.host } : {}),
          ...(target.caPem ? { ca: target.caPem } : {}),
          minVersion: 'TLSv1.2',
        })
      : net.connect({ host: target.host, port: target.port });
    let settled = false;
    let flushed = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        socket.destroy();
        resolve();
      }
    };
    timers.push(
      setTimeout(() => finish(new Error(`${where}: not delivered within ${SEND_TIMEOUT_MS / 1000} s`)), SEND_TIMEOUT_MS),
    );
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      if (!flushed) finish(new Error(`${where}: no progress for ${CONNECT_TIMEOUT_MS / 1000} s`));
    });
    socket.on('error', (error) => finish(new Error(`${where}: ${error.message}`)));
    socket.on('data', () => {}); // a receiver has nothing to say; read and drop whatever it sends
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      socket.end(Buffer.concat(frames));
    });
    socket.once('finish', () => {
      flushed = true;
      // Our bytes are with the operating system and our FIN is sent: a receiver that took them closes its side.
      timers.push(setTimeout(() => finish(), CLOSE_GRACE_MS));
    });
    socket.once('close', (hadError) => {
      if (hadError) finish(new Error(`${where}: connection closed with an error`));
      else if (flushed) finish();
      else finish(new Error(`${where}: connection closed before the batch was written`));
    });
  });
}
