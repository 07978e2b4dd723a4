/**
 * Headless Chromium for the report's test and bench case: Debian's `chromium`
 * package driven by playwright-core (no browser download), with a fresh
 * profile per launch. It lives here, in the compiled bench, because `npm run
 * bench -- report` needs it too; the tests import it through
 * test/support/browser.ts. The flags suit a root user without network.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_MISSING = existsSync(CHROMIUM) ? null : `skipped: no Chromium at ${CHROMIUM}; install it with \`apt-get install -y chromium\` (Debian) or set CHROMIUM_PATH`;

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  close: () => Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'fleet-rollout-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, offline: true });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
