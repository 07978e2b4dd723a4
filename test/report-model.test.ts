/**
 * The report's model and page, without a browser (report-browser.test.ts
 * opens them in Chromium): the numbers come from the run's own events and
 * agree with its result (§8), the timeline stays bounded, the phases are
 * named as §7's states, and the page is self-contained.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectRun, comparisonTable, histogram, MAX_TIMELINE_POINTS, NODE_BUCKETS, renderReport, REPORT_FORMAT, type CompareCell, type ReportModel, type RunReport } from '../src/report/index.js';
import type { Comparison } from '../src/sim/compare.js';
import { runScenario } from '../src/sim/run.js';
import { loadScenario, type Scenario } from '../src/sim/scenario.js';
import { duration } from '../src/report/html.js';
import { REPO } from './cli-harness.js';

async function scenarioFile(file: string): Promise<Scenario> {
  const load = await loadScenario(await readFile(join(REPO, file)), file, async (path) => ({ ok: true, bytes: await readFile(path) }));
  if (!load.ok) throw new Error(JSON.stringify(load.errors));
  return load.scenario;
}

function reportOf(scenario: Scenario, seed?: number): RunReport {
  const collector = collectRun(scenario);
  const { result } = runScenario(scenario, { seed, trace: collector.sink });
  return collector.finish(result);
}

const page = (run: RunReport | null, extra: Partial<ReportModel> = {}): string =>
  renderReport({ format: REPORT_FORMAT, title: 't', description: null, run, monteCarlo: null, compare: [], ...extra });

describe('§8 the run report model', () => {
  it('§8 counts the nodes that entered each state as the result counts them, and the label rows add up', async () => {
    const run = reportOf(await scenarioFile('simulations/bad-version-rollback.yaml'));
    const { result, timeline } = run;
    expect(result.outcome).toBe('rolled_back');
    expect(timeline.entered.updating).toBe(result.exposed);
    expect(timeline.entered.stable).toBe(result.stable);
    expect(timeline.entered.failed).toBe(result.failed);
    expect(timeline.entered.reverted).toBe(result.reverted);
    expect(timeline.peak.updating).toBe(result.max_in_flight);
    // The last point is the end of the deployment: every exposed node reverted.
    const last = timeline.t.length - 1;
    expect(timeline.counts.reverted[last]).toBe(result.reverted);
    expect(timeline.counts.updating[last]).toBe(0);
    for (const breakdown of run.labels) {
      const rows = [...breakdown.rows, ...(breakdown.rest === null ? [] : [breakdown.rest])];
      expect(rows.reduce((sum, row) => sum + row.failed, 0), breakdown.key).toBe(result.failed);
      expect(rows.reduce((sum, row) => sum + row.exposed, 0), breakdown.key).toBe(result.exposed);
    }
    expect(run.labels.map((breakdown) => breakdown.key)).toEqual(['env', 'region', 'role']);
  });

  it(`§8 samples a long rollout down to ${MAX_TIMELINE_POINTS} points, keeping the exact peaks and the final counts`, async () => {
    const run = reportOf(await scenarioFile('simulations/canary-production.yaml'));
    const { timeline, result } = run;
    expect(timeline.sampled).toBe(true);
    expect(timeline.t.length).toBe(MAX_TIMELINE_POINTS);
    for (const bucket of NODE_BUCKETS) expect(timeline.counts[bucket].length).toBe(MAX_TIMELINE_POINTS);
    expect(timeline.t[0]).toBe(0);
    expect(timeline.t.at(-1)).toBe(result.duration_s);
    expect(timeline.peak.updating).toBe(result.max_in_flight);
    expect(timeline.counts.stable.at(-1)).toBe(result.stable);
    expect(timeline.counts.failed.at(-1)).toBe(result.failed);
  });

  it('§7 names the phases: canary until the operator promotes, awaiting promotion, then rolling out', async () => {
    const run = reportOf(await scenarioFile('simulations/manual-promotion.yaml'));
    expect(run.phases.map((band) => band.phase)).toEqual(['canary', 'awaiting promotion', 'rolling out']);
    expect(run.phases[0]!.from).toBe(0);
    expect(run.phases.at(-1)!.to).toBe(run.result.duration_s);
    for (let i = 1; i < run.phases.length; i += 1) expect(run.phases[i]!.from).toBe(run.phases[i - 1]!.to);
  });

  it('§7 a failed rollout shows its rollback as a phase with the failure rule as its reason', async () => {
    const run = reportOf(await scenarioFile('simulations/bad-version-rollback.yaml'));
    expect(run.phases.map((band) => [band.phase, band.reason])).toEqual([
      ['rolling out', null],
      ['rolling back', 'failure_rule'],
    ]);
  });
});

describe('§8 Monte Carlo histograms', () => {
  it('§8 puts every run in exactly one bin, integer bins for node counts', () => {
    const values = [0, 1, 1, 2, 7, 30, 30, 30, 99];
    const nodes = histogram('exposed', 'nodes', values);
    expect(nodes.bins.reduce((sum, bin) => sum + bin.runs, 0)).toBe(values.length);
    for (const bin of nodes.bins) expect(Number.isInteger(bin.from) && Number.isInteger(bin.to)).toBe(true);
    expect(nodes.bins.length).toBeLessThanOrEqual(20);
    const seconds = histogram('duration', 'seconds', [60, 60.5, 3600]);
    expect(seconds.bins.at(-1)!.runs).toBe(1); // the maximum is in the last bin, which is closed
    expect(histogram('duration', 'seconds', [5, 5]).bins).toEqual([{ from: 5, to: 6, runs: 2 }]);
  });
});

describe('§8 the page', () => {
  it('§8 is self-contained: no script, no link, nothing fetched; text from the scenario is escaped', async () => {
    const run = reportOf(await scenarioFile('simulations/bad-version-rollback.yaml'));
    const html = page(run, { title: '<img src=x onerror=alert(1)>', description: 'a & b' });
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\((?!#)|https?:\/\//i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('a &amp; b');
  });

  it('§8 durations read without ambiguity: inner zero parts are kept', () => {
    expect([duration(19.865), duration(60), duration(3600), duration(3632), duration(90_061)]).toEqual(['19.865s', '1m', '1h', '1h 0m 32s', '1d 1h 1m 1s']);
  });

  it('§8 shows a compare table when the command passes one', () => {
    const html = page(null, {
      compare: [
        {
          name: 'compare',
          title: 'Policies compared',
          columns: ['p50 duration', 'exposed'],
          rows: [
            { label: 'canary.yaml', cells: ['1h 2m', 2400] },
            { label: 'rolling.yaml', key: 'rolling', cells: [null, { shown: '148', value: 148, best: true }] },
          ],
        },
      ],
    });
    expect(html).toContain('<h2 id="compare-h">Policies compared</h2>');
    expect(html).toContain('<tr data-key="rolling"><th scope="row">rolling.yaml</th><td data-col="p50 duration">–</td><td data-col="exposed" data-value="148"><strong class="best">148 *</strong></td>');
    expect(html).toContain('<td data-col="exposed">2,400</td>');
  });

  it('§8 a comparison becomes one row a metric and one column a policy, keeping each value, the best marks and the outcomes', () => {
    const comparison: Comparison = {
      format: 1,
      seed: 1,
      runs: 10,
      releases: [{ name: 'good', probability: 0.9 }, { name: 'bad', probability: 0.1 }],
      policies: [
        { label: 'a.yaml', strategy: 'canary', outcomes: { good: { completed: 10 }, bad: { rolled_back: 10 } } },
        { label: 'b.yaml', strategy: 'rolling', outcomes: { good: { completed: 9, rolled_back: 1 }, bad: { rolled_back: 10 } } },
      ],
      rows: [
        { metric: 'duration_p50', label: 'duration p50', unit: 'seconds', better: 'lower', values: [{ value: 3062.2, low: null, high: null, runs: 10 }, { value: 90, low: 80, high: 100, runs: 10 }], best: [1] },
        { metric: 'detect_p99', label: 'time to detect p99', unit: 'seconds', better: 'lower', values: [null, { value: 61, low: null, high: null, runs: 10 }], best: [] },
        { metric: 'false_abort', label: 'false aborts', unit: 'rate', better: 'lower', values: [{ value: 0, low: 0, high: 0.3, runs: 10 }, { value: 0.1, low: 0, high: 0.4, runs: 10 }], best: [0] },
      ],
    };
    const table = comparisonTable(comparison);
    expect(table.columns).toEqual(['a.yaml (canary)', 'b.yaml (rolling)']);
    expect(table.rows.map((row) => row.key)).toEqual(['duration_p50', 'detect_p99', 'false_abort', 'outcomes.good', 'outcomes.bad']);
    const cells = table.rows.map((row) => row.cells as Array<CompareCell | null>);
    expect(cells[0]).toEqual([{ shown: '51m 2s', value: 3062.2, best: false }, { shown: '1m 30s', value: 90, best: true }]);
    expect(cells[1]![0]).toBeNull();
    expect(cells[2]!.map((cell) => cell!.shown)).toEqual(['0.0%', '10.0%']);
    expect(cells[3]!.map((cell) => JSON.parse(String(cell!.value)))).toEqual([{ completed: 10 }, { completed: 9, rolled_back: 1 }]);
    const html = page(null, { compare: [table] });
    expect(html).toContain('<td data-col="b.yaml (rolling)" data-value="90"><strong class="best">1m 30s *</strong></td>');
    expect(html).toContain('<tr data-key="detect_p99"><th scope="row">time to detect p99 (lower is better)</th><td data-col="a.yaml (canary)">–</td>');
  });
});
