import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOwnerInBrowser,
  launchBrowser,
  openWatchedPage,
  type RunningCandor,
  skipBrowserTests,
  startCandor,
} from '../browser.ts';

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple' };

describe.skipIf(skipBrowserTests())('IP allow-lists and IP-restricted tokens in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    candor = await startCandor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('refuses a list that would lock the editor out, saves one that includes them, and restricts a token', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await createOwnerInBrowser(page, candor, OWNER);

    await page.getByRole('link', { name: 'IP allow-lists' }).click();
    await page.waitForURL(`${candor.url}/admin/ip-allowlists`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('IP allow-lists');
    const address = (await page.locator('#list-admin ~ p code').first().textContent()) ?? '';
    expect(['127.0.0.1', '::1']).toContain(address);

    // Without the editor's own address: refused beside the field, what was typed kept.
    await page.locator('#field-enabled-admin').selectOption('on');
    await page.locator('#field-entries-admin').fill('203.0.113.0/24 office');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/admin/ip-allowlists/admin') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Save the back office list' }).click(),
    ]);
    expect(refused.status()).toBe(422);
    await page.locator('#field-entries-admin-error').waitFor();
    expect(await page.locator('#field-entries-admin-error').textContent()).toContain('would lock you out of the back office');
    expect(await page.locator('#field-entries-admin').inputValue()).toBe('203.0.113.0/24 office');
    expect(await page.locator('#field-enabled-admin').inputValue()).toBe('on');

    // With it: saved, and the page (now behind the list) still opens.
    await page.locator('#field-entries-admin').fill(`${address} this machine\n203.0.113.0/24 office`);
    await page.getByRole('button', { name: 'Save the back office list' }).click();
    await page.waitForURL(`${candor.url}/admin/ip-allowlists`);
    expect(await page.locator('.flash').textContent()).toContain('The back office allow-list is saved (on, 2 entries).');
    expect(await page.locator('#list-admin').textContent()).toContain('on');
    expect(await page.locator('section', { has: page.locator('#list-admin') }).textContent()).toContain('inside this list');

    // A token usable only from one range: the list shows it.
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByLabel('Name').fill('office exporter');
    await page.getByRole('checkbox', { name: 'audit.read' }).check();
    await page.getByLabel('Usable only from').fill('203.0.113.0/24, 2001:db8::/32');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('text=Copy it now').waitFor();
    const row = page.locator('tr', { hasText: 'office exporter' });
    expect(await row.textContent()).toContain('203.0.113.0/24');
    expect(await row.textContent()).toContain('2001:db8::/32');
    expect(problems).toEqual([]);
    await context.close();
  });
});
