import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, type ConsoleMessage, chromium, type Page } from 'playwright-core';

/** Debian's Chromium: playwright's own downloads are not used, so CI and developers run the same binary. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether this file's browser tests should be skipped. They run once per test run (on the PGlite project
 * only), and are skipped loudly when Chromium is missing, unless CI demands them with CANDOR_REQUIRE_BROWSER=1:
 * then they run and fail in launchBrowser, so a broken CI image cannot pass by skipping.
 */
export function skipBrowserTests(): boolean {
  if (process.env.CANDOR_TEST_ENGINE !== 'pglite') return true;
  if (existsSync(CHROMIUM_PATH) || process.env.CANDOR_REQUIRE_BROWSER === '1') return false;
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      `!! BROWSER TESTS SKIPPED: ${CHROMIUM_PATH} is not installed.`,
      '!! Install it with `apt-get install chromium`; CI sets CANDOR_REQUIRE_BROWSER=1 so they cannot be skipped there.',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '',
    ].join('\n'),
  );
  return true;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`CANDOR_REQUIRE_BROWSER=1 but ${CHROMIUM_PATH} is missing: install Debian's chromium package`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations seen so far, across navigations. */
  problems: string[];
}

/**
 * Reports CSP violations through the console, where they are collected with other errors. Init scripts are
 * injected by the browser itself, so the page's CSP (script-src 'self') does not block this one.
 */
const REPORT_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
});`;

/** A page in its own context (its own cookies) that records everything that should never happen. */
export async function openWatchedPage(browser: Browser): Promise<WatchedPage & { context: BrowserContext }> {
  const context = await browser.newContext();
  await context.addInitScript(REPORT_CSP_VIOLATIONS);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error' || isOwnDocumentStatus(message, page)) return;
    problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught exception on ${page.url()}: ${error.message}`));
  return { context, page, problems };
}

/**
 * Chromium logs a 4xx/5xx document as "Failed to load resource". Tests assert the status of the pages they open
 * (a used setup link is meant to be 410), so only failures of the page's subresources count as problems.
 */
function isOwnDocumentStatus(message: ConsoleMessage, page: Page): boolean {
  return message.text().startsWith('Failed to load resource') && message.location().url === page.url();
}

import { type RunningCandor, runCandor, startCandor, tempDataDir } from './cli.ts';
import { enrolTotpInBrowser } from './totp.ts';

export { type RunningCandor, sleep, startCandor } from './cli.ts';

export interface Person {
  email: string;
  password: string;
  role: string;
}

/**
 * A server on a fresh data directory that already has these people: the first start creates the workspace,
 * each person is added offline with `candor user create`, then the server starts again (with `env`).
 */
export async function startCandorWithPeople(people: Person[], env: Record<string, string> = {}): Promise<RunningCandor> {
  const dataDir = tempDataDir();
  await (await startCandor({ dataDir })).stop();
  for (const person of people) {
    const created = await runCandor(
      ['user', 'create', '--tenant', 'default', '--email', person.email, '--role', person.role, '--password-stdin'],
      { CANDOR_DATA_DIR: dataDir },
      person.password,
    );
    if (created.code !== 0) throw new Error(`user create failed: ${created.stderr}`);
  }
  return startCandor({ dataDir, env });
}

export function startCandorWithPerson(person: Person): Promise<RunningCandor> {
  return startCandorWithPeople([person]);
}

/** Signs a person in at /admin/login; one whose role needs a second factor enrols an authenticator app first. */
export async function signInInBrowser(page: Page, url: string, person: { email: string; password: string }): Promise<void> {
  await page.goto(`${url}/admin/login`);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/admin/);
  if (page.url().includes('/admin/account/mfa')) await enrolTotpInBrowser(page);
}

/**
 * Spends the setup link in `page`: creates the owner and, as the default MFA policy asks of owners, enrols an
 * authenticator app; leaves the page on the dashboard.
 */
export async function createOwnerInBrowser(
  page: Page,
  candor: RunningCandor,
  owner: { name: string; email: string; password: string },
): Promise<void> {
  await page.goto(candor.setupLink());
  await page.getByLabel('Your name').fill(owner.name);
  await page.getByLabel('Work email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Create owner and sign in' }).click();
  await page.waitForURL(`${candor.url}/admin/account/mfa?required=1`);
  await enrolTotpInBrowser(page);
  await page.waitForURL(`${candor.url}/admin`);
}
