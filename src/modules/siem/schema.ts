import { isIP } from 'node:net';
import { z } from '@hono/zod-openapi';

// RFC 1123 host names: labels of letters, digits and inner hyphens, at most 253 characters in all.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

export const Host = z
  .string()
  .trim()
  .min(1, 'enter the receiver’s host name or IP address')
  .max(253, 'a host name has at most 253 characters')
  .refine((host) => isIP(host) !== 0 || HOST_NAME.test(host), 'not a host name or IP address (for example siem.example.com)');

export const Port = z.coerce
  .number({ error: 'enter a port number' })
  .int('a port is a whole number')
  .min(1, 'ports run from 1 to 65535')
  .max(65535, 'ports run from 1 to 65535');

function parsedUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

export const WebhookUrl = z
  .string()
  .trim()
  .min(1, 'enter the receiver’s URL')
  .max(2048, 'a URL of at most 2048 characters')
  .superRefine((value, ctx) => {
    const url = parsedUrl(value);
    if (!url?.hostname) ctx.addIssue({ code: 'custom', message: 'not a URL (for example https://siem.example.com/candor)' });
    else if (url.protocol !== 'https:' && url.protocol !== 'http:')
      ctx.addIssue({ code: 'custom', message: 'use an https:// (or http://) URL' });
    // Credentials in a URL end up on screens and in logs; the HMAC secret authenticates us instead.
    else if (url.username || url.password)
      ctx.addIssue({ code: 'custom', message: 'leave user name and password out of the URL' });
  });

export const WebhookSecret = z
  .string()
  .min(24, 'use at least 24 characters, or leave it empty to have one generated')
  .max(256, 'use at most 256 characters');

const CaPem = z
  .string()
  .trim()
  .max(65_536, 'at most 64 KiB of certificates')
  .refine((pem) => pem.includes('-----BEGIN CERTIFICATE-----'), 'paste PEM certificates (-----BEGIN CERTIFICATE-----)');

const Name = z.string().trim().min(1, 'name the destination').max(80, 'use at most 80 characters');

/** Where forwarding starts: the whole trail (from seq 1), or only what is recorded from now on. */
export const StartAt = z.enum(['beginning', 'now']).default('beginning');

export const NewSyslogDestination = z
  .object({
    kind: z.literal('syslog'),
    name: Name,
    host: Host,
    port: Port,
    tls: z.boolean().default(true),
    servername: Host.optional().openapi({ description: 'TLS server name to check, when it differs from host' }),
    caPem: CaPem.optional().openapi({ description: 'PEM certificates to trust instead of the system CAs' }),
    startAt: StartAt,
  })
  .openapi('NewSyslogDestination');

export const NewWebhookDestination = z
  .object({
    kind: z.literal('webhook'),
    name: Name,
    url: WebhookUrl,
    secret: WebhookSecret.optional().openapi({ description: 'HMAC-SHA256 key; generated (and returned once) when absent' }),
    startAt: StartAt,
  })
  .openapi('NewWebhookDestination');

export const NewDestination = z.discriminatedUnion('kind', [NewSyslogDestination, NewWebhookDestination]);
export type NewDestination = z.input<typeof NewDestination>;

export const DestinationIdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

/** A destination as people and the API see it: never its secret or lease. */
export interface DestinationInfo {
  id: string;
  name: string;
  kind: 'syslog' | 'webhook';
  host: string | null;
  port: number | null;
  tls: boolean;
  servername: string | null;
  hasCa: boolean;
  url: string | null;
  enabled: boolean;
  /** The last sequence number the receiver accepted. */
  cursor: number;
  lastSuccessAt: Date | null;
  lastErrorAt: Date | null;
  lastError: string | null;
  failures: number;
  createdAt: Date;
}

export const Destination = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(['syslog', 'webhook']),
    host: z.string().nullable(),
    port: z.number().int().nullable(),
    tls: z.boolean(),
    servername: z.string().nullable(),
    hasCa: z.boolean(),
    url: z.string().nullable(),
    enabled: z.boolean(),
    cursor: z.number().int().openapi({ description: 'Last sequence number the receiver accepted' }),
    head: z.number().int().openapi({ description: 'Sequence number of the newest event in the trail' }),
    lastSuccessAt: z.iso.datetime().nullable(),
    lastErrorAt: z.iso.datetime().nullable(),
    lastError: z.string().nullable(),
    failures: z.number().int().openapi({ description: 'Failed deliveries since the last success' }),
    createdAt: z.iso.datetime(),
  })
  .openapi('SiemDestination');

export const CreatedDestination = Destination.extend({
  secret: z.string().optional().openapi({ description: 'The generated webhook secret, shown only in this response' }),
}).openapi('CreatedSiemDestination');
