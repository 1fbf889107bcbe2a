import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composePages } from '../../src/modules/documents/compose.ts';
import {
  launchBrowser,
  openWatchedPage,
  type RunningCandor,
  signInInBrowser,
  skipBrowserTests,
  startCandorWithPeople,
} from '../browser.ts';
import { type MailSink, startMailSink } from '../mail-sink.ts';

const run = promisify(execFile);
const EDITOR = { email: 'ines@example.com', password: 'harbour lights in the morning' };
const APPROVER = { email: 'omar@example.com', password: 'a kettle on the stove at dawn' };
const REQUESTER = 'grace@navy-labs.example';

// A real server mailing a real SMTP sink: a visitor requests the SOC 2 report, verifies, signs the NDA, an
// approver approves in a second context, and the download is stamped for the requester on every page.
describe.skipIf(skipBrowserTests())('requesting a gated document in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;
  let sink: MailSink;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'candor-request-browser-'));
    sink = await startMailSink();
    browser = await launchBrowser();
    candor = await startCandorWithPeople(
      [
        { ...EDITOR, role: 'content-editor' },
        { ...APPROVER, role: 'approver' },
      ],
      { SMTP_URL: sink.url },
    );
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('requests, verifies by mail, signs the NDA, is approved by an approver, downloads a stamped copy; then an automatic approval', async () => {
    const report = path.join(dir, 'soc2.pdf');
    writeFileSync(report, await composePages(3, 'SOC 2 report 2026'));

    // The editor publishes an approval-level document.
    const staff = await openWatchedPage(browser);
    await signInInBrowser(staff.page, candor.url, EDITOR);
    await staff.page.goto(`${candor.url}/admin/documents/new`);
    await staff.page.getByLabel('Title').fill('SOC 2 Type II report');
    await staff.page.getByLabel('Approval: after the NDA and an approver’s decision').check();
    await staff.page.getByRole('button', { name: 'Create document' }).click();
    await expect.poll(() => staff.page.locator('.flash').textContent()).toContain('Upload its file next');
    await staff.page.getByLabel('File', { exact: true }).setInputFiles(report);
    await staff.page.getByRole('button', { name: 'Upload new version' }).click();
    await expect.poll(() => staff.page.locator('.flash').textContent()).toContain('Version 1 is uploaded');

    // The visitor asks for it.
    const visitor = await browser.newContext({ acceptDownloads: true });
    const v = await visitor.newPage();
    await v.goto(`${candor.url}/documents`);
    await v.getByRole('link', { name: 'Request access' }).click();
    await v.getByLabel('Your name').fill('Grace Hopper');
    await v.getByLabel('Work email').fill(REQUESTER);
    await v.getByLabel('Company').fill('Navy Labs');
    await v.getByLabel('Why you need them').fill('Vendor security review');
    expect(await v.getByLabel(/SOC 2 Type II report/).isChecked()).toBe(true);
    await v.getByRole('button', { name: 'Send the request' }).click();
    await expect.poll(() => v.locator('h1').textContent()).toBe('Check your inbox');

    const verification = await sink.waitForMail((m) => m.envelope.to.includes(REQUESTER), 30_000);
    const verifyLink = /(http:\/\/\S+\/documents\/verify\/\S+)/.exec(verification.parsed.text)?.[1] ?? '';
    await v.goto(verifyLink);
    await v.getByRole('button', { name: 'Verify and continue' }).click();
    await expect.poll(() => v.locator('h1').textContent()).toBe('Non-disclosure agreement');
    await v.getByLabel('Type your full name to sign').fill('Grace Hopper');
    await v.getByLabel('I have read and agree to this non-disclosure agreement').check();
    await v.getByRole('button', { name: 'Sign the NDA' }).click();
    await expect.poll(() => v.locator('h1').textContent()).toBe('Request received');
    const signed = await sink.waitForMail(
      (m) => m.envelope.to.includes(REQUESTER) && m.parsed.subject.includes('signed NDA'),
      30_000,
    );
    expect(signed.parsed.attachments[0]?.contentType).toBe('application/pdf');

    // The approver, told by mail, approves in a context of their own.
    const notice = await sink.waitForMail((m) => m.envelope.to.includes(APPROVER.email), 30_000);
    const detail = /(http:\/\/\S+\/admin\/documents\/requests\/[0-9a-f-]+)/.exec(notice.parsed.text)?.[1] ?? '';
    const approverContext = await openWatchedPage(browser);
    await signInInBrowser(approverContext.page, candor.url, APPROVER);
    await approverContext.page.goto(detail);
    await approverContext.page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => approverContext.page.locator('.flash').textContent()).toContain('approved');
    // The grant's id opens its trace (the leak lookup).
    const grantLink = approverContext.page.locator('table a[href^="/admin/documents/trace?grant="]').first();
    const grantId = (await grantLink.textContent()) ?? '';
    expect(grantId).toMatch(/^[0-9a-f-]{36}$/);

    const granted = await sink.waitForMail(
      (m) => m.envelope.to.includes(REQUESTER) && m.parsed.subject.includes('Your documents'),
      30_000,
    );
    const accessLink = /(http:\/\/\S+\/documents\/access\/\S+)/.exec(granted.parsed.text)?.[1] ?? '';
    await v.goto(accessLink);
    const downloading = v.waitForEvent('download');
    await v.getByRole('link', { name: 'Download' }).click();
    const file = path.join(dir, 'downloaded.pdf');
    await (await downloading).saveAs(file);
    expect(readFileSync(file).subarray(0, 5).toString()).toBe('%PDF-');

    const pages = Number(/Pages:\s+(\d+)/.exec((await run('pdfinfo', [file])).stdout)?.[1]);
    expect(pages).toBeGreaterThan(1);
    for (let p = 1; p <= pages; p++) {
      const text = (await run('pdftotext', ['-f', String(p), '-l', String(p), file, '-'])).stdout.replace(/\s+/g, '');
      expect(text).toContain(REQUESTER);
      expect(text).toContain(grantId);
    }

    // The leak lookup: the downloaded copy, uploaded back, names its recipient and the download.
    await approverContext.page.goto(`${candor.url}/admin/documents/trace`);
    await approverContext.page.getByLabel('Or the leaked PDF').setInputFiles(file);
    await approverContext.page.getByRole('button', { name: 'Trace the file' }).click();
    await expect.poll(() => approverContext.page.locator('main').textContent()).toContain(REQUESTER);
    expect(await approverContext.page.locator('main').textContent()).toContain(grantId);

    expect(staff.problems).toEqual([]);
    expect(approverContext.problems).toEqual([]);
    await visitor.close();
    await approverContext.context.close();

    // Automatic approval: with the report at the NDA level, signing the NDA is enough.
    await staff.page.goto(`${candor.url}/admin/documents`);
    await staff.page.getByRole('link', { name: 'SOC 2 Type II report' }).click();
    await staff.page.getByLabel('NDA: after the requester signs the NDA').check();
    await staff.page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => staff.page.locator('.flash').textContent()).toContain('settings are saved');
    await staff.context.close();

    const second = await browser.newContext({ acceptDownloads: true });
    const s2 = await second.newPage();
    const other = 'ada@engines.example';
    await s2.goto(`${candor.url}/documents/request`);
    await s2.getByLabel('Your name').fill('Ada Lovelace');
    await s2.getByLabel('Work email').fill(other);
    await s2.getByLabel('Company').fill('Analytical Engines');
    await s2.getByLabel(/SOC 2 Type II report/).check();
    await s2.getByRole('button', { name: 'Send the request' }).click();
    const mail = await sink.waitForMail((m) => m.envelope.to.includes(other), 30_000);
    await s2.goto(/(http:\/\/\S+\/documents\/verify\/\S+)/.exec(mail.parsed.text)?.[1] ?? '');
    await s2.getByRole('button', { name: 'Verify and continue' }).click();
    await s2.getByLabel('Type your full name to sign').fill('Ada Lovelace');
    await s2.getByLabel('I have read and agree to this non-disclosure agreement').check();
    await s2.getByRole('button', { name: 'Sign the NDA' }).click();
    await expect.poll(() => s2.locator('h1').textContent()).toBe('Access granted');
    const link = await sink.waitForMail(
      (m) => m.envelope.to.includes(other) && m.parsed.subject.includes('Your documents'),
      30_000,
    );
    await s2.goto(/(http:\/\/\S+\/documents\/access\/\S+)/.exec(link.parsed.text)?.[1] ?? '');
    const next = s2.waitForEvent('download');
    await s2.getByRole('link', { name: 'Download' }).click();
    const copy = path.join(dir, 'automatic.pdf');
    await (await next).saveAs(copy);
    expect((await run('pdftotext', [copy, '-'])).stdout.replace(/\s+/g, '')).toContain(other);
    await second.close();
  });
});
