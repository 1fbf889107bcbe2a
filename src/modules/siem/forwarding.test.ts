import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personActor } from '../../../test/actors.ts';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import type { AuditInput } from '../../platform/audit/audit.ts';
import { canonicalJson, type JsonValue } from '../../platform/audit/canonical.ts';
import { readHead } from '../../platform/audit/store.ts';
import type { Actor, RequestContext } from '../../platform/context.ts';
import { type Jobs, registrable } from '../../platform/jobs/jobs.ts';
import { createJobs, JOB_SCHEMA } from '../../platform/jobs/pgboss.ts';
import { siemJobDefinitions } from './jobs.ts';
import type { DestinationInfo, NewDestination } from './schema.ts';
import { addDestination, listDestinations, setDestinationEnabled } from './service.ts';
import { octetCountedFrame, sdParamValue, syslogMessage } from './syslog.ts';
import { freePort, parseSyslogMessage, SyslogReceiver, sha256Hex, WebhookReceiver } from './testing/receivers.ts';
import { verifyWebhookSignature } from './webhook.ts';

let t: TestApp;
let ctx: RequestContext;
const receivers: { close(): Promise<void> }[] = [];
const workers: Jobs[] = [];

const ADMIN: Actor = personActor(
  { id: '6f1d1c52-8f5e-4f39-9b1b-3c1f0f6a2b10', email: 'sec@acme.test', name: 'Sam' },
  'security-admin',
);

beforeAll(async () => {
  t = await createTestApp({ workJobs: true });
  ctx = {
    ...t.runtime,
    tenant: { id: t.tenant.id, slug: t.tenant.slug, name: t.tenant.name },
    actor: ADMIN,
    requestId: 'siem-test',
    ip: '192.0.2.10',
    userAgent: 'vitest',
  };
});

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  for (const receiver of receivers) await receiver.close();
  await t.close();
});

async function record(input: AuditInput, actor: Actor = ADMIN): Promise<number> {
  const event = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
    t.runtime.audit.record(tx, { tenantId: t.tenant.id, actor, ip: '192.0.2.10' }, input),
  );
  return event.seq;
}

async function head(): Promise<number> {
  return (await t.runtime.db.withTenant(t.tenant.id, (tx) => readHead(tx, t.tenant.id)))?.seq ?? 0;
}

async function destination(id: string): Promise<DestinationInfo> {
  const found = (await listDestinations(ctx)).destinations.find((d) => d.id === id);
  if (!found) throw new Error(`destination ${id} not found`);
  return found;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once the destination's cursor has reached the trail's head (and returns that head). */
async function caughtUp(id: string, timeoutMs?: number): Promise<number> {
  return waitFor(
    `destination ${id} to catch up`,
    async () => {
      const [d, h] = [await destination(id), await head()];
      return d.cursor === h ? h : undefined;
    },
    timeoutMs,
  );
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function syslogTo(port: number, name = 'syslog'): NewDestination {
  return { kind: 'syslog', name, host: '127.0.0.1', port, tls: false };
}

describe('RFC 5424 messages', () => {
  const event = {
    v: 1 as const,
    tenant: '0b6c7a4e-5d0e-4f7c-9a53-2f1f6b1d7a10',
    seq: 42,
    time: '2025-03-04T05:06:07.890Z',
    actor: { type: 'user' as const, id: 'u1', label: 'ad"a\\x]@acme.test' },
    action: 'document_request.approved_by_a_rather_long_named_rule',
    target: { type: 'document', id: 'd"1]' },
    outcome: 'denied' as const,
    ip: null,
    userAgent: null,
    requestId: null,
    details: { note: 'ünïcødé "quoted"' },
    prev: '0'.repeat(64),
    hash: 'a'.repeat(64),
  };

  it('escapes ", \\ and ] in SD-PARAM values and nothing else', () => {
    expect(sdParamValue('a"b\\c]d[e=f')).toBe('a\\"b\\\\c\\]d[e=f');
  });

  it('writes PRI from facility 13 and the outcome, MSGID from the action, the canonical event as MSG', () => {
    const text = syslogMessage(event, 'acme');
    const parsed = parseSyslogMessage(text);
    expect(parsed.pri).toBe(13 * 8 + 4); // log audit, warning (denied)
    expect(parseSyslogMessage(syslogMessage({ ...event, outcome: 'success' }, 'acme')).pri).toBe(13 * 8 + 6);
    expect(parsed).toMatchObject({
      version: 1,
      timestamp: '2025-03-04T05:06:07.890Z',
      hostname: 'acme',
      appName: 'candor',
      procId: '-',
      msgId: 'document_request.approved_by_a_r',
      sdId: 'candor@32473',
    });
    expect(parsed.params).toEqual({
      tenant: event.tenant,
      seq: '42',
      actor: 'user:ad"a\\x]@acme.test',
      outcome: 'denied',
      target: 'document:d"1]',
      hash: 'a'.repeat(64),
    });
    const { hash: _, ...chained } = event;
    expect(parsed.msg).toBe(canonicalJson(chained as unknown as JsonValue));
  });

  it('counts the octets of the UTF-8 message, not its characters', () => {
    const frame = octetCountedFrame('<110>1 - - - - - - ü');
    const space = frame.indexOf(0x20);
    expect(Number(frame.subarray(0, space).toString())).toBe(frame.length - space - 1);
    expect(frame.length - space - 1).toBe('<110>1 - - - - - - ü'.length + 1);
  });
});

describe('forwarding to a syslog receiver', () => {
  it('delivers every event in order, octet-counted, with structured data a SIEM can check', async () => {
    const receiver = new SyslogReceiver();
    receivers.push(receiver);
    const port = await receiver.listen();
    const tricky: Actor = {
      kind: 'user',
      id: 'u-2',
      email: 'we"ird\\name]@acme.test',
      name: 'W',
      roles: ['owner'],
      permissions: new Set(),
    };
    await record(
      { action: 'document.viewed', target: { type: 'document', id: 'a]b"c\\d' }, details: { note: 'ünïcødé' } },
      tricky,
    );
    await record({ action: 'session.sign_in_failed', outcome: 'denied', details: { reason: 'wrong password' } });
    const { destination: added } = await addDestination(ctx, syslogTo(port));
    const last = await caughtUp(added.id);
    await waitFor('all messages', () => receiver.messages.length >= last || undefined);

    expect(receiver.framingErrors).toEqual([]);
    expect(receiver.seqs()).toEqual(range(1, last));
    for (const message of receiver.messages) {
      expect(message.hostname).toBe('acme');
      expect(message.params.tenant).toBe(t.tenant.id);
      // MSG is the exact bytes the chain hashed: a SIEM can verify each message on its own.
      expect(sha256Hex(message.msg)).toBe(message.params.hash);
      expect(JSON.parse(message.msg).seq).toBe(Number(message.params.seq));
    }
    const weird = receiver.messages.find((m) => m.msgId === 'document.viewed');
    expect(weird?.params).toMatchObject({
      actor: 'user:we"ird\\name]@acme.test',
      target: 'document:a]b"c\\d',
      outcome: 'success',
    });
    expect(weird?.pri).toBe(110);
    const denied = receiver.messages.find((m) => m.msgId === 'session.sign_in_failed');
    expect(denied?.pri).toBe(108);
    expect(receiver.messages.at(-1)?.msgId).toBe('siem.destination_added');
  });

  it('loses nothing while the receiver is down: once it is up it gets every event exactly once', async () => {
    const port = await freePort();
    const { destination: added } = await addDestination(ctx, syslogTo(port, 'down at first'));
    await record({ action: 'policy.published', details: { n: 1 } });
    await record({ action: 'policy.published', details: { n: 2 } });
    const failing = await waitFor('a failed delivery', async () => {
      const d = await destination(added.id);
      return d.failures > 0 ? d : undefined;
    });
    expect(failing.cursor).toBe(0);
    expect(failing.lastError).toMatch(/ECONNREFUSED/);

    const receiver = new SyslogReceiver(port);
    receivers.push(receiver);
    await receiver.listen();
    await record({ action: 'policy.published', details: { n: 3 } });
    const last = await caughtUp(added.id, 30_000);
    await waitFor('all messages', () => receiver.messages.length >= last || undefined);
    expect(receiver.framingErrors).toEqual([]);
    expect(receiver.seqs()).toEqual(range(1, last));
    const recovered = await destination(added.id);
    expect(recovered).toMatchObject({ failures: 0, lastError: null });
    expect(recovered.lastSuccessAt).toBeInstanceOf(Date);
  });

  it('keeps a disabled destination’s position and sends the paused stretch when it is enabled again', async () => {
    const receiver = new SyslogReceiver();
    receivers.push(receiver);
    const { destination: added } = await addDestination(ctx, { ...syslogTo(await receiver.listen(), 'paused'), startAt: 'now' });
    const from = added.cursor + 1;
    await caughtUp(added.id);
    await setDestinationEnabled(ctx, added.id, false);
    const paused = await record({ action: 'vendor.added' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.seqs()).not.toContain(paused);
    await setDestinationEnabled(ctx, added.id, true);
    const last = await caughtUp(added.id);
    await waitFor('all messages', () => receiver.messages.length >= last - from + 1 || undefined);
    // Started at "now": its first event is its own siem.destination_added.
    expect(receiver.seqs()).toEqual(range(from, last));
    expect(receiver.messages[0]?.msgId).toBe('siem.destination_added');
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A self-signed certificate for `localhost` (and 127.0.0.1), made with the openssl command. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'candor-siem-tls-'));
  try {
    const made = spawnSync('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'],
      ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      ...['-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
    ]);
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('forwarding over TLS', () => {
  it.skipIf(!hasOpenssl)('trusts the configured CA, and refuses a receiver whose certificate it cannot verify', async () => {
    const credentials = selfSigned();
    const receiver = new SyslogReceiver(0, credentials);
    receivers.push(receiver);
    const port = await receiver.listen();
    const untrusted = await addDestination(ctx, { kind: 'syslog', name: 'tls, unknown CA', host: 'localhost', port, tls: true });
    const trusted = await addDestination(ctx, {
      kind: 'syslog',
      name: 'tls, private CA',
      host: '127.0.0.1',
      servername: 'localhost',
      port,
      tls: true,
      caPem: credentials.cert,
    });
    const last = await caughtUp(trusted.destination.id);
    await waitFor('all messages', () => receiver.messages.length >= last || undefined);
    expect(receiver.seqs()).toEqual(range(1, last));
    const refused = await waitFor('a refused certificate', async () => {
      const d = await destination(untrusted.destination.id);
      return d.failures > 0 ? d : undefined;
    });
    expect(refused.cursor).toBe(0);
    expect(refused.lastError).toMatch(/self.signed|certificate/i);
    await setDestinationEnabled(ctx, untrusted.destination.id, false);
  });
});

describe('forwarding to a webhook', () => {
  it('signs each batch with HMAC-SHA256 and resends a batch the receiver refused', async () => {
    const receiver = new WebhookReceiver((_delivery, index) => (index === 0 ? 503 : 200));
    receivers.push(receiver);
    const url = await receiver.listen();
    const { destination: added, secret } = await addDestination(ctx, { kind: 'webhook', name: 'hook', url });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const last = await caughtUp(added.id, 30_000);

    expect(receiver.deliveries[0]?.status).toBe(503);
    const accepted = receiver.deliveries.filter((d) => d.status === 200);
    const seqs = accepted.flatMap((d) => (JSON.parse(d.body) as { events: { seq: number }[] }).events.map((e) => e.seq));
    expect(seqs).toEqual(range(1, last));
    for (const delivery of receiver.deliveries) {
      const signature = delivery.headers['candor-signature'] as string;
      expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(signature, delivery.body, secret as string)).toBe(true);
      expect(verifyWebhookSignature(signature, `${delivery.body} `, secret as string)).toBe(false);
      expect(verifyWebhookSignature(signature, delivery.body, 'another secret of enough length')).toBe(false);
      expect(delivery.headers['candor-delivery']).toMatch(/^[0-9a-f-]{36}$/);
      expect(delivery.headers['content-type']).toBe('application/json');
    }
    const body = JSON.parse(accepted[0]?.body ?? '{}') as { tenant: unknown; events: Record<string, unknown>[] };
    expect(body.tenant).toEqual({ id: t.tenant.id, slug: 'acme' });
    const { hash, ...chained } = body.events[0] as { hash: string } & Record<string, JsonValue>;
    expect(sha256Hex(canonicalJson(chained as JsonValue))).toBe(hash);
  });

  it('refuses a signature that is too old (a replayed delivery)', () => {
    const body = '{"events":[]}';
    const header = `t=1700000000,v1=${'0'.repeat(64)}`;
    expect(verifyWebhookSignature(header, body, 'secret', { now: new Date() })).toBe(false);
    expect(verifyWebhookSignature(undefined, body, 'secret')).toBe(false);
    expect(verifyWebhookSignature('garbage', body, 'secret')).toBe(false);
  });
});

describe('across a restart', () => {
  it('forwards what was recorded while no worker ran, from queued jobs or, when those are lost, the sweep', async () => {
    const receiver = new SyslogReceiver();
    receivers.push(receiver);
    const { destination: added } = await addDestination(ctx, syslogTo(await receiver.listen(), 'restart'));
    const before = await caughtUp(added.id);

    // The worker stops (the process goes down); requests keep recording and queueing wake-ups.
    await t.runtime.jobs.stop();
    await t.runtime.jobs.start({ work: false });
    for (let i = 0; i < 5; i++) await record({ action: 'control.updated', details: { i } });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(Math.max(...receiver.seqs())).toBe(before);

    // A new worker comes up and finds the queued job.
    const worker = createJobs(t.runtime.db, pino({ level: 'silent' }), { pollingIntervalSeconds: 0.5 });
    workers.push(worker);
    // Only the forwarding job: the minute sweep is run by hand below, never by the clock mid-test.
    worker.register(registrable(siemJobDefinitions(t.runtime).forward));
    await worker.start({ work: true });
    const afterRestart = await caughtUp(added.id);
    await waitFor('the recorded events', () => receiver.messages.length >= afterRestart || undefined);
    expect(receiver.seqs()).toEqual(range(1, afterRestart));

    // Worse: the worker stops and the queued wake-ups are lost too. The cursor still knows what is owed.
    await worker.stop();
    for (let i = 5; i < 8; i++) await record({ action: 'control.updated', details: { i } });
    await t.runtime.db.query(`delete from ${JOB_SCHEMA}.job where name = 'siem.forward' and state < 'active'`);
    await worker.start({ work: true });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(Math.max(...receiver.seqs())).toBe(afterRestart);
    // The minute's sweep, run now instead of waiting for the clock.
    await siemJobDefinitions(t.runtime).sweep.handler({}, { id: 'sweep-now' });
    const last = await caughtUp(added.id);
    await waitFor('the swept events', () => receiver.messages.length >= last || undefined);
    expect(receiver.seqs()).toEqual(range(1, last));
    expect(last).toBe(afterRestart + 3);
  });
});
