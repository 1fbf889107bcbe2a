import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type RunningCandor, skipBrowserTests, startCandor } from '../browser.ts';

// axe-core from npm, injected into each page: WCAG 2.0/2.1 A and AA rules.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

type AxeWindow = { axe: { run(ctx: Document, opts: object): Promise<{ violations: Violation[] }> } };

async function runAxe(page: Page, options: object): Promise<string[]> {
  const found = await page.evaluate(async (opts) => {
    const result = await (window as unknown as AxeWindow).axe.run(document, { ...opts, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  }, options);
  return found.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/**
 * axe cannot judge text over a gradient (the hero, scrolling tables) and leaves it "incomplete". To judge it
 * anyway, each gradient is replaced by one of its opaque colours at a time (the hero's strongest tint, then
 * the next) and colour contrast is checked again. Translucent stops (scroll shadows) are left out.
 */
async function gradientPasses(page: Page): Promise<number> {
  return page.evaluate(() => {
    const opaque = (color: string) => !/rgba\(.*,\s*0?\.\d+\)|rgba\(.*,\s*0\)|\/\s*0?\.\d+\)/.test(color);
    const layered: { element: HTMLElement; stops: string[] }[] = [];
    for (const element of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
      const image = getComputedStyle(element).backgroundImage;
      if (!image.includes('gradient')) continue;
      const stops = (image.match(/rgba?\([^)]*\)|color\([^)]*\)/g) ?? []).filter(opaque);
      if (stops.length > 0) layered.push({ element, stops });
    }
    (window as unknown as { gradientLayers: typeof layered }).gradientLayers = layered;
    return Math.max(0, ...layered.map((l) => l.stops.length));
  });
}

async function flattenGradients(page: Page, pass: number): Promise<void> {
  await page.evaluate((k) => {
    const layered = (window as unknown as { gradientLayers: { element: HTMLElement; stops: string[] }[] }).gradientLayers;
    for (const { element, stops } of layered) {
      // CSSOM changes are not inline markup: the page's CSP allows them.
      element.style.setProperty('background-image', 'none', 'important');
      element.style.setProperty('background-color', stops[Math.min(k, stops.length - 1)] ?? '', 'important');
    }
  }, pass);
}

async function violationsOn(page: Page): Promise<string[]> {
  // Closed answers are checked too.
  await page.evaluate(() => {
    for (const details of Array.from(document.querySelectorAll('details'))) details.open = true;
  });
  // Evaluated as a function body: the page's CSP (script-src 'self') would refuse an injected <script>.
  await page.evaluate(AXE_SOURCE);
  const found = await runAxe(page, { runOnly: { type: 'tag', values: WCAG_AA } });
  const passes = await gradientPasses(page);
  for (let pass = 0; pass < passes; pass++) {
    await flattenGradients(page, pass);
    for (const line of await runAxe(page, { runOnly: { type: 'rule', values: ['color-contrast'] } })) {
      found.push(`${line} [over gradient colour ${pass + 1}]`);
    }
  }
  return found;
}

/** Every page the sitemap lists (so a new public page is checked the day it appears), plus /contact. */
async function publicPages(candor: RunningCandor): Promise<string[]> {
  const sitemap = await (await fetch(`${candor.url}/sitemap.xml`)).text();
  const paths = [...sitemap.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => new URL(m[1] ?? '').pathname);
  return [...new Set([...paths, '/contact'])];
}

describe.skipIf(skipBrowserTests())('accessibility of the public Trust Center (axe-core, WCAG 2.1 AA)', () => {
  let candor: RunningCandor;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    candor = await startCandor({ args: ['--demo'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await candor?.stop();
  });

  it('finds no violation on any public page of the demo tenant, in light and dark', { timeout: 180_000 }, async () => {
    const pages = await publicPages(candor);
    // The demo fills every section: the list must reach the policies, not stop at the overview.
    expect(pages).toEqual(expect.arrayContaining(['/', '/faq', '/contact', '/policies']));
    expect(pages.some((p) => p.startsWith('/policies/'))).toBe(true);
    const report: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ colorScheme });
      const page = await context.newPage();
      for (const path of pages) {
        const response = await page.goto(`${candor.url}${path}`);
        expect(response?.status(), path).toBe(200);
        for (const line of await violationsOn(page)) report.push(`${colorScheme} ${path}: ${line}`);
      }
      await context.close();
    }
    expect(report).toEqual([]);
  });
});
