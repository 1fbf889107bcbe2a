import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type RunningCandor, skipBrowserTests, startCandor } from '../browser.ts';

// A real server with the demo tenant; a visitor whose browser prefers Spanish switches languages with plain links.
describe.skipIf(skipBrowserTests())('switching the Trust Center’s language in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    candor = await startCandor({ args: ['--demo'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('opens in the browser’s language, and a chosen language sticks across links, scripts off', async () => {
    const context = await browser.newContext({ locale: 'es-MX', javaScriptEnabled: false });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    await page.goto(`${candor.url}/`);
    expect(await page.locator('html').getAttribute('lang')).toBe('es');
    expect(await page.locator('h1').textContent()).toBe('Sus cuentas están a salvo con Halcyon Ledger');
    const switcher = page.getByRole('navigation', { name: 'Idioma' });
    expect(await switcher.getByRole('link', { name: 'Español' }).getAttribute('aria-current')).toBe('true');

    await switcher.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(/\/en$/);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('h1').textContent()).toBe('Your books are safe with Halcyon Ledger');

    // The browser still asks for Spanish, but the visitor chose English: links keep it.
    await page.getByRole('navigation', { name: 'Trust Center' }).getByRole('link', { name: 'FAQ' }).click();
    await page.waitForURL(/\/en\/faq$/);
    expect(await page.locator('h1').textContent()).toBe('Frequently asked questions');
    expect(await page.locator('details summary').first().textContent()).toBe('Where is my data stored?');

    const english = page.getByRole('navigation', { name: 'Language' });
    const turkish = english.getByRole('link', { name: 'Türkçe' });
    expect(await turkish.getAttribute('lang')).toBe('tr');
    await turkish.click();
    await page.waitForURL(/\/tr\/faq$/);
    expect(await page.locator('html').getAttribute('lang')).toBe('tr');
    expect(await page.locator('h1').textContent()).toBe('Sıkça sorulan sorular');
    // No Turkish FAQ yet: the English answers, under a Turkish interface.
    expect(await page.locator('details summary').first().textContent()).toBe('Where is my data stored?');
    expect(
      await page.getByRole('navigation', { name: 'Dil' }).getByRole('link', { name: 'Türkçe' }).getAttribute('aria-current'),
    ).toBe('true');

    expect(errors).toEqual([]);
    await context.close();
  });
});
