import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { trustCenterDrafts } from './tables.ts';

let t: TestApp;
let owner: SignedIn;
let ownerToken: string;
let approverToken: string;

beforeAll(async () => {
  t = await createTestApp();
  owner = await t.signInAs('owner', 'owner@acme.test');
  ownerToken = await t.apiToken('owner');
  approverToken = await t.apiToken('approver');
});

afterAll(async () => {
  await t?.close();
});

function api(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  return t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? ownerToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** Saves and publishes a section in one language through the API. */
async function publish(
  section: string,
  locale: string,
  document: { fields?: Record<string, string>; items?: Record<string, string>[] },
) {
  const query = `?locale=${locale}`;
  expect((await api(`/trust-center/sections/${section}/draft${query}`, { method: 'PUT', body: document })).status).toBe(200);
  const published = await api(`/trust-center/sections/${section}/publish${query}`, { method: 'POST' });
  expect(published.status).toBe(201);
  return (await published.json()) as { locale: string; version: number };
}

async function page(path: string, acceptLanguage?: string) {
  const res = await t.request(path, acceptLanguage ? { headers: { 'accept-language': acceptLanguage } } : {});
  return { status: res.status, html: await res.text(), etag: res.headers.get('etag'), vary: res.headers.get('vary') };
}

const ENGLISH_FAQ = {
  fields: { intro: 'What customers ask.' },
  items: [{ category: 'Encryption', question: 'Is my data encrypted?', answer: 'Yes, always.' }],
};
const SPANISH_FAQ = {
  fields: { intro: 'Lo que más preguntan nuestros clientes.' },
  items: [{ category: 'Cifrado', question: '¿Están cifrados mis datos?', answer: 'Sí, siempre.' }],
};

describe('choosing the language of a public page', () => {
  beforeAll(async () => {
    await publish('faq', 'en', ENGLISH_FAQ);
    await publish('faq', 'es', SPANISH_FAQ);
    await publish('security', 'en', {
      items: [{ group: 'Encryption', title: 'At rest', body: 'AES-256 everywhere.' }],
    });
    await publish('certifications', 'en', {
      items: [
        { standard: 'ISO/IEC 27001', issuer: 'Example Cert', validFrom: '2020-01-15', validUntil: '2099-03-01' },
        { standard: 'SOC 2 Type 2', issuer: 'Example Audit', validFrom: '2019-01-01', validUntil: '2020-01-01' },
      ],
    });
  });

  it('serves the browser’s language on unprefixed addresses, English when it asks for none we speak', async () => {
    const plain = await page('/faq');
    expect(plain.html).toContain('<html lang="en">');
    expect(plain.html).toContain('Is my data encrypted?');
    expect(plain.vary).toBe('accept-language');

    const mexican = await page('/faq', 'es-MX,es;q=0.9,en;q=0.5');
    expect(mexican.html).toContain('<html lang="es">');
    expect(mexican.html).toContain('¿Están cifrados mis datos?');
    expect(mexican.html).toContain('Preguntas frecuentes');
    expect(mexican.html).toContain('<link rel="canonical" href="http://acme.test/es/faq"/>');
    // Reached without a prefix, links stay unprefixed: the browser keeps choosing.
    expect(mexican.html).toContain('href="/security"');

    const french = await page('/faq', 'fr-FR, de;q=0.8');
    expect(french.html).toContain('<html lang="en">');
    expect(french.html).toContain('Is my data encrypted?');
  });

  it('serves the language a prefix names whatever the browser asks, and knows no other prefix', async () => {
    const spanish = await page('/es/faq', 'tr');
    expect(spanish.status).toBe(200);
    // A prefixed address is the same for every browser.
    expect(spanish.vary).toBeNull();
    expect(spanish.html).toContain('<html lang="es">');
    expect(spanish.html).toContain('¿Están cifrados mis datos?');
    expect(spanish.html).toContain('Enlace a esta pregunta');
    // Links keep the chosen language.
    expect(spanish.html).toContain('<a href="/es/security"');
    expect(spanish.html).toContain('<a class="brand" href="/es">');

    const english = await page('/en/faq', 'es');
    expect(english.html).toContain('<html lang="en">');
    expect(english.html).toContain('Is my data encrypted?');
    expect(english.html).toContain('<link rel="canonical" href="http://acme.test/faq"/>');

    expect((await page('/es')).html).toContain('<html lang="es">');
    expect((await page('/tr/')).html).toContain('<html lang="tr">');
    for (const path of ['/fr/faq', '/fr', '/de/', '/ES/faq', '/es-mx/faq']) expect((await page(path)).status, path).toBe(404);
  });

  it('shows the English version of a section a language has not published, with that language’s interface', async () => {
    const security = await page('/es/security');
    expect(security.status).toBe(200);
    expect(security.html).toContain('AES-256 everywhere.');
    expect(security.html).toContain('<h1>Prácticas de seguridad</h1>');
    // The English content is marked as English for screen readers; the Spanish interface around it is not.
    expect(security.html).toContain('<div class="container section" lang="en">');
    expect((await page('/es/faq')).html).not.toContain('lang="en"><');

    const turkish = await page('/tr/faq');
    expect(turkish.html).toContain('<html lang="tr">');
    expect(turkish.html).toContain('Is my data encrypted?');
    expect(turkish.html).toContain('Sıkça sorulan sorular');
    expect(turkish.html).toContain('İçeriğe geç');

    // Nothing published in any language: absent everywhere.
    expect((await page('/es/updates')).status).toBe(404);
  });

  it('serves the subscription and contact pages under every prefix and by the browser’s language', async () => {
    for (const [path, lang, heading] of [
      ['/es/subscribe', 'es', 'Suscribirse'],
      ['/tr/subscribe', 'tr', 'Abone ol'],
      ['/en/subscribe', 'en', 'Subscribe'],
      ['/es/contact/message', 'es', 'Escríbanos'],
      ['/tr/contact/message', 'tr', 'Bize yazın'],
    ] as const) {
      const res = await page(path, 'en');
      expect(res.status, path).toBe(200);
      expect(res.html, path).toContain(`<html lang="${lang}">`);
      expect(res.html, path).toContain(`<h1>${heading}</h1>`);
      expect(res.html, path).toContain(`<a class="brand" href="/${lang}">`);
    }
    const negotiated = await page('/subscribe', 'es-MX');
    expect(negotiated.html).toContain('<html lang="es">');
    expect(negotiated.html).toContain('<a class="brand" href="/">');
    expect(negotiated.vary).toContain('accept-language');
    expect((await page('/fr/subscribe')).status).toBe(404);
  });

  it('writes status words and dates in the page’s language', async () => {
    const spanish = (await page('/es/certifications')).html;
    expect(spanish).toContain('Vigente');
    expect(spanish).toContain('Vencida');
    expect(spanish).toContain('15 de enero de 2020 – 1 de marzo de 2099');
    const turkish = (await page('/tr/certifications')).html;
    expect(turkish).toContain('Geçerli');
    expect(turkish).toContain('Süresi doldu');
    expect(turkish).toContain('15 Ocak 2020 – 1 Mart 2099');
    const english = (await page('/certifications')).html;
    expect(english).toContain('15 January 2020 – 1 March 2099');
    expect(english).toContain('Expired');
  });

  it('offers every language as a plain link, marks the current one, and names the alternates for search engines', async () => {
    const html = (await page('/es/faq')).html;
    expect(html).toContain('<nav class="language-switcher" aria-label="Idioma">');
    expect(html).toContain('<a href="/en/faq" lang="en" hreflang="en">English</a>');
    expect(html).toContain('<a href="/es/faq" lang="es" hreflang="es" aria-current="true">Español</a>');
    expect(html).toContain('<a href="/tr/faq" lang="tr" hreflang="tr">Türkçe</a>');
    expect(html).toContain('<link rel="alternate" hreflang="en" href="http://acme.test/faq"/>');
    expect(html).toContain('<link rel="alternate" hreflang="es" href="http://acme.test/es/faq"/>');
    expect(html).toContain('<link rel="alternate" hreflang="tr" href="http://acme.test/tr/faq"/>');
    expect(html).toContain('<link rel="alternate" hreflang="x-default" href="http://acme.test/faq"/>');
    expect((await page('/')).html).toContain('<a href="/en" lang="en" hreflang="en" aria-current="true">English</a>');

    const sitemap = (await page('/sitemap.xml')).html;
    expect(sitemap).toContain('xmlns:xhtml="http://www.w3.org/1999/xhtml"');
    for (const loc of ['http://acme.test/faq', 'http://acme.test/es/faq', 'http://acme.test/tr/faq'])
      expect(sitemap).toContain(`<loc>${loc}</loc>`);
    expect(sitemap).toContain('<xhtml:link rel="alternate" hreflang="es" href="http://acme.test/es/faq"/>');
  });
});

describe('the render cache per language', () => {
  it('keeps each language apart, and a publish forgets only the languages it changes', async () => {
    const english = await page('/faq');
    const spanish = await page('/es/faq');
    const negotiated = await page('/faq', 'es');
    expect(english.etag).not.toBe(spanish.etag);
    expect(negotiated.etag).not.toBe(english.etag);

    // Publishing Spanish re-renders Spanish pages; English ones are still served from the cache.
    await publish('faq', 'es', { ...SPANISH_FAQ, fields: { intro: 'Preguntas de nuestros clientes, actualizadas.' } });
    const spy = vi.spyOn(t.runtime.db, 'withTenant');
    const englishAgain = await page('/faq');
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(englishAgain.etag).toBe(english.etag);
    const spanishAgain = await page('/es/faq');
    expect(spanishAgain.etag).not.toBe(spanish.etag);
    expect(spanishAgain.html).toContain('actualizadas');
    expect((await page('/faq', 'es')).html).toContain('actualizadas');

    // Publishing English reaches the languages that show it in place of their own.
    expect((await page('/tr/security')).html).toContain('AES-256 everywhere.');
    await publish('security', 'en', {
      items: [{ group: 'Encryption', title: 'At rest', body: 'AES-256-GCM, keys per customer.' }],
    });
    expect((await page('/tr/security')).html).toContain('AES-256-GCM, keys per customer.');
    expect((await page('/es/security')).html).toContain('AES-256-GCM, keys per customer.');
    expect((await page('/sitemap.xml')).html).toContain('<loc>http://acme.test/tr/security</loc>');
  });
});

describe('editing content in another language', () => {
  it('edits, previews and publishes a Spanish section in the back office without touching the English one', async () => {
    const list = await t.request('/admin/trust-center?locale=es', { headers: { cookie: owner.cookie } });
    expect(list.status).toBe(200);
    const listing = await list.text();
    expect(listing).toContain('Shows English');
    expect(listing).toContain('href="/admin/trust-center/security?locale=es"');
    expect(listing).toMatch(/aria-current="true"[^>]*>Español|lang="es" aria-current="true">Español/);

    const edit = await t.request('/admin/trust-center/security?locale=es', { headers: { cookie: owner.cookie } });
    const form = await edit.text();
    expect(form).toContain('No Spanish version yet');
    expect(form).toContain('AES-256-GCM, keys per customer.');
    expect(form).toContain('action="/admin/trust-center/security?locale=es"');

    const saved = await t.postForm('/admin/trust-center/security?locale=es', owner, {
      'items.0.group': 'Cifrado',
      'items.0.title': 'En reposo',
      'items.0.body': 'AES-256-GCM, con claves por cliente.',
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/admin/trust-center/security?locale=es');
    expect((await page('/es/security')).html).not.toContain('con claves por cliente');

    const preview = await t.request('/admin/trust-center/security/preview?locale=es', { headers: { cookie: owner.cookie } });
    const previewHtml = await preview.text();
    expect(previewHtml).toContain('<html lang="es">');
    expect(previewHtml).toContain('con claves por cliente');

    const published = await t.postForm('/admin/trust-center/security/publish?locale=es', owner, {});
    expect(published.status).toBe(303);
    expect(published.headers.get('location')).toBe('/admin/trust-center/security?locale=es');
    expect((await page('/es/security')).html).toContain('AES-256-GCM, con claves por cliente.');
    expect((await page('/security')).html).toContain('AES-256-GCM, keys per customer.');
    const english = (await (await api('/trust-center/sections/security/draft')).json()) as {
      document: { items: { body: string }[] };
    };
    expect(english.document.items[0]?.body).toBe('AES-256-GCM, keys per customer.');

    const events = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
    const publishedEs = events.find((e) => e.action === 'trust_center.published' && e.targetId === 'security');
    expect(publishedEs?.details).toMatchObject({ locale: 'es' });
  });

  it('refuses a language it does not keep, and changes nothing', async () => {
    expect((await t.request('/admin/trust-center/faq?locale=fr', { headers: { cookie: owner.cookie } })).status).toBe(422);
    expect((await t.postForm('/admin/trust-center/faq?locale=fr', owner, { 'fields.intro': 'Bonjour' })).status).toBe(422);
    const bad = await api('/trust-center/sections/faq/draft?locale=fr', {
      method: 'PUT',
      body: { fields: { intro: 'Bonjour' } },
    });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const drafts = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
      tx.select().from(trustCenterDrafts).where(eq(trustCenterDrafts.locale, 'fr')),
    );
    expect(drafts).toEqual([]);
  });

  it('keeps drafts, versions and approvals apart per language through the API, policies falling back to English', async () => {
    const section = 'policy:acceptable-use';
    const english = { fields: { title: 'Acceptable Use', body: 'Use systems for work.' } };
    expect((await api(`/trust-center/sections/${section}/draft`, { method: 'PUT', body: english })).status).toBe(200);
    await api(`/trust-center/sections/${section}/review`, { method: 'POST' });
    await api(`/trust-center/sections/${section}/approve`, { method: 'POST', token: approverToken });
    expect((await api(`/trust-center/sections/${section}/publish`, { method: 'POST' })).status).toBe(201);

    // Not yet translated: the Spanish site shows the English policy under a Spanish interface.
    const fallback = (await page('/es/policies/acceptable-use')).html;
    expect(fallback).toContain('Use systems for work.');
    expect(fallback).toContain('Historial de versiones');
    expect(fallback).toContain('<div class="prose" lang="en">');
    expect((await page('/es/policies')).html).toContain('href="/es/policies/acceptable-use"');

    const q = '?locale=es';
    const draft = await api(`/trust-center/sections/${section}/draft${q}`);
    expect(await draft.json()).toMatchObject({ locale: 'es', publishedVersion: null, document: english });
    const spanish = { fields: { title: 'Uso aceptable', body: 'Use los sistemas para trabajar.' } };
    expect((await api(`/trust-center/sections/${section}/draft${q}`, { method: 'PUT', body: spanish })).status).toBe(200);
    // The Spanish draft needs its own approval.
    expect((await api(`/trust-center/sections/${section}/publish${q}`, { method: 'POST' })).status).toBe(409);
    await api(`/trust-center/sections/${section}/review${q}`, { method: 'POST' });
    const approved = await api(`/trust-center/sections/${section}/approve${q}`, { method: 'POST', token: approverToken });
    expect(await approved.json()).toMatchObject({ locale: 'es', reviewState: 'approved' });
    const published = await api(`/trust-center/sections/${section}/publish${q}`, { method: 'POST' });
    expect(await published.json()).toMatchObject({ locale: 'es', version: 1 });

    expect((await page('/es/policies/acceptable-use')).html).toContain('Use los sistemas para trabajar.');
    expect((await page('/policies/acceptable-use')).html).toContain('Use systems for work.');
    const versions = (await (await api(`/trust-center/sections/${section}/versions${q}`)).json()) as {
      items: { locale: string }[];
    };
    expect(versions.items.map((v) => v.locale)).toEqual(['es']);
    const sections = (await (await api(`/trust-center/sections${q}`)).json()) as {
      items: { section: string; locale: string; publishedVersion: number | null }[];
    };
    expect(sections.items.find((s) => s.section === section)).toMatchObject({ locale: 'es', publishedVersion: 1 });
    expect((await api('/trust-center/sections?locale=xx')).status).toBe(422);
  });

  it('lists a section only Spanish has under its Spanish address, refreshing the sitemap on publish', async () => {
    expect((await page('/sitemap.xml')).html).not.toContain('/contact');
    await publish('contact', 'es', { fields: { security: 'seguridad@acme.test', intro: 'Escríbanos.' } });
    const sitemap = (await page('/sitemap.xml')).html;
    expect(sitemap).toContain('<loc>http://acme.test/es/contact</loc>');
    expect(sitemap).not.toContain('<loc>http://acme.test/contact</loc>');
    expect((await page('/es/contact')).html).toContain('mailto:seguridad@acme.test');
    expect((await page('/contact')).status).toBe(404);
  });

  it('titles the Spanish feed in Spanish', async () => {
    await publish('updates', 'en', { items: [{ date: '2026-11-01', title: 'Maintenance', body: 'Done.' }] });
    const feed = (await page('/es/updates.atom')).html;
    expect(feed).toContain('<title>Avisos de seguridad de Acme Corp</title>');
    expect(feed).toContain('<link rel="self" href="http://acme.test/es/updates.atom"/>');
    expect((await page('/es/updates')).html).toContain('1 de noviembre de 2026');
  });

  it('marks English shown in place of a translation on the certifications, updates and contact pages', async () => {
    const certifications = (await page('/es/certifications')).html;
    expect(certifications).toContain('<h2 class="card__title" lang="en">ISO/IEC 27001');
    expect(certifications).toContain('<dd lang="en">Example Cert</dd>');
    expect(certifications).toContain('<dt>Emisor</dt>');
    expect((await page('/certifications')).html).not.toContain('lang="en">Example Cert');

    await publish('updates', 'en', { items: [{ date: '2026-11-02', title: 'Keys rotated', body: 'Done.', slug: 'keys' }] });
    await publish('contact', 'en', { fields: { intro: 'Write any time.', security: 'security@acme.test' } });
    const updates = (await page('/es/updates')).html;
    expect(updates).toContain('<h2 lang="en">Keys rotated</h2>');
    expect(updates).toContain('<div class="prose" lang="en">');
    expect(updates).toContain('Manténgase informado');
    const contact = (await page('/tr/contact')).html;
    expect(contact).toContain('<div class="prose" lang="en"><p>Write any time.</p>');
    expect(contact).toContain('<a class="button button--primary" href="/tr/contact/message">Bize mesaj gönderin</a>');
  });
});

describe('the demo tenant in Spanish and Turkish', () => {
  it('shows translated sections where written and English elsewhere', async () => {
    const { createDemo } = await import('../demo/service.ts');
    await createDemo(t.runtime, { kind: 'system', name: 'cli' });
    const get = async (path: string) => (await t.app.request(`http://demo.localhost${path}`)).text();
    expect(await get('/es')).toContain('Sus cuentas están a salvo con Halcyon Ledger');
    expect(await get('/es/security')).toContain('Copias de seguridad');
    expect(await get('/es/faq')).toContain('¿Dónde se guardan mis datos?');
    const certifications = await get('/es/certifications');
    expect(certifications).toContain('Certificaciones e informes');
    expect(certifications).toContain('Northwind Assurance (fictional)');
    expect(await get('/tr')).toContain('Defterleriniz Halcyon Ledger’da güvende');
    expect(await get('/tr/faq')).toContain('Where is my data stored?');
  });
});
