import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificatePdf } from '../../src/modules/trust-center/certificate-pdf.ts';
import {
  launchBrowser,
  openWatchedPage,
  type RunningCandor,
  signInInBrowser,
  skipBrowserTests,
  startCandorWithPerson,
} from '../browser.ts';

const EDITOR = { email: 'ines@example.com', password: 'paper boats on a still canal' };

// A real server: an editor attaches a certificate and sets a brand colour; a visitor downloads the certificate.
describe.skipIf(skipBrowserTests())('certificate files and branding in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    candor = await startCandorWithPerson({ ...EDITOR, role: 'content-editor' });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('uploads a certificate with the form, publishes it, and a visitor downloads it on a branded page', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await signInInBrowser(page, candor.url, EDITOR);

    await page.goto(`${candor.url}/admin/trust-center/certifications`);
    await page.locator('#field-items-0-standard').fill('ISO/IEC 27001');
    await page.locator('#field-items-0-issuer').fill('Example Cert Ltd');
    await page.locator('#field-items-0-validFrom').fill('2026-01-01');
    await page.locator('#field-items-0-validUntil').fill('2029-01-01');
    const pdf = certificatePdf(['Certificate', 'ISO/IEC 27001']);
    await page
      .locator('#field-items-0-certificate')
      .setInputFiles({ name: 'iso 27001 (signed).pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdf) });
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('draft is saved');
    expect(await page.locator('.tc-file a').textContent()).toBe('iso 27001 (signed).pdf');
    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('Published as version 1');

    await page.goto(`${candor.url}/admin/trust-center/branding`);
    await page.getByLabel('Primary colour').fill('#0b5d4b');
    await page.getByRole('button', { name: 'Save branding' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('Branding saved');

    const visitor = await browser.newContext({ acceptDownloads: true });
    const publicPage = await visitor.newPage();
    await publicPage.goto(`${candor.url}/certifications`);
    const brand = await publicPage.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--color-brand'));
    expect(brand.trim()).toBe('#0b5d4b');
    const [download] = await Promise.all([
      publicPage.waitForEvent('download'),
      publicPage.getByRole('link', { name: /Download certificate/ }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('iso-27001-signed.pdf');
    expect(new Uint8Array(readFileSync((await download.path()) ?? ''))).toEqual(pdf);

    expect(problems).toEqual([]);
    await visitor.close();
    await context.close();
  });
});
