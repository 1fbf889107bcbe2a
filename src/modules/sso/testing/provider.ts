import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OpenID Provider (the `oidc-provider` package) on a random loopback port, for tests. Its sign-in
 * page is a minimal form: type an account id (and tick "MFA" to report a second factor in `amr`); consent is
 * given automatically. Tests drive it with fetch (`signInAt`) or with a browser.
 */

export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by subject; tests add and change them at will. */
  accounts: Map<string, TestAccount>;
  close(): Promise<void>;
}

export async function startTestProvider(options: { redirectUris: string[] }): Promise<TestProvider> {
  const accounts = new Map<string, TestAccount>();
  const clientId = 'candor-test';
  const clientSecret = randomBytes(24).toString('base64url');
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    // Like many real providers, the ID token carries the profile claims (not only the userinfo endpoint).
    conformIdTokenClaims: false,
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      return account ? { accountId: sub, claims: () => ({ sub, ...account }) } : undefined;
    },
    // Consent is not what these tests are about: every sign-in gets the scopes it asked for.
    loadExistingGrant: async (ctx: {
      oidc: { client: { clientId: string }; session: { accountId: string }; params: { scope?: string } };
    }) => {
      const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(ctx.oidc.params.scope ?? 'openid');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();

  server.on('request', (req, res) => {
    const match = /^\/interaction\/([\w-]+)$/.exec(req.url ?? '');
    if (!match) return callback(req, res);
    void handleInteraction(provider, req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function handleInteraction(provider: Provider, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const interaction = await provider.interactionDetails(req, res);
  if (req.method === 'POST') {
    const body = await readBody(req);
    const amr = body.get('mfa') ? ['pwd', 'mfa'] : ['pwd'];
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: body.get('account') ?? '', amr } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html><head><title>Test IdP sign-in</title><link rel="icon" href="data:,"></head><body>
<h1>Test identity provider</h1>
<form method="post" action="/interaction/${interaction.uid}">
<label for="account">Account</label><input id="account" name="account" required>
<label for="mfa"><input id="mfa" type="checkbox" name="mfa" value="1"> MFA</label>
<button type="submit">Continue</button>
</form></body></html>`);
}

/**
 * Follows an authorization URL through the provider as a browser would (keeping the provider's cookies), signs
 * in as `account`, and returns the URL the provider finally sends the browser back to (the callback).
 */
export async function signInAt(authorizationUrl: string, account: string, options: { mfa?: boolean } = {}): Promise<URL> {
  const cookies = new Map<string, string>();
  const keepCookies = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  };
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const issuer = new URL(authorizationUrl).origin;
  let url = new URL(authorizationUrl);
  let init: RequestInit = {};
  for (let hop = 0; hop < 10; hop++) {
    if (url.origin !== issuer) return url;
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: cookieHeader() } });
    keepCookies(res);
    init = {};
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url);
      continue;
    }
    if (/^\/interaction\//.test(url.pathname) && res.status === 200) {
      await res.text();
      const form = new URLSearchParams({ account, ...(options.mfa ? { mfa: '1' } : {}) });
      init = { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
      continue;
    }
    throw new Error(`the provider answered ${res.status} at ${url}: ${(await res.text()).slice(0, 500)}`);
  }
  throw new Error('too many redirects at the provider');
}
