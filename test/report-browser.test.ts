/**
 * `simulate --report FILE.html` (and `compare --report`, `tune --report`)
 * opened in a real browser (headless Chromium): no console error, nothing
 * fetched, the numbers shown are those of `--json` for the same run, nothing
 * wider than a phone's screen (no table scrolls sideways), and a
 * 100,000-node report stays small and opens fast. Screenshots (phone and
 * wide) go to the OS temp folder; their paths are printed.
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

/** Tables wider than the screen, or any box that scrolls sideways: what a reader on a phone would have to pan. */
const SIDEWAYS = `[...document.querySelectorAll('body *')].filter((el) => {
  const box = el.getBoundingClientRect();
  const scrolls = ['auto', 'scroll'].includes(getComputedStyle(el).overflowX) && el.scrollWidth > el.clientWidth + 1;
  return scrolls || (el.tagName === 'TABLE' && box.right > document.documentElement.clientWidth + 1);
}).map((el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '') + (el.getAttribute('data-label') ? '[' + el.getAttribute('data-label') + ']' : ''))`;

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

  /** Runs `COMMAND ... --json --report`: the JSON and the report of one and the same run. */
  const withReport = (command: string[], name: string): { json: Record<string, any>; file: string } => {
    const file = join(out, `${name}.html`);
    const run = runCompiled(main, [...command, '--json', '--report', file]);
    expect(run.status, run.stderr).toBe(0);
    return { json: JSON.parse(run.stdout), file };
  };
  const simulate = (scenario: string, name: string, extra: string[] = []) => withReport(['simulate', scenario, ...extra], name);

  /** A policy table's rows by `data-key`: each cell's `data-value` (null for –) and whether it is marked best. */
  type ShownCell = { value: string | null; best: boolean };
  const tableCells = (page: Page, table: string): Promise<Record<string, ShownCell[]>> =>
    page.$$eval(`table[data-table="${table}"] tbody tr`, (rows) =>
      Object.fromEntries(rows.map((row) => [row.getAttribute('data-key') ?? '', [...row.querySelectorAll('td')].map((td) => ({ value: td.getAttribute('data-value'), best: td.querySelector('.best') !== null }))])),
    );

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
      expect(await page.evaluate<string[]>(SIDEWAYS), `${name} at ${size}: scrolls sideways`).toEqual([]);
      expect(await page.$$eval('table', (tables) => tables.length), name).toBeGreaterThan(0);
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

  it('§8 compare --report: every metric of every policy, the best marks and the outcomes match --json', async () => {
    const policies = ['simulations/policies/canary-1pct-window-48.yaml', 'simulations/policies/rolling-window-50.yaml', 'simulations/policies/canary-5pct-window-100.yaml'];
    const { json, file } = withReport(['compare', 'simulations/choose-canary.yaml', ...policies.flatMap((policy) => ['--policy', policy]), '--runs', '20'], 'compare');
    const { page, problems } = await open(file, VIEWPORTS.wide);
    expect(problems).toEqual([]);
    const columns = await page.$$eval('table[data-table="compare"] thead th', (cells) => cells.slice(1).map((cell) => cell.textContent));
    expect(columns).toEqual(json.policies.map((policy: { label: string; strategy: string }) => `${policy.label} (${policy.strategy})`));
    const cells = await tableCells(page, 'compare');
    const releases = Object.keys(json.policies[0].outcomes);
    expect(Object.keys(cells)).toEqual([...json.rows.map((row: { metric: string }) => row.metric), ...releases.map((release) => `outcomes.${release}`)]);
    for (const row of json.rows as Array<{ metric: string; values: Array<{ value: number } | null>; best: number[] }>) {
      expect(cells[row.metric], row.metric).toEqual(row.values.map((cell, index) => ({ value: cell === null ? null : String(cell.value), best: row.best.includes(index) })));
    }
    expect(json.rows.some((row: { best: number[] }) => row.best.length > 0)).toBe(true); // the marks are exercised
    for (const release of releases) {
      expect(cells[`outcomes.${release}`]!.map((cell) => JSON.parse(cell.value!))).toEqual(json.policies.map((policy: { outcomes: Record<string, unknown> }) => policy.outcomes[release]));
    }
    await page.close();
    await screenshots(file, 'compare');
  }, 180_000);

  it('§8 tune --report: the ranking (winner, runner-up, Pareto front) shows the figures of --json', async () => {
    const { json, file } = withReport(
      ['tune', 'simulations/choose-canary.yaml', '--budget', 'exposed_p99<=2%', '--budget', 'false_abort<=1%', '--vary', 'canary_percent=1,2,5', '--vary', 'max_parallel=20,50', '--runs', '20'],
      'tune',
    );
    expect(json.winner).not.toBeNull();
    const { page, problems } = await open(file, VIEWPORTS.wide);
    expect(problems).toEqual([]);
    const cells = await tableCells(page, 'ranking');
    const ranked: Array<[string, any]> = [['winner', json.winner], ['runner_up', json.runner_up], ['nearest_miss', json.nearest_miss], ...json.pareto.map((figures: unknown, i: number) => [`pareto.${i}`, figures])];
    const present = ranked.filter(([, figures]) => figures !== null);
    expect(Object.keys(cells)).toEqual(present.map(([key]) => key));
    const value = (measure: { value: number } | null): string | null => (measure === null ? null : String(measure.value));
    for (const [key, figures] of present) {
      expect(cells[key]!.map((cell) => cell.value), key).toEqual([figures.status, value(figures.objective), ...figures.budgets.map((entry: { measure: { value: number } | null }) => value(entry.measure)), value(figures.exposure)]);
    }
    const label = await page.textContent('table[data-table="ranking"] tr[data-key="winner"] th');
    for (const [field, chosen] of Object.entries(json.winner.values)) expect(label).toContain(`${field}=${String(chosen)}`);
    await page.close();
    await screenshots(file, 'tune');
  }, 180_000);

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
