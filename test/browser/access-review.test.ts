import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openWatchedPage, type RunningCandor, skipBrowserTests, startCandor } from '../browser.ts';
import { runCandor } from '../cli.ts';
import { enrolTotpInBrowser } from '../totp.ts';

const PASSWORD = 'a browser test passphrase';
const REVIEWER = { email: 'rita@example.com', name: 'Rita Reviewer', role: 'owner' };
const SUBJECT = { email: 'sam@example.com', name: 'Sam Subject', role: 'auditor' };

async function signIn(page: Page, baseUrl: string, email: string): Promise<void> {
  await page.goto(`${baseUrl}/admin/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/admin(\/account\/mfa\?required=1)?$/);
  // Owners must use two-step sign-in (the default policy): set it up at the first sign-in.
  if (page.url().includes('/account/mfa')) {
    await enrolTotpInBrowser(page);
    await page.waitForURL(`${baseUrl}/admin`);
  }
}

describe.skipIf(skipBrowserTests())('an access review in Chromium: a reviewer revokes a grant from the campaign page', () => {
  let candor: RunningCandor;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    candor = await startCandor({ startTimeoutMs: 180_000 });
    for (const person of [REVIEWER, SUBJECT]) {
      // Through the running server's control socket, as an operator would.
      const created = await runCandor(
        [
          'user',
          'create',
          '--tenant',
          'default',
          '--email',
          person.email,
          '--name',
          person.name,
          '--role',
          person.role,
          '--password-stdin',
        ],
        { CANDOR_DATA_DIR: candor.dataDir },
        `${PASSWORD}\n`,
      );
      expect(created.code, created.stderr).toBe(0);
    }
    // Two CPUs shared by several suites: starting the server and two commands can take a while.
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('starts a campaign, revokes the subject’s role, and the subject’s next page load lacks it', async () => {
    const subject = await openWatchedPage(browser);
    await signIn(subject.page, candor.url, SUBJECT.email);
    expect((await subject.page.goto(`${candor.url}/admin/audit`))?.status()).toBe(200);

    const reviewer = await openWatchedPage(browser);
    const { page } = reviewer;
    await signIn(page, candor.url, REVIEWER.email);
    await page.getByRole('link', { name: 'Access reviews' }).click();
    await page.getByLabel('Name').fill('Spring review');
    await page.getByRole('button', { name: 'Start the campaign' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Spring review');

    // The reviewer's own grant is not theirs to decide: flagged, with no buttons on its row.
    const ownRow = page.locator('tbody tr').filter({ has: page.locator('td:first-child', { hasText: REVIEWER.email }) });
    expect(await ownRow.textContent()).toContain('no reviewer');
    expect(await ownRow.getByRole('button', { name: 'Revoke' }).count()).toBe(0);

    const row = page.locator('tr', { hasText: SUBJECT.email });
    await row.getByPlaceholder('Note (optional)').fill('no longer audits');
    page.once('dialog', (dialog) => {
      expect(dialog.message()).toContain(`Revoke the role “Auditor” from ${SUBJECT.email}?`);
      void dialog.accept();
    });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('no longer applies from their next request');
    const decided = page.locator('tr', { hasText: SUBJECT.email });
    expect(await decided.textContent()).toContain('revoked');
    expect(await decided.textContent()).toContain('no longer audits');
    expect(await decided.getByRole('button', { name: 'Revoke' }).count()).toBe(0);

    // The subject's session is still open, but the role is gone from their very next request.
    expect((await subject.page.goto(`${candor.url}/admin/audit`))?.status()).toBe(403);

    expect(reviewer.problems).toEqual([]);
    expect(subject.problems.filter((p) => !p.includes('403'))).toEqual([]);
    await reviewer.context.close();
    await subject.context.close();
  }, 120_000);
});
