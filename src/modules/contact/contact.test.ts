import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { type MailSink, startMailSink } from '../../../test/mail-sink.ts';

const clock = new TestClock(new Date('2026-11-21T10:00:00Z'));
let t: TestApp;
let sink: MailSink;
let editor: SignedIn;
let approver: SignedIn;
let token: string;

const XSS = '<script>alert(1)</script>';

beforeAll(async () => {
  sink = await startMailSink();
  t = await createTestApp({ clock, workJobs: true, config: { smtpUrl: sink.url } });
  editor = await t.signInAs('content-editor', 'editor@acme.test');
  approver = await t.signInAs('approver', 'approver@acme.test');
  token = await t.apiToken('content-editor');
  const put = await t.request('/api/v1/trust-center/sections/contact/draft', {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ fields: { security: 'security@acme.test', privacy: 'dpo@acme.test' } }),
  });
  expect(put.status).toBe(200);
  await t.request('/api/v1/trust-center/sections/contact/publish', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
});

afterAll(async () => {
  await t?.close();
  await sink?.close();
});

async function formToken(): Promise<string> {
  const html = await (await t.request('/contact/message')).text();
  return /name="started" value="([^"]+)"/.exec(html)?.[1] ?? '';
}

function send(fields: Record<string, string>) {
  return t.request('/contact/message', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

async function list(): Promise<{ id: string; name: string; topic: string; routedTo: string | null; message: string }[]> {
  const res = await t.request('/api/v1/contact-messages', { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { items: [] }).items;
}

const message = { topic: 'security', name: `Mallory ${XSS}`, email: 'mallory@example.org', message: `Found a bug ${XSS}` };

describe('the contact form', () => {
  it('links from the contact page to a form that works without JavaScript', async () => {
    expect(await (await t.request('/contact')).text()).toContain('href="/contact/message"');
    const form = await t.request('/contact/message');
    expect(form.headers.get('cache-control')).toBe('no-store');
    expect(await form.text()).toContain('name="website"');
  });

  it('keeps a message, mails it to the routed address with inert HTML, and shows it in the back office', async () => {
    const started = await formToken();
    clock.advance(5_000);
    const res = await send({ ...message, started, website: '' });
    expect(res.status).toBe(200);
    const thanks = await res.text();
    expect(thanks).toContain('Your message has been sent');

    const mail = await sink.waitForMail((m) => m.envelope.to.includes('security@acme.test'));
    expect(mail.parsed.headers.get('reply-to')).toContain('mallory@example.org');
    expect(mail.parsed.html).not.toContain('<script');
    expect(mail.parsed.text).toContain(`Found a bug ${XSS}`);

    const [kept] = await list();
    expect(kept).toMatchObject({ topic: 'security', routedTo: 'security@acme.test', message: `Found a bug ${XSS}` });

    const listPage = await (await t.request('/admin/contact', { headers: { cookie: editor.cookie } })).text();
    expect(listPage).not.toContain('<script>alert');
    const detail = await (await t.request(`/admin/contact/${kept?.id}`, { headers: { cookie: approver.cookie } })).text();
    expect(detail).toContain('&lt;script&gt;');
    expect(detail).not.toContain('<script>alert');
    expect(detail).not.toContain('Mark handled');

    const handled = await t.postForm(`/admin/contact/${kept?.id}/handled`, editor, {});
    expect(handled.status).toBe(303);
    expect(await (await t.request(`/admin/contact/${kept?.id}`, { headers: { cookie: editor.cookie } })).text()).toContain(
      'handled by editor@acme.test',
    );
    expect((await t.postForm(`/admin/contact/${kept?.id}/handled`, approver, {})).status).toBe(403);
  });

  it('gives spam the same answer and keeps none of it: honeypot, too fast, too old, forged token', async () => {
    const before = (await list()).length;
    const mails = sink.messages.length;
    const fresh = await formToken();
    expect(await (await send({ ...message, started: fresh })).text()).toContain('Your message has been sent');
    clock.advance(5_000);
    await send({ ...message, started: fresh, website: 'http://spam.example' });
    await send({ ...message, started: `${fresh.split('.')[0]}.${'0'.repeat(64)}` });
    const old = await formToken();
    clock.advance(25 * 60 * 60_000);
    await send({ ...message, started: old });
    expect((await list()).length).toBe(before);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.messages.length).toBe(mails);
  });

  it('refuses bad input with named errors and keeps nothing', async () => {
    const before = (await list()).length;
    const res = await send({ topic: 'sales', name: '', email: 'nope', message: '', started: await formToken() });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('enter an email address');
    expect(html).toContain('write your message');
    expect((await list()).length).toBe(before);
  });

  it('speaks Spanish under /es: form, switcher, errors and thanks', async () => {
    expect(await (await t.request('/es/contact')).text()).toContain('href="/es/contact/message"');
    const res = await t.request('/es/contact/message');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('<html lang="es"');
    expect(html).toContain('<h1>Escríbanos</h1>');
    expect(html).toContain('action="/es/contact/message"');
    expect(html).toContain('<option value="privacy">Privacidad</option>');
    expect(html).toMatch(/<a href="\/tr\/contact\/message" lang="tr" hreflang="tr">Türkçe<\/a>/);
    expect(html).toMatch(/<a href="\/es\/contact\/message" lang="es" hreflang="es" aria-current="true">/);

    const started = /name="started" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const refused = await t.request('/es/contact/message', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ topic: 'security', name: 'Lucía', email: 'nope', message: '', started }).toString(),
    });
    expect(refused.status).toBe(422);
    const errors = await refused.text();
    expect(errors).toContain('escriba una dirección de correo electrónico');
    expect(errors).toContain('escriba su mensaje');
    expect(errors).not.toContain('enter an email address');

    clock.advance(5_000);
    const sent = await t.request('/es/contact/message', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...message, started, website: '' }).toString(),
    });
    expect(await sent.text()).toContain('Su mensaje se ha enviado');
  });

  it('follows the browser’s language on the unprefixed form', async () => {
    const res = await t.request('/contact/message', { headers: { 'accept-language': 'tr' } });
    expect(res.headers.get('vary')).toContain('accept-language');
    const html = await res.text();
    expect(html).toContain('<h1>Bize yazın</h1>');
    expect(html).toContain('action="/contact/message"');
  });

  it('rate-limits one address', async () => {
    let status = 200;
    for (let i = 0; i < 8 && status !== 429; i++) status = (await send({ ...message, started: 'x' })).status;
    expect(status).toBe(429);
  });
});
