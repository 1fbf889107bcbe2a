import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createApp } from '../src/app.tsx';
import { type Config, loadConfig } from '../src/config.ts';
import type { RoleSlug } from '../src/modules/identity/roles.ts';
import { completeOwnerSetup, createApiToken, issueSetupLink, resolveSession } from '../src/modules/identity/service.ts';
import type { Tenant } from '../src/modules/tenants/schema.ts';
import { createTenant } from '../src/modules/tenants/service.ts';
import type { Actor, Clock, RequestContext, Runtime } from '../src/platform/context.ts';
import { closeRuntime, createRuntime } from '../src/runtime.ts';
import { openTestDatabase, testEngine } from './db.ts';

export interface SignedIn {
  /** `Cookie` header value for the session. */
  cookie: string;
  csrfToken: string;
  email: string;
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
  /** A same-origin form POST with the session's cookie and CSRF token. */
  postForm(path: string, session: SignedIn, fields: Record<string, string>): Promise<Response>;
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
  });
  await runtime.jobs.start({ work: options.workJobs ?? false });
  const tenant = await createTenant(
    runtime.db,
    { slug: 'acme', name: 'Acme Corp', hosts: [TEST_HOST] },
    { audit: runtime.audit, actor: SETUP_ACTOR },
  );
  const app = createApp(runtime);
  const request = (p: string, init?: RequestInit) => Promise.resolve(app.request(`http://${TEST_HOST}${p}`, init));
  let owner: SignedIn | undefined;

  return {
    runtime,
    app,
    tenant,
    dataDir,
    request,
    async signInAsOwner() {
      if (owner) return owner;
      const link = await issueSetupLink(runtime, tenant);
      if (!link) throw new Error('tenant already has an owner');
      const email = 'owner@acme.test';
      // The request a browser would make with the link: anonymous, from the loopback address.
      const ctx: RequestContext = {
        ...runtime,
        tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
        actor: { kind: 'anonymous' },
        requestId: 'test-setup',
        ip: '127.0.0.1',
        userAgent: 'vitest',
      };
      const { sessionId } = await completeOwnerSetup(ctx, link.replace('/setup/', ''), {
        name: 'Olivia Owner',
        email,
        password: 'correct horse battery staple',
      });
      const session = await resolveSession(runtime.db, runtime.clock, tenant.id, sessionId);
      if (!session) throw new Error('session not found');
      owner = { cookie: `candor_session=${sessionId}`, csrfToken: session.csrfToken, email };
      return owner;
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
