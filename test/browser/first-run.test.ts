import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openWatchedPage, type RunningCandor, skipBrowserTests, startCandor } from '../browser.ts';
import { enrolTotpInBrowser, oathtoolCode } from '../totp.ts';

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple' };

async function fillSetupForm(page: Page, fields: { name: string; email: string; password: string }): Promise<void> {
  await page.getByLabel('Your name').fill(fields.name);
  await page.getByLabel('Work email').fill(fields.email);
  await page.getByLabel('Password').fill(fields.password);
}

async function expectDashboard(page: Page, baseUrl: string): Promise<void> {
  await page.waitForURL(`${baseUrl}/admin`);
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Welcome to Your Company');
}

// One fresh data directory, walked through in order: the link is tried with a bad password while it is
// still unused, then spent on the owner, then shown as spent.
describe.skipIf(skipBrowserTests())('first run in Chromium: the setup link creates the owner', () => {
  let candor: RunningCandor;
  let browser: Browser;
  let setupLink: string;

  beforeAll(async () => {
    // One after the other: if either fails, afterAll must still find and stop the one that started.
    browser = await launchBrowser();
    candor = await startCandor();
    setupLink = candor.setupLink();
  });

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('flags a too-short password beside the field and keeps the typed name and email', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await page.goto(setupLink);
    await fillSetupForm(page, { ...OWNER, password: 'too short' });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === setupLink && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create owner and sign in' }).click(),
    ]);
    expect(response.status()).toBe(422);
    const password = page.getByLabel('Password');
    await page.locator('#field-password-error').waitFor();
    expect(await password.getAttribute('aria-invalid')).toBe('true');
    expect(await password.getAttribute('aria-describedby')).toContain('field-password-error');
    expect(await page.locator('#field-password-error').textContent()).toMatch(/12/);
    expect(await password.inputValue()).toBe(''); // a password is never echoed back into the page
    expect(await page.getByLabel('Your name').inputValue()).toBe(OWNER.name);
    expect(await page.getByLabel('Work email').inputValue()).toBe(OWNER.email);
    expect(await page.getByLabel('Your name').getAttribute('aria-invalid')).toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('creates the owner, lands on the dashboard, and signs back in after signing out', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await page.goto(setupLink);
    await fillSetupForm(page, OWNER);
    await page.getByRole('button', { name: 'Create owner and sign in' }).click();
    // Owners must use two-step sign-in (the default policy): the new owner sets it up first.
    await page.waitForURL(`${candor.url}/admin/account/mfa?required=1`);
    const { secret } = await enrolTotpInBrowser(page);
    await expectDashboard(page, candor.url);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${candor.url}/admin/login`);
    await page.goto(`${candor.url}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login'); // the session really ended

    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/admin\/mfa\/challenge/);
    // The enrolment code's time step is spent: the app's next code is the one that works now.
    await page.getByLabel('Code from your authenticator app').fill(oathtoolCode(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectDashboard(page, candor.url);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a spent setup link as already used, without the form', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    const response = await page.goto(setupLink);
    expect(response?.status()).toBe(410);
    expect(await page.locator('main').textContent()).toMatch(/already been used/);
    expect(await page.locator('form').count()).toBe(0);
    expect(await page.locator('input[type="password"]').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});
