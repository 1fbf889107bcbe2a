import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProvider, type TestProvider } from '../../src/modules/sso/testing/provider.ts';
import {
  createOwnerInBrowser,
  launchBrowser,
  openWatchedPage,
  type RunningCandor,
  skipBrowserTests,
  startCandor,
} from '../browser.ts';

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple' };

// The owner sets up SSO through the settings page, then a person nobody created signs in through the provider
// and gets an account (just-in-time provisioning), all in Chromium against a real OpenID Provider.
describe.skipIf(skipBrowserTests())('single sign-on in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;
  let idp: TestProvider;

  // A fresh data directory is initialised and migrated first: slow on a busy machine.
  beforeAll(async () => {
    browser = await launchBrowser();
    candor = await startCandor({ startTimeoutMs: 150_000 });
    idp = await startTestProvider({ redirectUris: [`${candor.url}/admin/sso/callback`] });
    idp.accounts.set('newbie-sub', { email: 'newbie@example.com', email_verified: true, name: 'Nina Newbie' });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
    await idp?.close();
  });

  it('the owner configures the provider, and a new person signs in with it and gets an account', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await createOwnerInBrowser(page, candor, OWNER);

    await page.getByRole('link', { name: 'Single sign-on' }).click();
    await page.waitForURL(`${candor.url}/admin/settings/sso`);
    expect(await page.locator('main').textContent()).toContain(`${candor.url}/admin/sso/callback`);
    await page.getByLabel('Name shown on the sign-in page').fill('Test IdP');
    await page.getByLabel('Issuer URL').fill(idp.issuer);
    await page.getByLabel('Client id').fill(idp.clientId);
    await page.getByLabel('Client secret').fill(idp.clientSecret);
    await page.getByLabel('Create an account at first sign-in').check();
    await page.getByLabel('Role of new people').selectOption('employee');
    await page.getByLabel('Single sign-on is on').check();
    await page.getByRole('button', { name: 'Save single sign-on settings' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('Single sign-on settings saved.');
    // The secret is never shown again; the form says one is set.
    expect(await page.content()).not.toContain(idp.clientSecret);
    expect(await page.locator('main').textContent()).toContain('A secret is set');

    await page.getByRole('button', { name: 'Check the provider' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('Provider found.');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${candor.url}/admin/login`);
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.getByLabel('Account').fill('newbie-sub');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${candor.url}/admin`);

    await page.goto(`${candor.url}/admin/account`);
    expect(await page.locator('main').textContent()).toContain('newbie@example.com');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a clear refusal when the provider sends back a forged state', async () => {
    const { context, page } = await openWatchedPage(browser);
    const response = await page.goto(`${candor.url}/admin/sso/callback?code=x&state=forged`);
    expect(response?.status()).toBe(403);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign-in refused');
    expect(await page.locator('main').textContent()).toContain('unknown or was already used');
    await context.close();
  });
});
