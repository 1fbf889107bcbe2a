import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';

/**
 * A TOTP code from the OATH Toolkit (`oathtool`, Debian package oathtool), as an authenticator app would
 * show it: an independent implementation, so the browser tests check Candor against the RFC, not itself.
 * `stepsAhead` asks for a later code (a code's time step is accepted only once).
 */
export function oathtoolCode(secret: string, stepsAhead = 0): string {
  const at = Math.floor(Date.now() / 1000) + stepsAhead * 30;
  return execFileSync('/usr/bin/oathtool', ['--totp', '-b', '-N', `@${at}`, secret], { encoding: 'utf8' }).trim();
}

/** On the two-step sign-in page: sets up an authenticator app; returns its secret and the recovery codes shown. */
export async function enrolTotpInBrowser(page: Page): Promise<{ secret: string; recoveryCodes: string[] }> {
  await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
  await page.waitForURL(/\/admin\/account\/mfa\/totp$/);
  const secret = ((await page.locator('[data-totp-secret]').textContent()) ?? '').trim();
  await page.getByLabel('Code from your authenticator app').fill(oathtoolCode(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.getByRole('heading', { name: 'Ten recovery codes' }).waitFor();
  const recoveryCodes = (await page.locator('.recovery-codes code').allTextContents()).map((c) => c.trim());
  await page.getByRole('link', { name: 'I have saved them: continue' }).click();
  return { secret, recoveryCodes };
}
