import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { auditScope } from '../../platform/audit/audit.ts';
import { actorLabel, type RequestContext } from '../../platform/context.ts';
import type { Database } from '../../platform/db/client.ts';
import { Conflict, InvalidInput, NotFound } from '../../platform/errors.ts';
import { requirePermission } from '../access/service.ts';
import { claimTenantHost, hostInUse, releaseTenantHost } from '../tenants/service.ts';
import { type DomainRow, deleteDomain, insertDomain, readDomainClaims, readDomains, updateDomain } from './store.ts';

export const VERIFICATION_PATH = '/.well-known/candor-domain-verification';
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_ANSWER = 4096;
const CHECK_TIMEOUT_MS = 5000;

/**
 * A custom domain as stored: lower case, a fully qualified DNS name of at least two labels with a letter
 * top-level label; no scheme, port, path, IP address, trailing dot or `localhost`.
 */
export function normalizeDomain(input: string): string {
  const host = input.trim().toLowerCase();
  const refuse = (why: string): never => {
    throw new InvalidInput(why, { hostname: why });
  };
  if (host === '') refuse('enter a domain such as trust.example.com');
  if (/[/:?#@\s\\[\]]/.test(host)) refuse('enter the domain name alone: no http://, port or path');
  if (host.length > 253 || host.endsWith('.')) refuse('enter a domain name such as trust.example.com');
  if (isIP(host) !== 0) refuse('enter a domain name, not an IP address');
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) refuse('enter a domain name such as trust.example.com');
  const top = labels[labels.length - 1] ?? '';
  if (!/^([a-z]{2,63}|xn--[a-z0-9-]+)$/.test(top)) refuse('enter a domain name such as trust.example.com');
  if (host === 'localhost' || host.endsWith('.localhost')) refuse('a localhost name cannot be a public domain');
  return host;
}

/** What a domain answers at the verification path: the body of a 200, at most a few KiB; throws otherwise. */
export type DomainProbe = (hostname: string) => Promise<string>;

function fetchOnce(url: URL, hostHeader: string): Promise<string> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(
      url,
      { headers: { host: hostHeader, accept: 'text/plain' }, timeout: CHECK_TIMEOUT_MS, servername: hostHeader },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`answered HTTP ${res.statusCode ?? '?'}`));
          return;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > MAX_ANSWER) req.destroy(new Error('answered with too much data'));
        });
        res.on('end', () => resolve(body));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('did not answer in time')));
    req.on('error', reject);
  });
}

/**
 * Asks the domain itself (HTTPS, then HTTP) or, when `via` is set (`CANDOR_DOMAIN_CHECK_VIA`), that address
 * with the domain as Host. Redirects are not followed: the answer must come from the name being verified.
 */
export function httpDomainProbe(via: string | undefined): DomainProbe {
  return async (hostname) => {
    if (via) return fetchOnce(new URL(`${via}${VERIFICATION_PATH}`), hostname);
    try {
      return await fetchOnce(new URL(`https://${hostname}${VERIFICATION_PATH}`), hostname);
    } catch (httpsError) {
      try {
        return await fetchOnce(new URL(`http://${hostname}${VERIFICATION_PATH}`), hostname);
      } catch {
        throw httpsError;
      }
    }
  };
}

export async function listDomains(ctx: RequestContext): Promise<DomainRow[]> {
  requirePermission(ctx.actor, 'settings.read');
  return ctx.db.withTenant(ctx.tenant.id, (tx) => readDomains(tx, ctx.tenant.id));
}

/**
 * Starts routing a custom domain: records it with a fresh token to be served at the verification path. Refused
 * when any tenant (this one included) already has or asked for the name. Needs `settings.manage`.
 */
export async function addDomain(ctx: RequestContext, input: string): Promise<DomainRow> {
  requirePermission(ctx.actor, 'settings.manage');
  const hostname = normalizeDomain(input);
  const taken = await ctx.db.withSystem(
    async (tx) => (await readDomainClaims(tx, hostname)).length > 0 || (await hostInUse(tx, hostname)),
  );
  if (taken) throw new Conflict(`${hostname} is already in use`);
  const row: DomainRow = {
    tenantId: ctx.tenant.id,
    hostname,
    token: `candor-domain-verification=${randomBytes(24).toString('base64url')}`,
    createdAt: ctx.clock.now(),
    createdBy: actorLabel(ctx.actor),
    verifiedAt: null,
    lastCheckedAt: null,
    lastError: null,
  };
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    await insertDomain(tx, row);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'trust_center.domain_added',
      target: { type: 'domain', id: hostname },
    });
  });
  return row;
}

async function ownDomain(ctx: RequestContext, hostname: string): Promise<DomainRow> {
  const row = (await ctx.db.withTenant(ctx.tenant.id, (tx) => readDomains(tx, ctx.tenant.id))).find(
    (d) => d.hostname === hostname,
  );
  if (!row) throw new NotFound('domain', hostname);
  return row;
}

/**
 * Checks that the domain answers this tenant's token at the verification path (so it reaches this Candor);
 * then it routes to the tenant. A failed check is kept with its reason. Needs `settings.manage`.
 */
export async function verifyDomain(ctx: RequestContext, hostname: string, probe: DomainProbe): Promise<DomainRow> {
  requirePermission(ctx.actor, 'settings.manage');
  const row = await ownDomain(ctx, hostname.toLowerCase());
  let failure: string | null = null;
  try {
    const answer = await probe(row.hostname);
    if (!answer.split(/\s+/).includes(row.token)) failure = 'the verification address does not answer this token';
  } catch (error) {
    failure = `the verification address could not be read: ${error instanceof Error ? error.message : 'unknown error'}`;
  }
  if (!failure && !(await claimTenantHost(ctx.db, ctx.tenant.id, row.hostname))) failure = 'another workspace uses this domain';
  const checked: DomainRow = {
    ...row,
    lastCheckedAt: ctx.clock.now(),
    lastError: failure,
    verifiedAt: failure ? row.verifiedAt : (row.verifiedAt ?? ctx.clock.now()),
  };
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    await updateDomain(tx, checked);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: failure ? 'trust_center.domain_verification_failed' : 'trust_center.domain_verified',
      target: { type: 'domain', id: row.hostname },
      outcome: failure ? 'failed' : 'success',
      ...(failure ? { details: { reason: failure } } : {}),
    });
  });
  return checked;
}

/** Stops routing a domain to the tenant and forgets it. Needs `settings.manage`. */
export async function removeDomain(ctx: RequestContext, hostname: string): Promise<void> {
  requirePermission(ctx.actor, 'settings.manage');
  const row = await ownDomain(ctx, hostname.toLowerCase());
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    await deleteDomain(tx, ctx.tenant.id, row.hostname);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'trust_center.domain_removed',
      target: { type: 'domain', id: row.hostname },
      details: { wasVerified: row.verifiedAt !== null },
    });
  });
  if (row.verifiedAt) await releaseTenantHost(ctx.db, ctx.tenant.id, row.hostname);
}

/** The tokens to answer at the verification path for a host name (any tenant's claim on it; usually one). */
export async function verificationTokens(db: Database, hostname: string): Promise<string[]> {
  return db.withSystem(async (tx) => (await readDomainClaims(tx, hostname)).map((d) => d.token));
}
