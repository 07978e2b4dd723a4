/**
 * `simulate --report FILE.html` opened in a real browser (headless Chromium):
 * no console error, nothing fetched, the numbers shown are those of
 * `--json` for the same run, and a 100,000-node report stays small and opens
 * fast. Screenshots (phone and wide) go to the OS temp folder; their paths
 * are printed.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, launchChromium, type Browser } from './support/browser.js';
import { buildCli, runCompiled } from './cli-harness.js';

if (CHROMIUM_MISSING !== null) console.warn(`report-browser.test.ts ${CHROMIUM_MISSING}`);

const SHOTS = mkdtempSync(join(tmpdir(), 'fleet-rollout-report-shots-'));
const VIEWPORTS = { phone: { width: 390, height: 844 }, wide: { width: 1440, height: 900 } } as const;
const MAX_REPORT_BYTES = 5 * 1024 * 1024;
const MAX_OPEN_MS = 2000;

describe.skipIf(CHROMIUM_MISSING !== null)('§8 simulate --report in Chromium', () => {
  let main: string;
  let browser: Browser;
  const out = mkdtempSync(join(tmpdir(), 'fleet-rollout-report-'));

  beforeAll(async () => {
    main = buildCli('report-browser');
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Runs `simulate ... --json --report`: the JSON and the report of one and the same run. */
  const simulate = (scenario: string, name: string, extra: string[] = []): { json: Record<string, any>; file: string } => {
    const file = join(out, `${name}.html`);
    const run = runCompiled(main, ['simulate', scenario, '--json', '--report', file, ...extra]);
    expect(run.status, run.stderr).toBe(0);
    return { json: JSON.parse(run.stdout), file };
  };

  /** Opens the report; fails on any console error, page error or request beyond the file itself. */
  const open = async (file: string, viewport: { width: number; height: number }): Promise<{ page: Page; problems: string[]; openMs: number }> => {
    const page = await browser.context.newPage();
    await page.setViewportSize(viewport);
    const url = pathToFileURL(file).href;
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (request.url() !== url) problems.push(`request: ${request.url()}`);
    });
    const started = performance.now();
    await page.goto(url, { waitUntil: 'load' });
    await page.evaluate('document.body.getBoundingClientRect().height'); // layout done (the page's code is a string: no DOM types here)
    return { page, problems, openMs: performance.now() - started };
  };

  const screenshots = async (file: string, name: string): Promise<void> => {
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      const { page, problems } = await open(file, viewport);
      const path = join(SHOTS, `${name}-${size}.png`);
      await page.screenshot({ path, fullPage: true });
      // Nothing sticks out sideways on a phone: the page scrolls down, never across.
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, `${name} at ${size}`).toBeLessThanOrEqual(0);
      expect(problems).toEqual([]);
      await page.close();
      console.log(`report screenshot (${name}, ${size}): ${path}`);
    }
  };

  /** Every `data-field` of the section, with its value and the text shown. */
  const figures = (page: Page, section: string) =>
    page.$$eval(`${section} [data-field]`, (nodes) => nodes.map((node) => ({ field: node.getAttribute('data-field')!, value: node.getAttribute('data-value'), text: node.textContent ?? '' })));

  const shownCount = (text: string): number => Number(text.replace(/,/g, ''));

  it('§8 one run: the figures, the per-state table and the label tables match --json; no console error, no request', async () => {
    const { json, file } = simulate('simulations/bad-version-rollback.yaml', 'bad-version-rollback');
    expect(json.outcome).toBe('rolled_back'); // the run has every kind of bucket to show
    const { page, problems } = await open(file, VIEWPORTS.wide);
    expect(problems).toEqual([]);

    const shown = await figures(page, '#outcome');
    expect(shown.map((f) => f.field).sort()).toEqual(
      ['outcome', 'duration_s', 'targeted', 'exposed', 'stable', 'failed', 'reverted', 'revert_failed', 'untouched', 'max_in_flight', 'time_to_detect_s', 'time_to_rollback_s'].sort(),
    );
    for (const { field, value, text } of shown) {
      expect(value, field).toBe(String(json[field]));
      if (typeof json[field] === 'number' && !field.endsWith('_s')) expect(shownCount(text), field).toBe(json[field]);
    }
    expect(await page.textContent('#outcome')).toContain(json.reason);

    const entered = Object.fromEntries(await page.$$eval('table.legend tr[data-bucket]', (rows) => rows.map((row) => [row.getAttribute('data-bucket'), Number(row.querySelector('[data-entered]')!.getAttribute('data-entered'))])));
    expect(entered).toEqual({ updating: json.exposed, stable: json.stable, failed: json.failed, reverting: json.reverted + json.revert_failed, reverted: json.reverted, revert_failed: json.revert_failed });

    // Each label key splits the same failed nodes: its rows add up to the run's count.
    const failedByKey = await page.$$eval('table.labels', (tables) => tables.map((table) => [...table.querySelectorAll('[data-failed]')].reduce((sum, cell) => sum + Number(cell.getAttribute('data-failed')), 0)));
    expect(failedByKey.length).toBe(3); // env, region, role
    for (const failed of failedByKey) expect(failed).toBe(json.failed);

    const phases = await page.$$eval('table.phases tbody th', (cells) => cells.map((cell) => cell.textContent!.trim()));
    expect(phases).toEqual(['rolling out', 'rolling back']);
    expect(await page.$$eval('.bands .band', (bands) => bands.map((band) => band.textContent))).toEqual(['rolling out', 'rolling back']);
    await page.close();
    await screenshots(file, 'bad-version-rollback');
  }, 120_000);

  it('§8 --runs: outcomes, percentiles and histograms match the aggregate of --json', async () => {
    const { json, file } = simulate('simulations/canary-production.yaml', 'canary-runs', ['--runs', '60']);
    const { page, problems } = await open(file, VIEWPORTS.wide);
    expect(problems).toEqual([]);
    const shown = await figures(page, '#monte-carlo');
    const value = (field: string): string | null => shown.find((f) => f.field === field)?.value ?? null;
    expect(value('runs')).toBe(String(json.runs));
    expect(value('rollback_rate')).toBe(String(json.rollback_rate));
    for (const stat of ['p50', 'p90', 'p99', 'mean', 'max']) {
      expect(value(`duration_s.${stat}`), stat).toBe(String(json.duration_s[stat]));
      expect(value(`exposed.${stat}`), stat).toBe(String(json.exposed[stat]));
    }
    const outcomes = Object.fromEntries(await page.$$eval('table.outcomes tr[data-outcome]', (rows) => rows.map((row) => [row.getAttribute('data-outcome'), Number(row.querySelector('[data-runs]')!.getAttribute('data-runs'))])));
    expect(outcomes).toEqual(json.outcomes);
    const histogramRuns = await page.$$eval('table.histogram', (tables) => tables.map((table) => [...table.querySelectorAll('[data-runs]')].reduce((sum, cell) => sum + Number(cell.getAttribute('data-runs')), 0)));
    expect(histogramRuns).toEqual([json.runs, json.runs]);
    await page.close();
    await screenshots(file, 'canary-runs');
  }, 120_000);

  it(`§8 a 100,000-node rollout: the report is under 5 MB and opens in under ${MAX_OPEN_MS} ms`, async () => {
    const { json, file } = simulate('test/fixtures/report/canary-100k.yaml', 'canary-100k');
    expect(json.exposed).toBe(100_000);
    const bytes = statSync(file).size;
    expect(bytes).toBeLessThan(MAX_REPORT_BYTES);
    const { page, problems, openMs } = await open(file, VIEWPORTS.wide);
    expect(problems).toEqual([]);
    const navigation = await page.evaluate<number>("performance.getEntriesByType('navigation')[0].loadEventEnd");
    console.log(`100,000-node report: ${(bytes / 1024).toFixed(1)} KiB, opened in ${openMs.toFixed(0)} ms (goto to layout; the page's own load event at ${navigation.toFixed(0)} ms): ${file}`);
    expect(openMs).toBeLessThan(MAX_OPEN_MS);
    const stable = await page.getAttribute('#outcome [data-field="stable"]', 'data-value');
    expect(stable).toBe(String(json.stable));
    await page.close();
    await screenshots(file, 'canary-100k');
  }, 180_000);
});
