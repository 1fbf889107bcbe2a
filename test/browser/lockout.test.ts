import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openWatchedPage, type RunningCandor, skipBrowserTests, startCandorWithPerson } from '../browser.ts';

const PERSON = { email: 'lin@example.com', password: 'a quiet harbour at dawn' };
const LOCKOUT = /Too many failed sign-ins\. Try again in (\d+) (second|seconds|minute|minutes)/;

// A real server on a data directory that has one person; wrong passwords are typed into the real form.
describe.skipIf(skipBrowserTests())('sign-in lockout in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    candor = await startCandorWithPerson({ ...PERSON, role: 'employee' });
    // Two starts and a command: more than the default hook time on a busy machine.
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('shows the wait after repeated failures, and refuses even the right password until it is over', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await page.goto(`${candor.url}/admin/login`);
    let message = '';
    let waitSeconds = 0;
    // The first failures are free; each later one doubles the wait. Go on until the wait is long enough to
    // try the right password inside it, however slow this machine is.
    for (let attempt = 1; attempt <= 16 && waitSeconds < 8; attempt++) {
      await page.getByLabel('Email').fill(PERSON.email);
      await page.getByLabel('Password').fill(`wrong guess number ${attempt}`);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().includes('/admin/login') && r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Sign in', exact: true }).click(),
      ]);
      message = (await page.locator('form').first().textContent()) ?? '';
      const match = LOCKOUT.exec(message);
      if (match) {
        expect(response.status()).toBe(429);
        expect(Number(response.headers()['retry-after'])).toBeGreaterThan(0);
        const amount = Number(match[1]);
        waitSeconds = match[2]?.startsWith('minute') ? amount * 60 : amount;
        // Tries during a wait do not count: sit a short wait out, so the next failure earns a longer one.
        if (waitSeconds < 8) await page.waitForTimeout((waitSeconds + 0.5) * 1000);
      } else {
        expect(response.status()).toBe(401);
        expect(message).toContain('do not match an account');
      }
    }
    expect(message).toMatch(LOCKOUT);
    // The typed email stays, so the person need not type it again after the wait.
    expect(await page.getByLabel('Email').inputValue()).toBe(PERSON.email);

    await page.getByLabel('Password').fill(PERSON.password);
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/admin/login') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    expect(refused.status()).toBe(429);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect(await page.locator('form').first().textContent()).toMatch(LOCKOUT);
    expect(problems).toEqual([]);
    await context.close();
  });
});
