import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  openWatchedPage,
  type RunningCandor,
  signInInBrowser,
  skipBrowserTests,
  startCandorWithPeople,
} from '../browser.ts';
import { type MailSink, startMailSink } from '../mail-sink.ts';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** WCAG 2.1 AA violations axe-core finds on the page (its id and the offending elements). */
async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }
    ).axe;
    return axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const EDITOR = { email: 'noor@example.com', password: 'lanterns over the quiet bay' };
const VISITOR = 'visitor@example.org';

async function publishUpdate(page: Page, url: string, row: number, update: { date: string; title: string; body: string }) {
  await page.goto(`${url}/admin/trust-center/updates`);
  await page.locator(`#field-items-${row}-date`).fill(update.date);
  await page.locator(`#field-items-${row}-title`).fill(update.title);
  await page.locator(`#field-items-${row}-body`).fill(update.body);
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect.poll(() => page.locator('.flash').textContent()).toContain('draft is saved');
  await page.getByRole('button', { name: 'Publish' }).click();
  await expect.poll(() => page.locator('.flash').textContent()).toContain('Published as version');
}

// A real server mailing a real SMTP sink: a visitor subscribes with double opt-in, an editor publishes, the
// notice arrives with RFC 8058 headers, and the one-click POST unsubscribes.
describe.skipIf(skipBrowserTests())('subscribing to updates in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;
  let sink: MailSink;

  beforeAll(async () => {
    sink = await startMailSink();
    browser = await launchBrowser();
    candor = await startCandorWithPeople([{ ...EDITOR, role: 'content-editor' }], { SMTP_URL: sink.url });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
    await sink?.close();
  });

  it('confirms by mail, notifies of a new update with List-Unsubscribe headers, and unsubscribes in one click', async () => {
    const { context, page, problems } = await openWatchedPage(browser);
    await signInInBrowser(page, candor.url, EDITOR);
    await publishUpdate(page, candor.url, 0, { date: '2026-11-01', title: 'Annual penetration test', body: 'Passed.' });

    const visitor = await browser.newContext({ javaScriptEnabled: false });
    const publicPage = await visitor.newPage();
    await publicPage.goto(`${candor.url}/updates`);
    await publicPage.getByLabel('Email address').fill(VISITOR);
    await publicPage.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => publicPage.locator('h1').textContent()).toBe('Check your inbox');

    const confirmation = await sink.waitForMail((m) => m.envelope.to.includes(VISITOR), 30_000);
    const link = /(http:\/\/\S+\/subscribe\/confirm\/\S+)/.exec(confirmation.parsed.text)?.[1] ?? '';
    expect(link.startsWith(candor.url)).toBe(true);
    await publicPage.goto(link);
    await publicPage.getByRole('button', { name: 'Confirm subscription' }).click();
    await expect.poll(() => publicPage.getByRole('status').textContent()).toContain('subscription is confirmed');

    await publishUpdate(page, candor.url, 1, { date: '2026-11-15', title: 'TLS 1.0 switched off', body: 'Only TLS 1.2+.' });
    const notice = await sink.waitForMail(
      (m) => m.envelope.to.includes(VISITOR) && m.parsed.subject.includes('TLS 1.0 switched off'),
      30_000,
    );
    expect(notice.parsed.subject).not.toContain('Annual penetration test');
    expect(notice.parsed.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    const unsubscribeUrl = /^<(https?:\/\/[^>]+)>/.exec(notice.parsed.headers.get('list-unsubscribe') ?? '')?.[1] ?? '';
    expect(unsubscribeUrl.startsWith(`${candor.url}/unsubscribe/`)).toBe(true);

    // What a mail provider does for RFC 8058: one POST, no page, no cookies.
    const oneClick = await fetch(unsubscribeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    await publicPage.goto(unsubscribeUrl);
    expect(await publicPage.getByRole('button', { name: 'Unsubscribe' }).isVisible()).toBe(true);

    // The new public forms pass axe's WCAG 2.1 AA rules (checked with scripts on and CSP bypassed for axe only).
    const checker = await browser.newContext({ bypassCSP: true });
    const checkPage = await checker.newPage();
    for (const path of ['/updates', '/subscribe', '/contact/message']) {
      await checkPage.goto(`${candor.url}${path}`);
      expect(await accessibilityViolations(checkPage), path).toEqual([]);
    }
    await checker.close();

    expect(problems).toEqual([]);
    await visitor.close();
    await context.close();
  });
});
