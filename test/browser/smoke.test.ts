import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openWatchedPage, type RunningCandor, skipBrowserTests, startCandor } from '../browser.ts';

// The first tenant a fresh data directory gets (see ensureFirstTenant).
const COMPANY = 'Your Company';

describe.skipIf(skipBrowserTests())('public site and sign-in page in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;

  beforeAll(async () => {
    // One after the other: if either fails, afterAll must still find and stop the one that started.
    browser = await launchBrowser();
    candor = await startCandor();
  });

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('renders the Trust Center home page with a heading and the company name, without console errors', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    const response = await page.goto(`${candor.url}/`);
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain(COMPANY);
    expect(await page.locator('.site-header .brand__name').textContent()).toBe(COMPANY);
    expect(await page.title()).toContain(COMPANY);
    // Stylesheet and script load under the CSP: a blocked stylesheet would leave the page unstyled.
    expect(await page.evaluate(() => document.styleSheets.length)).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the sign-in form with the autocomplete hints password managers need', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await page.goto(`${candor.url}/admin/login`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    const email = page.getByLabel('Email');
    const password = page.getByLabel('Password');
    expect(await email.getAttribute('name')).toBe('email');
    expect(await email.getAttribute('autocomplete')).toBe('username');
    expect(await password.getAttribute('name')).toBe('password');
    expect(await password.getAttribute('type')).toBe('password');
    expect(await password.getAttribute('autocomplete')).toBe('current-password');
    expect(await page.getByRole('button', { name: 'Sign in', exact: true }).isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('sends a signed-out visitor of /admin to the sign-in page', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await page.goto(`${candor.url}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect(await page.getByLabel('Email').isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });
});
