import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composePages } from '../../src/modules/documents/compose.ts';
import {
  launchBrowser,
  openWatchedPage,
  type RunningCandor,
  signInInBrowser,
  skipBrowserTests,
  startCandorWithPeople,
} from '../browser.ts';
import { type MailSink, startMailSink } from '../mail-sink.ts';

const EDITOR = { email: 'ines@example.com', password: 'harbour lights in the morning' };
const REQUESTER = 'katherine@orbit-labs.example';
const PAGES = 3;

// A view-only document seen through a grant in real Chromium: pdf.js (served from our origin under script-src
// 'self', with no eval) draws every page into a canvas, no download link is offered, and the download address refuses.
describe.skipIf(skipBrowserTests())('a view-only document in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;
  let sink: MailSink;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'candor-view-only-browser-'));
    sink = await startMailSink();
    browser = await launchBrowser();
    candor = await startCandorWithPeople([{ ...EDITOR, role: 'content-editor' }], { SMTP_URL: sink.url });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows every page in canvases with no download link, and refuses the download address', async () => {
    const report = path.join(dir, 'pentest.pdf');
    writeFileSync(report, await composePages(PAGES, 'Penetration test 2026'));

    // The editor publishes an NDA-level document marked view only.
    const staff = await openWatchedPage(browser);
    await signInInBrowser(staff.page, candor.url, EDITOR);
    await staff.page.goto(`${candor.url}/admin/documents/new`);
    await staff.page.getByLabel('Title').fill('Penetration test summary');
    await staff.page.getByLabel('NDA: after the requester signs the NDA').check();
    await staff.page.getByLabel(/View only: requesters/).check();
    await staff.page.getByRole('button', { name: 'Create document' }).click();
    await expect.poll(() => staff.page.locator('.flash').textContent()).toContain('Upload its file next');
    expect(await staff.page.getByLabel(/View only: requesters/).isChecked()).toBe(true);
    await staff.page.getByLabel('File', { exact: true }).setInputFiles(report);
    await staff.page.getByRole('button', { name: 'Upload new version' }).click();
    await expect.poll(() => staff.page.locator('.flash').textContent()).toContain('Version 1 is uploaded');
    expect(staff.problems).toEqual([]);
    await staff.context.close();

    // The visitor asks, verifies and signs: NDA-level documents are granted at once.
    const visitor = await openWatchedPage(browser);
    const v = visitor.page;
    await v.goto(`${candor.url}/documents/request`);
    await v.getByLabel('Your name').fill('Katherine Johnson');
    await v.getByLabel('Work email').fill(REQUESTER);
    await v.getByLabel('Company').fill('Orbit Labs');
    await v.getByLabel(/Penetration test summary/).check();
    await v.getByRole('button', { name: 'Send the request' }).click();
    const verification = await sink.waitForMail((m) => m.envelope.to.includes(REQUESTER), 30_000);
    await v.goto(/(http:\/\/\S+\/documents\/verify\/\S+)/.exec(verification.parsed.text)?.[1] ?? '');
    await v.getByRole('button', { name: 'Verify and continue' }).click();
    await v.getByLabel('Type your full name to sign').fill('Katherine Johnson');
    await v.getByLabel('I have read and agree to this non-disclosure agreement').check();
    await v.getByRole('button', { name: 'Sign the NDA' }).click();
    await expect.poll(() => v.locator('h1').textContent()).toBe('Access granted');
    const granted = await sink.waitForMail(
      (m) => m.envelope.to.includes(REQUESTER) && m.parsed.subject.includes('Your documents'),
      30_000,
    );
    const accessLink = /(http:\/\/\S+\/documents\/access\/\S+)/.exec(granted.parsed.text)?.[1] ?? '';

    // The access page offers "View", not "Download".
    await v.goto(accessLink);
    expect(await v.getByRole('link', { name: 'Download' }).count()).toBe(0);
    await v.getByRole('link', { name: 'View' }).click();
    await v.waitForURL(/\/view$/);
    const viewer = v.locator('[data-pdf-viewer]');
    await expect.poll(() => viewer.getAttribute('data-rendered'), { timeout: 30_000 }).toBe(String(PAGES));
    expect(await viewer.locator('canvas').count()).toBe(PAGES);
    expect(await v.getByRole('img', { name: `Page ${PAGES} of ${PAGES}` }).count()).toBe(1);
    // Something was drawn: a blank canvas would mean the pages never rendered.
    const inked = await viewer
      .locator('canvas')
      .first()
      .evaluate((canvas: HTMLCanvasElement) => {
        const pixels = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
        let dark = 0;
        for (let i = 0; i < pixels.length; i += 4) if ((pixels[i] ?? 255) < 128 && (pixels[i + 3] ?? 0) > 0) dark++;
        return dark;
      });
    expect(inked).toBeGreaterThan(1000);
    expect(await v.getByRole('link', { name: /download/i }).count()).toBe(0);
    expect(await v.locator('a[download]').count()).toBe(0);

    // The download address refuses the document; the viewer's own fetch is not stored anywhere.
    const documentUrl = v.url().replace(/\/view$/, '');
    const refused = await v.request.get(documentUrl);
    expect(refused.status()).toBe(403);
    expect(await refused.text()).toContain('viewed in your browser but not downloaded');
    const pdf = await v.request.get(`${v.url()}/pdf`);
    expect(pdf.headers()['cache-control']).toBe('no-store');
    expect(pdf.headers()['content-disposition']).toMatch(/^inline;/);
    expect(visitor.problems).toEqual([]);
    await visitor.context.close();

    // Without JavaScript the page says the viewer needs it.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const p = await plain.newPage();
    await p.goto(v.url());
    expect(await p.locator('main').textContent()).toContain('The document viewer needs JavaScript');
    expect(await p.locator('canvas').count()).toBe(0);
    await plain.close();
  }, 120_000);
});
