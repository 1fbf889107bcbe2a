import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate as generateTotp } from 'otplib';
import pino from 'pino';
import { createApp } from '../src/app.tsx';
import { type Config, loadConfig } from '../src/config.ts';
import type { RoleSlug } from '../src/modules/access/service.ts';
import {
  completeOwnerSetup,
  createApiToken,
  createPerson,
  issueSetupLink,
  personActor,
  resolveSession,
  signIn,
} from '../src/modules/identity/service.ts';
import { confirmTotp, mfaGate, startTotpEnrolment, updateMfaPolicy } from '../src/modules/mfa/service.ts';
import type { Tenant } from '../src/modules/tenants/schema.ts';
import { createTenant } from '../src/modules/tenants/service.ts';
import type { Actor, Clock, RequestContext, Runtime } from '../src/platform/context.ts';
import { sha256Hex } from '../src/platform/crypto/secrets.ts';
import { closeRuntime, createRuntime } from '../src/runtime.ts';
import { openTestDatabase, testEngine } from './db.ts';
import { testMasterKey } from './keys.ts';

export interface SignedIn {
  /** `Cookie` header value for the session. */
  cookie: string;
  csrfToken: string;
  email: string;
  /** The person's id. */
  userId: string;
  /** The TOTP secret the helper enrolled when the MFA policy covers the person's role (tests derive codes from it). */
  totpSecret?: string;
}

export interface TestApp {
  runtime: Runtime;
  app: ReturnType<typeof createApp>;
  tenant: Tenant;
  dataDir: string;
  /** A request to the test tenant's host (`http://acme.test`). */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Creates the tenant's owner through the setup-link service and returns a signed-in session. */
  signInAsOwner(): Promise<SignedIn>;
  /**
   * Creates a person holding `role` (built-in or custom; as the command line would) and signs them in.
   * Each call creates a new person unless `email` names one created before.
   */
  signInAs(role: string, email?: string): Promise<SignedIn>;
  /**
   * Enrols the session's person in TOTP when the MFA gate asks for it (a role under the policy granted after the
   * session began), as they would on the enrolment page; returns the session unchanged otherwise.
   */
  enrolIfRequired(session: SignedIn): Promise<SignedIn>;
  /** The service context of a request by `actor` (for tests that call services directly). */
  contextOf(actor: Actor): RequestContext;
  /** A same-origin form POST with the session's cookie and CSRF token. */
  postForm(path: string, session: SignedIn, fields: Record<string, string>): Promise<Response>;
  /** A token with every permission of a built-in role. */
  apiToken(role?: RoleSlug): Promise<string>;
  close(): Promise<void>;
}

export const TEST_HOST = 'acme.test';

/** What the test helpers act as when they set things up: the server's command line, as an operator would. */
const SETUP_ACTOR: Actor = { kind: 'system', name: 'cli' };

export interface TestAppOptions {
  config?: Partial<Config>;
  clock?: Clock;
  /** Run job workers in this process (mail delivery etc.); off by default to keep tests deterministic. */
  workJobs?: boolean;
  /**
   * The roles the tenant's MFA policy covers (default: owner and security-admin, whose holders the sign-in
   * helpers enrol in TOTP). `[]` for files that test password sign-in itself, where a second step is noise.
   */
  mfaRoles?: string[];
}

/** A full runtime and app on this test file's own database, with one tenant "acme" at acme.test. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await openTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'candor-test-'));
  const config: Config = {
    ...loadConfig({}),
    dataDir,
    engine: testEngine,
    databaseUrl: database.url,
    logLevel: 'silent',
    publicUrl: `http://${TEST_HOST}`,
    ...options.config,
  };
  const runtime = await createRuntime(config, {
    db: database.db,
    log: pino({ level: 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
    jobs: { pollingIntervalSeconds: 0.5 },
    masterKey: testMasterKey,
  });
  await runtime.jobs.start({ work: options.workJobs ?? false });
  const tenant = await createTenant(
    runtime.db,
    { slug: 'acme', name: 'Acme Corp', hosts: [TEST_HOST] },
    { audit: runtime.audit, actor: SETUP_ACTOR },
  );
  const app = createApp(runtime);
  // Like a browser's cookie jar for the helpers' sessions: when the server gives a session a new id (its privileges
  // changed), later requests made with the old cookie carry the new one, as a browser's would.
  const reissued = new Map<string, string>();
  const latest = (id: string): string => {
    let current = id;
    for (let next = reissued.get(current); next; next = reissued.get(current)) current = next;
    return current;
  };
  const withLatestCookie = (init?: RequestInit): { init: RequestInit | undefined; sent: string | undefined } => {
    const headers = new Headers(init?.headers);
    const sent = /candor_session=([^;\s]+)/.exec(headers.get('cookie') ?? '')?.[1];
    if (!sent) return { init, sent: undefined };
    headers.set('cookie', (headers.get('cookie') ?? '').replace(sent, latest(sent)));
    return { init: { ...init, headers }, sent: latest(sent) };
  };
  const noteReissue = (from: string, to: string) => {
    if (from === to) return;
    reissued.set(from, to);
  };
  const request = async (p: string, init?: RequestInit) => {
    const { init: sending, sent } = withLatestCookie(init);
    const response = await app.request(`http://${TEST_HOST}${p}`, sending);
    const set = /candor_session=([^;\s]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
    if (sent && set && !/\/(login|logout)$/.test(p)) noteReissue(sent, set);
    return response;
  };
  let owner: SignedIn | undefined;
  const people = new Map<string, SignedIn>();
  const contextOf = (actor: Actor): RequestContext => ({
    ...runtime,
    tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
    actor,
    requestId: 'test',
    ip: '127.0.0.1',
    userAgent: 'vitest',
  });
  if (options.mfaRoles) await updateMfaPolicy(contextOf(SETUP_ACTOR), { roles: options.mfaRoles });
  /** The session as the next request would find it, following a new id the server gave it. */
  const currentSession = async (sessionId: string) => {
    const id = latest(sessionId);
    const session = await resolveSession(runtime.db, runtime.clock, tenant.id, id);
    if (!session) throw new Error('session not found');
    if (session.reissuedSessionId) noteReissue(id, session.reissuedSessionId);
    return { session, id: session.reissuedSessionId ?? id };
  };
  const sessionFor = async (sessionId: string, email: string): Promise<SignedIn> => {
    const { session } = await currentSession(sessionId);
    return enrolIfRequired({
      cookie: `candor_session=${sessionId}`,
      csrfToken: session.csrfToken,
      email,
      userId: session.user.id,
    });
  };
  const enrolIfRequired = async (signedIn: SignedIn): Promise<SignedIn> => {
    const { session, id: sessionId } = await currentSession(signedIn.cookie.replace('candor_session=', ''));
    // A role under the MFA policy is sent to enrolment first: enrol an authenticator app, as the person would,
    // whose first code also proves the second factor for this session.
    const ctx = contextOf(personActor(session.user, session.access));
    if ((await mfaGate(ctx, session)) !== 'enrol') return signedIn;
    const { secret } = await startTotpEnrolment(ctx);
    const code = await generateTotp({ secret, epoch: Math.floor(runtime.clock.now().getTime() / 1000) });
    await confirmTotp(ctx, sha256Hex(sessionId), { secret, code });
    // Proving the second factor changed the session's privileges: its next request gets a new id.
    const { id } = await currentSession(sessionId);
    return { ...signedIn, cookie: `candor_session=${id}`, totpSecret: secret };
  };

  return {
    runtime,
    app,
    tenant,
    dataDir,
    request,
    contextOf,
    enrolIfRequired,
    async signInAsOwner() {
      if (owner) return owner;
      const link = await issueSetupLink(runtime, tenant);
      if (!link) throw new Error('tenant already has an owner');
      const email = 'owner@acme.test';
      // The request a browser would make with the link: anonymous, from the loopback address.
      const { sessionId } = await completeOwnerSetup(contextOf({ kind: 'anonymous' }), link.replace('/setup/', ''), {
        name: 'Olivia Owner',
        email,
        password: 'correct horse battery staple',
      });
      owner = await sessionFor(sessionId, email);
      return owner;
    },
    async signInAs(role, email) {
      const known = email ? people.get(email) : undefined;
      if (known) return known;
      const address = email ?? `${role}-${people.size + 1}@acme.test`;
      const password = 'a test passphrase long enough';
      await createPerson(contextOf(SETUP_ACTOR), { email: address, name: `Test ${role}`, role, password });
      const { sessionId } = await signIn(contextOf({ kind: 'anonymous' }), { email: address, password });
      const session = await sessionFor(sessionId, address);
      people.set(address, session);
      return session;
    },
    postForm(p, session, fields) {
      return request(p, {
        method: 'POST',
        headers: {
          cookie: session.cookie,
          origin: `http://${TEST_HOST}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ _csrf: session.csrfToken, ...fields }).toString(),
      });
    },
    async apiToken(role = 'owner') {
      const { token } = await createApiToken(
        runtime,
        { tenantId: tenant.id, actor: SETUP_ACTOR },
        { name: `test ${role}`, role },
      );
      return token;
    },
    async close() {
      await closeRuntime(runtime);
      rmSync(dataDir, { recursive: true, force: true });
      await database.drop().catch(() => {});
    },
  };
}
