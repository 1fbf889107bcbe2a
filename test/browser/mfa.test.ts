import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openWatchedPage, type RunningCandor, skipBrowserTests, startCandor } from '../browser.ts';
import { enrolTotpInBrowser, oathtoolCode } from '../totp.ts';

const OWNER = { name: 'Grace Hopper', email: 'grace@example.com', password: 'correct horse battery staple' };

/** Chromium's virtual authenticator (CDP): a platform passkey with user verification, as a laptop has. */
async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
}

async function signInWithPassword(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/admin/login`);
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function expectDashboard(page: Page, baseUrl: string): Promise<void> {
  await page.waitForURL(`${baseUrl}/admin`);
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toMatch(/^Welcome to/);
}

// One data directory, in order: the owner enrols an authenticator app (the policy requires it), signs in with a
// code and with a recovery code, registers a passkey, and signs in with the passkey alone.
describe.skipIf(skipBrowserTests())('two-step sign-in in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;
  let secret: string;
  let recoveryCodes: string[];

  beforeAll(async () => {
    browser = await launchBrowser();
    candor = await startCandor();
  });

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('leads a new owner to set up an authenticator app, with a QR code, before anything else', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await page.goto(candor.setupLink());
    await page.getByLabel('Your name').fill(OWNER.name);
    await page.getByLabel('Work email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create owner and sign in' }).click();
    await page.waitForURL(`${candor.url}/admin/account/mfa?required=1`);
    await page.goto(`${candor.url}/admin/users`);
    expect(new URL(page.url()).pathname).toBe('/admin/account/mfa');
    await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
    expect(await page.locator('.qr svg').count()).toBe(1);
    expect((await page.locator('.qr svg').boundingBox())?.width).toBeGreaterThan(100);
    await page.goBack();
    ({ secret, recoveryCodes } = await enrolTotpInBrowser(page));
    expect(recoveryCodes).toHaveLength(10);
    await expectDashboard(page, candor.url);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('asks for the code after the password; a wrong code is refused, the app’s code lets the owner in', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await signInWithPassword(page, candor.url);
    await page.waitForURL(/\/admin\/mfa\/challenge/);
    const code = page.getByLabel('Code from your authenticator app');
    expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
    await code.fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('.form-errors').waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/mfa/challenge');
    await page.getByLabel('Code from your authenticator app').fill(oathtoolCode(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectDashboard(page, candor.url);
    expect(problems.filter((p) => !p.includes('422'))).toEqual([]);
    await context.close();
  });

  it('lets the owner in with a recovery code once and says how many are left', async () => {
    const { context, page } = await openWatchedPage(browser);
    await signInWithPassword(page, candor.url);
    await page.waitForURL(/\/admin\/mfa\/challenge/);
    await page.getByText('Use a recovery code').click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0] ?? '');
    await page.getByRole('button', { name: 'Use recovery code' }).click();
    await expectDashboard(page, candor.url);
    expect(await page.locator('main').textContent()).toContain('9 of 10 left');
    await context.close();
  });

  it('registers a passkey and signs in with it alone, no password', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await addVirtualAuthenticator(context, page);
    await signInWithPassword(page, candor.url);
    await page.waitForURL(/\/admin\/mfa\/challenge/);
    // The app's next code was spent a moment ago (a time step works once): a recovery code this time.
    await page.getByText('Use a recovery code').click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[1] ?? '');
    await page.getByRole('button', { name: 'Use recovery code' }).click();
    await expectDashboard(page, candor.url);

    await page.goto(`${candor.url}/admin/account/mfa`);
    await page.getByLabel('Name for the new passkey').fill('Virtual laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Virtual laptop').first().waitFor();
    expect(await page.locator('.passkeys li').count()).toBe(1);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${candor.url}/admin/login`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectDashboard(page, candor.url);
    // The passkey was both factors: the back office opens with no challenge.
    await page.goto(`${candor.url}/admin/users`);
    expect(new URL(page.url()).pathname).toBe('/admin/users');
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
