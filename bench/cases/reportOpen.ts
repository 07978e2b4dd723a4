/**
 * The HTML report as users get it: `fleet-rollout simulate SCENARIO --report
 * FILE.html` as a whole CLI process (compiled dist/src/cli/main.js) on the
 * 100,000-node canary fixture, then the file opened from disk in headless
 * Chromium a few times (a fresh page each time, from `goto` to layout done,
 * as test/report-browser.test.ts measures it). Issue 14: under 5 MB, opens
 * in under 2 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHROMIUM_MISSING, launchChromium } from '../chromium.js';
import { percentile } from '../percentiles.js';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const MAIN = join(REPO, 'dist', 'src', 'cli', 'main.js');
export const REPORT_SCENARIO = 'test/fixtures/report/canary-100k.yaml';

export interface ReportOpenResult {
  case: 'report';
  nodes: number;
  /** The whole `simulate --report` process, spawn to exit. */
  build_wall_ms: number;
  bytes: number;
  /** Each open: `goto` to layout done, in a fresh page of one browser. */
  opens_ms: number[];
  open_p50_ms: number;
  open_max_ms: number;
  command: string;
}

export async function runReportOpen(opens: number): Promise<ReportOpenResult> {
  if (CHROMIUM_MISSING !== null) throw new Error(`report case ${CHROMIUM_MISSING}`);
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-bench-report-'));
  try {
    const file = join(dir, 'canary-100k.html');
    const args = ['simulate', REPORT_SCENARIO, '--json', '--report', file];
    const started = performance.now();
    const run = spawnSync(process.execPath, [MAIN, ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const buildMs = performance.now() - started;
    if (run.status !== 0) throw new Error(`fleet-rollout ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
    const nodes = (JSON.parse(run.stdout) as { targeted: number }).targeted;
    const times = await openTimes(file, opens);
    const sorted = Float64Array.from(times).sort();
    return {
      case: 'report',
      nodes,
      build_wall_ms: buildMs,
      bytes: statSync(file).size,
      opens_ms: times.map((ms) => Math.round(ms * 10) / 10),
      open_p50_ms: Math.round(percentile(sorted, 50) * 10) / 10,
      open_max_ms: Math.round(sorted[sorted.length - 1]! * 10) / 10,
      command: `fleet-rollout simulate ${REPORT_SCENARIO} --json --report FILE.html, then FILE.html opened ${opens} times in ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} (headless, playwright-core)`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function openTimes(file: string, opens: number): Promise<number[]> {
  const browser = await launchChromium();
  try {
    const url = pathToFileURL(file).href;
    const times: number[] = [];
    for (let i = 0; i < opens; i += 1) {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1440, height: 900 });
      const started = performance.now();
      await page.goto(url, { waitUntil: 'load' });
      await page.evaluate('document.body.getBoundingClientRect().height'); // layout done
      times.push(performance.now() - started);
      await page.close();
    }
    return times;
  } finally {
    await browser.close();
  }
}
