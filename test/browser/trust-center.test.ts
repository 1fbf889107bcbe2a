import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  openWatchedPage,
  type RunningCandor,
  signInInBrowser,
  skipBrowserTests,
  startCandorWithPerson,
} from '../browser.ts';

const EDITOR = { email: 'noor@example.com', password: 'lanterns over the quiet bay' };

// A real server; an editor changes the FAQ through the back office's forms, publishes it, and a visitor sees it.
describe.skipIf(skipBrowserTests())('publishing the FAQ in Chromium', () => {
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

  it('saves a draft the public cannot see, publishes it, and the public FAQ shows an expandable, linkable answer', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await signInInBrowser(page, candor.url, EDITOR);

    await page.goto(`${candor.url}/admin/trust-center`);
    await page.getByRole('link', { name: 'FAQ' }).first().click();
    await page.locator('#field-items-0-category').fill('Data protection');
    await page.locator('#field-items-0-question').fill('Where are backups kept?');
    await page.locator('#field-items-0-answer').fill('In **two** regions, encrypted.');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('draft is saved');

    const visitor = await browser.newContext();
    const publicPage = await visitor.newPage();
    expect((await publicPage.goto(`${candor.url}/faq`))?.status()).toBe(404);

    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('Published as version 1');

    await publicPage.goto(`${candor.url}/faq`);
    const question = publicPage.locator('details#where-are-backups-kept');
    await expect.poll(() => question.locator('summary').textContent()).toBe('Where are backups kept?');
    expect(await question.locator('strong').isVisible()).toBe(false);
    await question.locator('summary').click();
    expect(await question.locator('strong').textContent()).toBe('two');
    expect(await question.locator('strong').isVisible()).toBe(true);
    await publicPage.goto(`${candor.url}/faq#where-are-backups-kept`);
    expect(await publicPage.getByRole('link', { name: 'FAQ' }).getAttribute('aria-current')).toBe('page');

    expect(problems).toEqual([]);
    await visitor.close();
    await context.close();
  });
});
