import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  startCandorWithPerson,
} from '../browser.ts';

const run = promisify(execFile);
const EDITOR = { email: 'ines@example.com', password: 'harbour lights in the morning' };

// A real server; an editor creates a gated document, uploads two versions through the file form, is refused a
// mislabelled file, and downloads the current version.
describe.skipIf(skipBrowserTests())('managing a gated document in Chromium', () => {
  let candor: RunningCandor;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'candor-documents-browser-'));
    browser = await launchBrowser();
    candor = await startCandorWithPerson({ ...EDITOR, role: 'content-editor' });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a document, uploads versions, refuses a mislabelled file and downloads the current one', async () => {
    const first = path.join(dir, 'soc2-2025.pdf');
    const second = path.join(dir, 'soc2-2026.pdf');
    const fake = path.join(dir, 'fake.pdf');
    writeFileSync(first, await composePages(2, 'SOC 2 report 2025'));
    writeFileSync(second, await composePages(3, 'SOC 2 report 2026'));
    writeFileSync(fake, 'MZ this is not a PDF');

    const { context, page, problems } = await openWatchedPage(browser);
    await signInInBrowser(page, candor.url, EDITOR);

    await page.getByRole('link', { name: 'Documents' }).click();
    await page.getByRole('link', { name: 'New document' }).first().click();
    await page.getByLabel('Title').fill('SOC 2 Type II report');
    await page.getByLabel('Description').fill('Our auditor’s report on our controls.');
    await page.getByLabel('NDA: after the requester signs the NDA').check();
    await page.getByRole('button', { name: 'Create document' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('Upload its file next');

    await page.getByLabel('File', { exact: true }).setInputFiles(first);
    await page.getByRole('button', { name: 'Upload new version' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('Version 1 is uploaded');
    await page.getByLabel('File', { exact: true }).setInputFiles(second);
    await page.getByLabel('What changed (optional)').fill('The 2026 period');
    await page.getByRole('button', { name: 'Upload new version' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('Version 2 is uploaded');

    await page.getByLabel('File', { exact: true }).setInputFiles(fake);
    await page.getByRole('button', { name: 'Upload new version' }).click();
    await expect.poll(() => page.locator('.form-errors').first().textContent()).toContain('its content is not a PDF');

    const rows = page.locator('table.table tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('soc2-2026.pdf');
    expect(await rows.first().textContent()).toContain('Current');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      rows.first().getByRole('link', { name: 'Download (recorded)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('soc2-2026.pdf');
    const saved = path.join(dir, 'downloaded.pdf');
    await download.saveAs(saved);
    expect((await run('pdftotext', [saved, '-'])).stdout).toContain('SOC 2 report 2026: section 3');

    expect(problems).toEqual([]);
    await context.close();
  });
});
