import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { type CapturedMail, type MailSink, startMailSink } from '../../../test/mail-sink.ts';
import { waitFor } from '../../../test/wait.ts';
import { verifyWebhookSignature } from '../../platform/http/webhook.ts';
import { purgeStaleSubscribers } from './service.ts';

let t: TestApp;
let sink: MailSink;
let editor: SignedIn;
let token: string;

const XSS = '<script>alert(1)</script>';

beforeAll(async () => {
  sink = await startMailSink();
  t = await createTestApp({ workJobs: true, config: { smtpUrl: sink.url } });
  editor = await t.signInAs('content-editor', 'editor@acme.test');
  token = await t.apiToken('content-editor');
});

afterAll(async () => {
  await t?.close();
  await sink?.close();
});

function api(path: string, init: { method?: string; body?: unknown } = {}) {
  return t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

function subscribe(email: string, topics: string[] = ['updates'], at = '/subscribe', headers: Record<string, string> = {}) {
  const body = new URLSearchParams([['email', email], ...topics.map((t) => ['topics', t])]);
  return t.request(at, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: body.toString(),
  });
}

async function publish(section: string, items: Record<string, string>[], locale = 'en') {
  const query = `?locale=${locale}`;
  const draft = await api(`/trust-center/sections/${section}/draft${query}`, { method: 'PUT', body: { fields: {}, items } });
  expect(draft.status).toBe(200);
  expect((await api(`/trust-center/sections/${section}/publish${query}`, { method: 'POST' })).status).toBe(201);
}

const to = (address: string) => (m: CapturedMail) => m.envelope.to.includes(address);
const confirmLink = (m: CapturedMail) =>
  /http:\/\/acme\.test(\/subscribe\/confirm\/[A-Za-z0-9_-]+)/.exec(m.parsed.text)?.[1] ?? '';

describe('double opt-in', () => {
  it('refuses a bad address with a clear error and stores nothing', async () => {
    const res = await subscribe('not-an-address');
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('enter an email address');
    const summary = (await (await api('/subscriptions')).json()) as { subscribers: unknown[] };
    expect(summary.subscribers).toHaveLength(0);
  });

  it('mails only a confirmation, answers a repeat the same way without a second mail, and confirms once', async () => {
    const first = await subscribe('ada@example.org');
    expect(first.status).toBe(200);
    const answer = await first.text();
    expect(answer).toContain('Check your inbox');
    const mail = await sink.waitForMail(to('ada@example.org'));
    expect(mail.parsed.subject).toContain('Confirm your subscription');
    const link = confirmLink(mail);
    expect(link).not.toBe('');

    const again = await subscribe('ada@example.org');
    expect(await again.text()).toBe(answer);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.messages.filter(to('ada@example.org'))).toHaveLength(1);

    const page = await t.request(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Confirm subscription');
    const confirmed = await t.request(link, { method: 'POST' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('subscription is confirmed');
    expect((await t.request(link, { method: 'POST' })).status).toBe(410);
    expect((await t.request('/subscribe/confirm/forged-token', { method: 'POST' })).status).toBe(410);
  });
});

describe('notifications', () => {
  it('mails confirmed subscribers once per new update, with RFC 8058 headers and inert HTML; never the unconfirmed', async () => {
    await subscribe('pending@example.org');
    await sink.waitForMail(to('pending@example.org'));
    await publish('updates', [{ date: '2026-11-01', title: `Patched ${XSS}`, body: 'We patched it.', slug: 'patched' }]);
    const notice = await sink.waitForMail((m) => to('ada@example.org')(m) && m.parsed.subject.includes('security update'));
    expect(notice.parsed.subject).toContain('Patched');
    const unsubscribe = notice.parsed.headers.get('list-unsubscribe') ?? '';
    expect(unsubscribe).toMatch(/^<http:\/\/acme\.test\/unsubscribe\/[0-9a-f-]{36}\.[0-9a-f]+>$/);
    expect(notice.parsed.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(notice.parsed.html).not.toContain('<script');
    expect(notice.parsed.html).toContain('&lt;script&gt;');
    expect(notice.parsed.text).toContain('http://acme.test/updates#patched');

    // A second publish mails only what is new.
    await publish('updates', [
      { date: '2026-11-01', title: `Patched ${XSS}`, body: 'We patched it.', slug: 'patched' },
      { date: '2026-11-10', title: 'Rotated keys', body: 'Done.', slug: 'rotated-keys' },
    ]);
    const second = await sink.waitForMail((m) => to('ada@example.org')(m) && m.parsed.subject.includes('Rotated keys'));
    expect(second.parsed.subject).not.toContain('Patched');
    expect(sink.messages.filter(to('pending@example.org'))).toHaveLength(1);

    // One click: a POST from the mail provider, no page, no Origin header.
    const url = new URL(unsubscribe.slice(1, -1));
    const res = await t.request(url.pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect((await t.request(`${url.pathname.slice(0, -4)}beef`, { method: 'POST' })).status).toBe(404);
    const before = sink.messages.length;
    await publish('updates', [
      { date: '2026-11-01', title: `Patched ${XSS}`, body: 'We patched it.', slug: 'patched' },
      { date: '2026-11-20', title: 'Quiet month', body: 'Nothing.', slug: 'quiet' },
    ]);
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.messages.slice(before).filter(to('ada@example.org'))).toHaveLength(0);
  });
});

describe('announced sub-processors and signed webhooks', () => {
  let server: Server;
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let failFirst = true;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = failFirst ? 503 : 204;
        failFirst = false;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('shows an upcoming sub-processor, notifies at announcement, and delivers a signed, retried webhook', async () => {
    const port = (server.address() as AddressInfo).port;
    const created = await api('/subscriptions/webhooks', {
      method: 'POST',
      body: { url: `http://127.0.0.1:${port}/hook`, topics: ['subprocessors'] },
    });
    expect(created.status).toBe(201);
    const { secret, id } = (await created.json()) as { secret: string; id: string };
    expect((await api('/subscriptions/webhooks', { method: 'POST', body: { url: 'ftp://x', topics: [] } })).status).toBe(422);

    await subscribe('grace@example.org', ['subprocessors']);
    const link = confirmLink(await sink.waitForMail(to('grace@example.org')));
    await t.request(link, { method: 'POST' });

    await publish('subprocessors', [
      { name: 'Northwind Hosting', purpose: 'Hosting', location: 'EU' },
      { name: 'Parcel Mail', purpose: 'Transactional email', location: 'EU', effectiveFrom: '2099-01-15' },
    ]);
    const mail = await sink.waitForMail((m) => to('grace@example.org')(m) && m.parsed.subject.includes('sub-processor'));
    expect(mail.parsed.text).toContain('Parcel Mail');
    expect(mail.parsed.text).toContain('effective 15 January 2099');

    const page = await (await t.request('/subprocessors')).text();
    expect(page).toContain('Upcoming changes');
    expect(page.indexOf('Parcel Mail')).toBeGreaterThan(page.indexOf('Upcoming changes'));
    expect(await (await t.request('/subprocessors.atom')).text()).toContain('Parcel Mail (effective 2099-01-15)');

    await waitFor(() => received.length >= 2, 20_000);
    const delivery = received[1];
    const body = delivery?.body ?? '';
    expect(verifyWebhookSignature(String(delivery?.headers['candor-signature']), body, secret)).toBe(true);
    expect(verifyWebhookSignature(String(delivery?.headers['candor-signature']), body, 'wrong')).toBe(false);
    expect(JSON.parse(body)).toMatchObject({
      topic: 'subprocessors',
      added: [{ name: 'Northwind Hosting' }, { name: 'Parcel Mail' }],
    });

    const log = await waitFor(async () => {
      const json = (await (await api('/subscriptions/webhooks')).json()) as {
        deliveries: { endpointId: string; status: string; attempts: number }[];
      };
      return json.deliveries.find((d) => d.status === 'delivered');
    }, 10_000);
    expect(log).toMatchObject({ endpointId: id, attempts: 2 });
  });
});

describe('in the subscriber’s language', () => {
  it('subscribes in Spanish under /es: Spanish pages, a Spanish confirmation mail and prefixed links', async () => {
    const form = await t.request('/es/subscribe');
    const html = await form.text();
    expect(html).toContain('<html lang="es"');
    expect(html).toContain('action="/es/subscribe"');
    expect(html).toContain('Avisos de seguridad e incidentes');
    expect(html).toMatch(/<a href="\/tr\/subscribe" lang="tr"/);

    const refused = await subscribe('no-es-una-direccion', ['updates'], '/es/subscribe');
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('escriba una dirección de correo electrónico');

    const answer = await subscribe('lucia@example.org', ['updates'], '/es/subscribe');
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('Revise su correo');
    const mail = await sink.waitForMail(to('lucia@example.org'));
    expect(mail.parsed.subject).toBe(`Confirme su suscripción a ${t.tenant.name}`);
    expect(mail.parsed.text).toContain('avisos de seguridad e incidentes');
    expect(mail.parsed.html).toContain('<html lang="es"');
    const link = /http:\/\/acme\.test(\/es\/subscribe\/confirm\/[A-Za-z0-9_-]+)/.exec(mail.parsed.text)?.[1] ?? '';
    expect(link).not.toBe('');

    const page = await (await t.request(link)).text();
    expect(page).toContain('Confirmar la suscripción');
    // Opened without its prefix, the link still speaks the language the visitor subscribed in.
    const unprefixed = await (await t.request(link.slice(3))).text();
    expect(unprefixed).toContain('<html lang="es"');
    expect(await (await t.request(link, { method: 'POST' })).text()).toContain('su suscripción está confirmada');
  });

  it('follows the browser’s language on the unprefixed form', async () => {
    const res = await t.request('/subscribe', { headers: { 'accept-language': 'tr-TR, en;q=0.5' } });
    expect(res.headers.get('vary')).toContain('accept-language');
    const html = await res.text();
    expect(html).toContain('<html lang="tr"');
    expect(html).toContain('action="/subscribe"');
    const answer = await subscribe('emre@example.org', ['updates'], '/subscribe', { 'accept-language': 'tr' });
    expect(await answer.text()).toContain('Gelen kutunuzu kontrol edin');
    const mail = await sink.waitForMail(to('emre@example.org'));
    expect(mail.parsed.subject).toContain('aboneliğinizi onaylayın');
    expect(mail.parsed.text).toContain('http://acme.test/tr/subscribe/confirm/');
  });

  it('sends notices in Spanish: the Spanish entry where published, the English one marked as such, and a Spanish way out', async () => {
    await publish(
      'updates',
      [{ date: '2026-11-21', title: 'Claves rotadas de nuevo', body: 'Hecho.', slug: 'keys-again' }],
      'es',
    );
    const before = sink.messages.length;
    await new Promise((r) => setTimeout(r, 300));
    // A translation's publish notifies nobody: English is the source.
    expect(sink.messages.slice(before).filter(to('lucia@example.org'))).toHaveLength(0);

    await publish('updates', [
      { date: '2026-11-01', title: `Patched ${XSS}`, body: 'We patched it.', slug: 'patched' },
      { date: '2026-11-20', title: 'Quiet month', body: 'Nothing.', slug: 'quiet' },
      { date: '2026-11-21', title: 'Keys rotated again', body: 'Done.', slug: 'keys-again' },
      { date: '2026-11-21', title: 'Backups tested', body: 'Restored.', slug: 'backups' },
    ]);
    const notice = await sink.waitForMail((m) => to('lucia@example.org')(m) && m.parsed.subject.includes('Aviso de seguridad'));
    expect(notice.parsed.subject).toContain('Claves rotadas de nuevo');
    expect(notice.parsed.subject).toContain('Backups tested');
    expect(notice.parsed.text).toContain('21 de noviembre de 2026: Claves rotadas de nuevo');
    expect(notice.parsed.text).toContain('http://acme.test/es/updates#keys-again');
    expect(notice.parsed.html).toMatch(/<p lang="en"><a [^>]*>21 de noviembre de 2026: Backups tested/);
    expect(notice.parsed.text).toContain('Recibe este correo porque se suscribió a avisos de seguridad e incidentes');
    const unsubscribe = /^<(http:\/\/acme\.test(\/es\/unsubscribe\/[^>]+))>$/.exec(
      notice.parsed.headers.get('list-unsubscribe') ?? '',
    );
    const path = unsubscribe?.[2] ?? '';
    expect(path).not.toBe('');

    expect(await (await t.request(path)).text()).toContain('¿Dejar de enviar correos del centro de confianza');
    // The unprefixed link (an older mail) asks in the subscriber's language too, whatever the browser says.
    const bare = await (await t.request(path.slice(3), { headers: { 'accept-language': 'en' } })).text();
    expect(bare).toContain('<html lang="es"');
    const done = await t.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('No recibirá más correos');
  });

  it('offers the subscription box in the page’s language and posts it there', async () => {
    const html = await (await t.request('/es/updates')).text();
    expect(html).toContain('Manténgase informado');
    expect(html).toContain('action="/es/subscribe"');
    expect(html).toContain('href="/es/updates.atom"');
  });
});

describe('back office and retention', () => {
  it('lists counts and masked addresses, with webhook controls only for those who may manage them', async () => {
    const res = await t.request('/admin/subscriptions', { headers: { cookie: editor.cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('a…@example.org');
    expect(html).not.toContain('ada@example.org');
    expect(html).toContain('Delivery log');
    expect(html).toContain('Add webhook');
    const approver = await t.signInAs('approver', 'approver@acme.test');
    const readOnly = await (await t.request('/admin/subscriptions', { headers: { cookie: approver.cookie } })).text();
    expect(readOnly).toContain('Delivery log');
    expect(readOnly).not.toContain('Add webhook');
    const anonymous = await t.request('/admin/subscriptions');
    expect(anonymous.status).toBe(303);
  });

  it('adds a webhook from the back office showing its secret once, refuses a bad URL, and removes it', async () => {
    const bad = await t.postForm('/admin/subscriptions/webhooks', editor, { url: 'javascript:alert(1)', topics: 'updates' });
    expect(bad.status).toBe(422);
    const added = await t.postForm('/admin/subscriptions/webhooks', editor, {
      url: 'https://hooks.example.org/in',
      topics: 'updates',
    });
    expect(added.status).toBe(200);
    const page = await added.text();
    const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(page)?.[1] ?? '';
    expect(secret.length).toBeGreaterThan(30);
    const again = await (await t.request('/admin/subscriptions', { headers: { cookie: editor.cookie } })).text();
    expect(again).toContain('https://hooks.example.org/in');
    expect(again).not.toContain(secret);
    const listed = (await (await api('/subscriptions/webhooks')).json()) as { items: { id: string; url: string }[] };
    const id = listed.items.find((e) => e.url === 'https://hooks.example.org/in')?.id ?? '';
    expect((await t.postForm(`/admin/subscriptions/webhooks/${id}/delete`, editor, {})).status).toBe(303);
    expect((await api(`/subscriptions/webhooks/${id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('purges unconfirmed subscribers after the retention period, never confirmed ones', async () => {
    const count = async () =>
      ((await (await api('/subscriptions')).json()) as { subscribers: { state: string }[] }).subscribers.map((s) => s.state);
    const before = await count();
    expect(before).toContain('pending');
    const purged = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
      purgeStaleSubscribers(tx, t.tenant.id, new Date(Date.now() + 60_000), 100),
    );
    expect(purged).toBeGreaterThan(0);
    const after = await count();
    expect(after).not.toContain('pending');
    expect(after).toContain('confirmed');
  });

  it('rate-limits repeated subscriptions from one address', async () => {
    let status = 200;
    for (let i = 0; i < 12 && status !== 429; i++) status = (await subscribe(`r${i}@example.org`)).status;
    expect(status).toBe(429);
  });
});
