import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Candor-Signature';
export const DELIVERY_HEADER = 'Candor-Delivery';
const TIMEOUT_MS = 30_000;

/**
 * Signed webhook deliveries, shared by SIEM forwarding and Trust Center subscriptions: a JSON body POSTed with
 * `Candor-Signature: t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>">` and a fresh `Candor-Delivery` id.
 */
function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the destination's secret>`. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

/**
 * What a receiver does with a delivery (docs/siem-forwarding.md): recompute the HMAC over the raw body
 * with the shared secret, compare in constant time, and refuse a timestamp too far from its own clock
 * (a replayed delivery). Exported for our tests and as the reference for receivers written in TypeScript.
 */
export function verifyWebhookSignature(
  header: string | null | undefined,
  body: string,
  secret: string,
  options: { now?: Date; toleranceSeconds?: number } = {},
): boolean {
  if (!header) return false;
  const parts = new Map(
    header.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(timestamp) || !/^[0-9a-f]{64}$/.test(given)) return false;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(hmacHex(secret, timestamp, body), 'hex'));
}

/**
 * POSTs one signed batch. Any 2xx is the receiver's acceptance; anything else (including a redirect, which
 * is not followed: a signed batch goes only where it was configured to go) rejects and the caller retries.
 */
export async function postWebhook(
  url: string,
  secret: string,
  body: string,
  now: Date,
  userAgent = 'Candor-SIEM-Forwarder/1',
): Promise<void> {
  const timestamp = Math.floor(now.getTime() / 1000);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': userAgent,
        [SIGNATURE_HEADER]: signatureHeader(secret, timestamp, body),
        [DELIVERY_HEADER]: randomUUID(),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(`webhook ${new URL(url).origin}: ${cause ?? (error as Error).message}`);
  }
  // The body is not kept or logged: it is the receiver's, and it could be anything.
  await response.body?.cancel().catch(() => {});
  if (response.status < 200 || response.status > 299) {
    throw new Error(`webhook ${new URL(url).origin}: answered ${response.status} ${response.statusText}`.trim());
  }
}
