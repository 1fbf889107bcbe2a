import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOwnerInBrowser,
  launchBrowser,
  openWatchedPage,
  type RunningCandor,
  skipBrowserTests,
  startCandor,
} from '../browser.ts';
import { runCandor } from '../cli.ts';

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple' };
const LEAVER = { email: 'lee@example.com', password: 'a leaving passphrase long enough' };

async function signIn(page: Page, baseUrl: string, who: { email: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/admin/login`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${baseUrl}/admin`);
}

describe.skipIf(skipBrowserTests())('offboarding in Chromium: a deactivated person’s open session ends at once', () => {
  let candor: RunningCandor;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    candor = await startCandor();
  });

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('sends the person to the sign-in page on their next click after an admin deactivates them', async () => {
    const admin = await openWatchedPage(browser);
    await createOwnerInBrowser(admin.page, candor, OWNER);

    // The command line reaches the running server through its control socket.
    const created = await runCandor(
      [
        'user',
        'create',
        '--tenant',
        'default',
        '--email',
        LEAVER.email,
        '--name',
        'Lee Leaver',
        '--role',
        'responder',
        '--password-stdin',
      ],
      { CANDOR_DATA_DIR: candor.dataDir },
      `${LEAVER.password}\n`,
    );
    expect(created.code, created.stderr).toBe(0);

    const leaver = await openWatchedPage(browser);
    await signIn(leaver.page, candor.url, LEAVER);
    expect(await leaver.page.getByRole('link', { name: 'Audit trail' }).isVisible()).toBe(true);

    await admin.page.goto(`${candor.url}/admin/users`);
    await admin.page.getByRole('link', { name: 'Lee Leaver' }).click();
    admin.page.once('dialog', (dialog) => void dialog.accept());
    await admin.page.getByRole('button', { name: 'Deactivate' }).click();
    await expect.poll(() => admin.page.locator('.flash, [role="status"]').first().textContent()).toContain('is deactivated');
    expect(await admin.page.getByRole('heading', { name: 'Duties that need a new owner' }).isVisible()).toBe(true);

    await leaver.page.getByRole('link', { name: 'Audit trail' }).click();
    await leaver.page.waitForURL((url) => url.pathname === '/admin/login');
    expect(await leaver.page.getByRole('button', { name: 'Sign in', exact: true }).isVisible()).toBe(true);

    // Signing in again is refused like a wrong password.
    await leaver.page.getByLabel('Email').fill(LEAVER.email);
    await leaver.page.getByLabel('Password').fill(LEAVER.password);
    const [refused] = await Promise.all([
      leaver.page.waitForResponse((r) => new URL(r.url()).pathname === '/admin/login' && r.request().method() === 'POST'),
      leaver.page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    expect(refused.status()).toBe(401);
    expect(await leaver.page.getByText('do not match an account').count()).toBeGreaterThan(0);
    expect(new URL(leaver.page.url()).pathname).toBe('/admin/login');

    expect(admin.problems).toEqual([]);
    expect(leaver.problems).toEqual([]);
    await admin.context.close();
    await leaver.context.close();
  });
});
