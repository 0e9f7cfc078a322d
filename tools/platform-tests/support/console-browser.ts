import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { OidcProviderDouble } from '@heroagent/doubles';
import { ensureChromium } from './chromium.js';
import { REPO_ROOT } from './platform.js';

/** Where the console tests leave their screenshots (git-ignored). */
export const ARTIFACTS = join(REPO_ROOT, 'artifacts', 'console');

/** One axe-core violation, as the tests report it. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Real Chromium (Debian's), headless, driven by playwright-core. */
export async function launchChromium(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** A person, signed in to the console through the OpenID Connect double (the gateway's OAuth flow). */
export async function signInToConsole(
  browser: Browser,
  origin: string,
  provider: OidcProviderDouble,
  person: { sub: string; email: string; name: string },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: origin, acceptDownloads: true });
  const page = await context.newPage();
  provider.nextUser(person);
  // Script errors and CSP violations, which a test asserts there are none of.
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text())) {
      errors.push(message.text());
    }
  });
  await page.goto('/');
  await page
    .getByRole('link', { name: /^Sign in with/ })
    .first()
    .click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
  return { context, page, errors };
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page (WCAG 2.1 A and AA rules) and returns the violations. It is evaluated
 * over the DevTools protocol, so the console's Content-Security-Policy stays on.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(`${await axeSource}; undefined`);
  // The function runs in the page (where `axe` and `document` exist), so it is passed as text.
  return page.evaluate<AxeViolation[]>(`(async () => {
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({ target: node.target })),
    }));
  })()`);
}

/** Saves a full-page screenshot under artifacts/console/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
