import { z } from '@hono/zod-openapi';
import { RoleSlugText } from '../access/service.ts';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why an issuer URL is refused, or undefined when it is acceptable: HTTPS, or plain HTTP on a loopback host
 * only (a provider running on the same machine, as tests and trials have). No query or fragment (OIDC Discovery).
 */
export function issuerProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'enter the provider’s issuer URL, for example https://login.example.com';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    return 'the issuer must use https:// (plain http:// only on localhost, 127.0.0.1 or ::1)';
  }
  if (url.search || url.hash) return 'the issuer URL has no query or fragment';
  if (url.username || url.password) return 'the issuer URL carries no user name or password';
  return undefined;
}

export const IssuerUrl = z
  .string()
  .trim()
  .min(1, 'enter the provider’s issuer URL')
  .max(500)
  .superRefine((value, check) => {
    const problem = issuerProblem(value);
    if (problem) check.addIssue({ code: 'custom', message: problem });
  })
  // Issuers are compared as strings with the ID token's `iss`: keep exactly what was typed, minus a trailing slash
  // only when the path is just "/" (what URL parsing adds).
  .transform((value) => value.replace(/^(https?:\/\/[^/]+)\/$/, '$1'));

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export const Scopes = z
  .string()
  .trim()
  .max(500)
  .transform((value) => [...new Set(value.split(/\s+/).filter(Boolean))])
  .superRefine((scopes, check) => {
    if (!scopes.includes('openid')) check.addIssue({ code: 'custom', message: 'the scopes must include openid' });
    if (!scopes.includes('email'))
      check.addIssue({ code: 'custom', message: 'the scopes must include email (people are matched by it)' });
    if (scopes.some((s) => !SCOPE_TOKEN.test(s)))
      check.addIssue({ code: 'custom', message: 'scopes are words separated by spaces' });
  })
  .transform((scopes) => scopes.join(' '));

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export const DomainList = z
  .array(z.string().trim().toLowerCase())
  .max(100)
  .transform((domains) => [...new Set(domains.map((d) => d.replace(/^@/, '')).filter(Boolean))])
  .superRefine((domains, check) => {
    const bad = domains.filter((d) => !DOMAIN.test(d));
    if (bad.length > 0) check.addIssue({ code: 'custom', message: `not an email domain: ${bad.join(', ')}` });
  });

/** What a tenant's SSO settings are made of, as the service takes them (the secret: undefined keeps the saved one). */
export interface SsoSettingsInput {
  displayName: string;
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  scopes: string;
  allowedDomains: string[];
  jitEnabled: boolean;
  defaultRole: string | null;
  providerEnforcesMfa: boolean;
  ssoOnly: boolean;
  enabled: boolean;
}

const DisplayName = z.string().trim().min(1, 'name the provider as people will see it').max(80);
const ClientId = z.string().trim().min(1, 'enter the client id the provider gave you').max(500);
const ClientSecret = z.string().max(2000);
const checkbox = z
  .string()
  .optional()
  .transform((v) => v === 'on' || v === 'true');

/** The back-office form: checkboxes, domains one a line or separated by commas, an empty secret keeps the saved one. */
export const SsoSettingsForm = z
  .object({
    displayName: DisplayName,
    issuer: IssuerUrl,
    clientId: ClientId,
    clientSecret: ClientSecret.optional(),
    scopes: Scopes.default('openid email profile'),
    allowedDomains: z
      .string()
      .default('')
      .transform((v) => v.split(/[\s,]+/))
      .pipe(DomainList),
    jitEnabled: checkbox,
    defaultRole: z
      .string()
      .trim()
      .optional()
      .transform((v) => v || null),
    providerEnforcesMfa: checkbox,
    ssoOnly: checkbox,
    enabled: checkbox,
  })
  .transform((f): SsoSettingsInput => ({ ...f, clientSecret: f.clientSecret ? f.clientSecret : undefined }));

/** The API's PUT body: the whole configuration; `clientSecret` is write-only and kept when left out. */
export const SsoSettingsBody = z
  .object({
    displayName: DisplayName,
    issuer: IssuerUrl,
    clientId: ClientId,
    clientSecret: ClientSecret.min(1).optional().openapi({ description: 'Write-only; left out, the saved secret stays' }),
    scopes: Scopes.default('openid email profile'),
    allowedDomains: DomainList.default([]),
    jitEnabled: z.boolean().default(false),
    defaultRole: RoleSlugText.nullable().default(null),
    providerEnforcesMfa: z.boolean().default(false),
    ssoOnly: z.boolean().default(false),
    enabled: z.boolean().default(false),
  })
  .openapi('SsoSettingsChange');

export const SsoSettingsJson = z
  .object({
    configured: z.boolean(),
    displayName: z.string(),
    issuer: z.string(),
    clientId: z.string(),
    clientSecretSet: z.boolean().openapi({ description: 'Whether a client secret is saved (it is never shown)' }),
    scopes: z.string(),
    allowedDomains: z.array(z.string()),
    jitEnabled: z.boolean(),
    defaultRole: z.string().nullable(),
    providerEnforcesMfa: z.boolean(),
    ssoOnly: z.boolean(),
    enabled: z.boolean(),
    verifiedAt: z.string().nullable().openapi({ description: 'When a sign-in through the current provider last succeeded' }),
    redirectUri: z.string().openapi({ description: 'The redirect URI to register at the provider' }),
  })
  .openapi('SsoSettings');

export const SsoCheckJson = z
  .object({
    ok: z.boolean(),
    message: z.string(),
    issuer: z.string().optional(),
    authorizationEndpoint: z.string().optional(),
    tokenEndpoint: z.string().optional(),
    pkceS256: z.boolean().optional(),
  })
  .openapi('SsoCheck');
export type SsoCheck = z.infer<typeof SsoCheckJson>;
