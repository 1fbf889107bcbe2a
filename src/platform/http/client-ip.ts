import type { Context } from 'hono';

// Who is on the other end of a request, and which URL they used. Without trusted proxies only the socket
// speaks: its address is the client and its encryption is the scheme. X-Forwarded-* headers are believed
// only when the socket's peer is inside CANDOR_TRUST_PROXY, because anyone can send them.

/** An IP address as 4 (IPv4) or 16 (IPv6) bytes. IPv4-mapped IPv6 addresses are stored as IPv4. */
export interface IpAddress {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
}

/** A network in CIDR notation: the address with its host bits clear, and the prefix length. */
export interface CidrBlock {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** Canonical text, such as `10.0.0.0/8` or `2001:db8::/32`. */
  readonly text: string;
}

export type CidrParse = { ok: true; block: CidrBlock } | { ok: false; error: string };
export type CidrListParse = { ok: true; blocks: CidrBlock[] } | { ok: false; error: string };

const IPV4_PART = /^(?:0|[1-9]\d{0,2})$/;
const IPV6_GROUP = /^[0-9a-f]{1,4}$/i;

/** Parses `a.b.c.d`; leading zeros are refused (some parsers read them as octal). */
function parseIpv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    if (!IPV4_PART.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

/** Expands one side of `::` into 16-bit groups; a trailing dotted IPv4 part counts as two groups. */
function ipv6Groups(text: string, allowIpv4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (allowIpv4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4Bytes(part);
      if (!v4) return undefined;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else if (IPV6_GROUP.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseIpv6Bytes(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const [head = '', tail] = halves;
  const left = ipv6Groups(head, tail === undefined);
  const right = tail === undefined ? [] : ipv6Groups(tail, true);
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  // Without `::` all eight groups are spelled out; with it, it stands for at least one zero group.
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...new Array<number>(tail === undefined ? 0 : missing).fill(0), ...right];
  const bytes = new Uint8Array(16);
  for (const [i, group] of groups.entries()) {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  }
  return bytes;
}

function isIpv4Mapped(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * Parses an IPv4 or IPv6 address. An IPv6 zone (`fe80::1%eth0`) is dropped: it names an interface, not a host.
 * `::ffff:192.0.2.1` (how a dual-stack socket reports an IPv4 peer) becomes `192.0.2.1`.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  if (!text.includes(':')) {
    const bytes = parseIpv4Bytes(text);
    return bytes ? { version: 4, bytes } : undefined;
  }
  const zone = text.indexOf('%');
  const bytes = parseIpv6Bytes(zone === -1 ? text : text.slice(0, zone));
  if (!bytes || (zone !== -1 && zone === text.length - 1)) return undefined;
  return isIpv4Mapped(bytes) ? { version: 4, bytes: bytes.slice(12) } : { version: 6, bytes };
}

/** Canonical text: dotted IPv4, or IPv6 as RFC 5952 writes it (lowercase, longest zero run as `::`). */
export function formatIpAddress(ip: IpAddress): string {
  if (ip.version === 4) return Array.from(ip.bytes).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((ip.bytes[i * 2] ?? 0) << 8) | (ip.bytes[i * 2 + 1] ?? 0));
  const run = longestZeroRun(groups);
  const hex = groups.map((g) => g.toString(16));
  if (run.length < 2) return hex.join(':');
  return `${hex.slice(0, run.start).join(':')}::${hex.slice(run.start + run.length).join(':')}`;
}

function longestZeroRun(groups: number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start === -1) start = i;
    } else if (start !== -1) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}

/** Normalises an address to its canonical text, or undefined when it is not an IP address. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIpAddress(text);
  return ip ? formatIpAddress(ip) : undefined;
}

function hasBitsAfter(bytes: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) return true;
  }
  return false;
}

function clearBitsAfter(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3] = (out[bit >> 3] ?? 0) & ~(1 << (7 - (bit & 7)));
  return out;
}

/**
 * Parses `10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32 or /128). An IPv4-mapped IPv6 network
 * (`::ffff:10.0.0.0/104`) is read as the IPv4 network it covers, matching how addresses are compared.
 * A network with host bits set (`10.0.0.1/8`) is refused: it is ambiguous whether a host or a range was meant.
 */
export function parseCidr(text: string): CidrParse {
  const value = text.trim();
  const slash = value.indexOf('/');
  const addressText = slash === -1 ? value : value.slice(0, slash);
  if (addressText.includes('%')) return { ok: false, error: `"${value}" names an interface zone; remove the %… part` };
  const rawBytes = addressText.includes(':') ? parseIpv6Bytes(addressText) : parseIpv4Bytes(addressText);
  if (!rawBytes) return { ok: false, error: `"${value}" is not an IP address or CIDR range` };
  const width = rawBytes.length * 8;
  let prefix = width;
  if (slash !== -1) {
    const prefixText = value.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > width) {
      return { ok: false, error: `"${value}" needs a prefix length between 0 and ${width} after the /` };
    }
    prefix = Number(prefixText);
  }
  let version: 4 | 6 = rawBytes.length === 4 ? 4 : 6;
  let bytes = rawBytes;
  if (version === 6 && isIpv4Mapped(rawBytes) && prefix >= 96) {
    version = 4;
    bytes = rawBytes.slice(12);
    prefix -= 96;
  }
  if (hasBitsAfter(bytes, prefix)) {
    const network = formatIpAddress({ version, bytes: clearBitsAfter(bytes, prefix) });
    return { ok: false, error: `"${value}" has bits set after its /${prefix} prefix (the range is ${network}/${prefix})` };
  }
  return { ok: true, block: { version, bytes, prefix, text: `${formatIpAddress({ version, bytes })}/${prefix}` } };
}

/** Parses a comma-separated list of CIDR ranges (blank entries are skipped); the first bad entry is the error. */
export function parseCidrList(text: string): CidrListParse {
  const blocks: CidrBlock[] = [];
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue;
    const parsed = parseCidr(entry);
    if (!parsed.ok) return parsed;
    blocks.push(parsed.block);
  }
  return { ok: true, blocks };
}

export function cidrContains(block: CidrBlock, ip: IpAddress): boolean {
  if (block.version !== ip.version) return false;
  const whole = block.prefix >> 3;
  for (let i = 0; i < whole; i++) if (block.bytes[i] !== ip.bytes[i]) return false;
  const rest = block.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((block.bytes[whole] ?? 0) & mask) === ((ip.bytes[whole] ?? 0) & mask);
}

export function inAnyCidr(blocks: readonly CidrBlock[], ip: IpAddress): boolean {
  return blocks.some((block) => cidrContains(block, ip));
}

// --- the request as the client made it -------------------------------------------------------------------

/** What the socket says about the other end. `address` is undefined for a request made in-process. */
export interface Peer {
  address: string | undefined;
  /** Whether the connection is TLS; undefined for a request made in-process (no socket at all). */
  encrypted: boolean | undefined;
}

export interface ForwardedHeaders {
  forwardedFor: string | undefined;
  forwardedProto: string | undefined;
  forwardedHost: string | undefined;
}

/** The client as Candor believes it: its address, and the scheme and host of the URL it used. */
export interface ClientView {
  ip: string;
  scheme: 'http' | 'https' | undefined;
  /** A host from a trusted proxy's X-Forwarded-Host; undefined means the request's own Host stands. */
  host: string | undefined;
}

// In-process requests (app.request() in tests, internal calls) have no socket; they come from this machine.
const IN_PROCESS_ADDRESS = '127.0.0.1';
// A socket that no longer knows its peer (it closed under us) matches no allow-list entry but 0.0.0.0/0.
const UNKNOWN_ADDRESS = '0.0.0.0';

/** Reads the socket of @hono/node-server's request bindings (`c.env.incoming`). */
export function peerOf(env: unknown): Peer {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string; encrypted?: boolean } } } | undefined)?.incoming;
  const socket = incoming?.socket;
  if (!socket) return { address: undefined, encrypted: undefined };
  return { address: socket.remoteAddress ?? UNKNOWN_ADDRESS, encrypted: socket.encrypted === true };
}

/** One X-Forwarded-For entry: an address, possibly with a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`). */
export function parseForwardedAddress(entry: string): IpAddress | undefined {
  const value = entry.trim().replace(/^"(.*)"$/, '$1');
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(value);
  if (bracketed) return parseIpAddress(bracketed[1] ?? '');
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(value);
  if (v4WithPort) return parseIpAddress(v4WithPort[1] ?? '');
  return parseIpAddress(value);
}

const HOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A Host value (`name[:port]`, `[v6][:port]`), lowercased; undefined when it is anything else. */
export function parseHostHeader(value: string): string | undefined {
  const host = value.trim().toLowerCase();
  if (host.length === 0 || host.length > 260) return undefined;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host);
  if (!match) return undefined;
  const [, name = '', port] = match;
  if (port !== undefined && Number(port) > 65535) return undefined;
  const validName = name.startsWith('[')
    ? parseIpv6Bytes(name.slice(1, -1)) !== undefined
    : name.length <= 253 && HOST_NAME.test(name);
  return validName ? host : undefined;
}

function splitList(header: string | undefined): string[] {
  return header === undefined ? [] : header.split(',').map((part) => part.trim());
}

/**
 * Walks X-Forwarded-For from the right, past every trusted proxy: each proxy appends the address it received
 * the request from, so the right-most address that is not a trusted proxy is the client. Entries further left
 * came from the client itself and are never believed. A malformed entry stops the walk at the last address
 * known for certain. Returns the client and how many trusted proxies were named in the header.
 */
function walkForwardedFor(
  peer: IpAddress,
  header: string | undefined,
  trusted: readonly CidrBlock[],
): { client: IpAddress; proxiesNamed: number } {
  const hops = splitList(header);
  let client = peer;
  let proxiesNamed = 0;
  for (let i = hops.length - 1; i >= 0 && inAnyCidr(trusted, client); i--) {
    const hop = parseForwardedAddress(hops[i] ?? '');
    if (!hop) break;
    if (client !== peer) proxiesNamed++;
    client = hop;
  }
  return { client, proxiesNamed };
}

/**
 * The value a list header (X-Forwarded-Proto, X-Forwarded-Host) holds for the proxy that faced the client.
 * Proxies that append put one value per hop, the client-facing proxy's `proxiesNamed` from the right; proxies
 * that replace leave one value, which is then the answer.
 */
function valueForClientHop(header: string | undefined, proxiesNamed: number): string | undefined {
  const values = splitList(header).filter((v) => v !== '');
  if (values.length === 0) return undefined;
  return values[Math.max(0, values.length - 1 - proxiesNamed)];
}

function forwardedScheme(value: string | undefined): 'http' | 'https' | undefined {
  const scheme = value?.toLowerCase();
  return scheme === 'https' || scheme === 'http' ? scheme : undefined;
}

/**
 * Decides who the client is. Without a trusted proxy in front, the socket's address and encryption are the
 * whole truth and every X-Forwarded-* header is ignored. From a trusted peer, X-Forwarded-For names the
 * client (right-most untrusted hop), and X-Forwarded-Proto/-Host say which URL it used; malformed values
 * are ignored, leaving what the socket says.
 */
export function viewOfClient(peer: Peer, headers: ForwardedHeaders, trusted: readonly CidrBlock[]): ClientView {
  const peerIp = parseIpAddress(peer.address ?? IN_PROCESS_ADDRESS) ?? parseIpAddress(UNKNOWN_ADDRESS);
  const socketScheme = peer.encrypted === undefined ? undefined : peer.encrypted ? 'https' : 'http';
  if (!peerIp || trusted.length === 0 || !inAnyCidr(trusted, peerIp)) {
    return { ip: peerIp ? formatIpAddress(peerIp) : UNKNOWN_ADDRESS, scheme: socketScheme, host: undefined };
  }
  const { client, proxiesNamed } = walkForwardedFor(peerIp, headers.forwardedFor, trusted);
  const proto = forwardedScheme(valueForClientHop(headers.forwardedProto, proxiesNamed));
  const hostValue = valueForClientHop(headers.forwardedHost, proxiesNamed);
  return {
    ip: formatIpAddress(client),
    scheme: proto ?? socketScheme,
    host: hostValue === undefined ? undefined : parseHostHeader(hostValue),
  };
}

export function forwardedHeadersOf(headers: Headers): ForwardedHeaders {
  return {
    forwardedFor: headers.get('x-forwarded-for') ?? undefined,
    forwardedProto: headers.get('x-forwarded-proto') ?? undefined,
    forwardedHost: headers.get('x-forwarded-host') ?? undefined,
  };
}

/**
 * The request URL as the client used it: the view's scheme and host over the received path and query. The
 * scheme is never taken from the request line (an absolute-form target could claim https over plain HTTP).
 */
export function urlSeenByClient(url: string, view: ClientView): string {
  const parsed = new URL(url);
  const protocol = view.scheme ? `${view.scheme}:` : parsed.protocol;
  const host = view.host ?? parsed.host;
  if (protocol === parsed.protocol && host === parsed.host) return url;
  // Built afresh: URL's host setter keeps the old port when the new host names none.
  return new URL(`${protocol}//${host}${parsed.pathname}${parsed.search}`).href;
}

type StreamingRequestInit = RequestInit & { duplex: 'half' };

/** The same request (method, headers, unread body, abort signal) at another URL. */
export function requestAtUrl(request: Request, url: string): Request {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const init: StreamingRequestInit = {
    method: request.method,
    headers: request.headers,
    body: hasBody ? request.body : null,
    signal: request.signal,
    duplex: 'half',
  };
  return new Request(url, init);
}

/**
 * Settles who the client is for the rest of the request: returns its address and, when the URL the client
 * used differs from the one received (TLS, or a trusted proxy's scheme or host), re-targets `c.req` at it,
 * so tenant resolution, same-origin checks, cookies and links all see what the visitor's browser sees.
 */
export function settleClient(c: Context, trusted: readonly CidrBlock[]): string {
  const view = viewOfClient(peerOf(c.env), forwardedHeadersOf(c.req.raw.headers), trusted);
  const url = urlSeenByClient(c.req.url, view);
  if (url !== c.req.url) c.req.raw = requestAtUrl(c.req.raw, url);
  return view.ip;
}

/** Whether the client reached us over HTTPS: directly over TLS, or through a trusted proxy that says so. */
export function isSecureRequest(c: Context): boolean {
  return c.req.url.startsWith('https:');
}
