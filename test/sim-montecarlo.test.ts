import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { aggregate, NODE_COUNTS, stats, summarizeRun, type Aggregate, type RunSummary } from '../src/sim/aggregate.js';
import { monteCarlo, runOne } from '../src/sim/monteCarlo.js';
import { runScenario } from '../src/sim/run.js';
import { loadScenario, type Scenario } from '../src/sim/scenario.js';
import { runCli } from '../src/cli/program.js';
import { buildCli, memoryIO, REPO, runCompiled } from './cli-harness.js';

async function scenarioFile(file: string): Promise<Scenario> {
  const path = join(REPO, file);
  const load = await loadScenario(await readFile(path), path, async (job) => ({ ok: true, bytes: await readFile(job) }));
  if (!load.ok) throw new Error(JSON.stringify(load.errors));
  return load.scenario;
}

/** A completed run's summary with every count zero (the fields a test does not care about). */
function summaryOf(reason: string | null): RunSummary {
  const nodes = Object.fromEntries(NODE_COUNTS.map((count) => [count, 0])) as RunSummary['nodes'];
  return { outcome: 'completed', reason, duration_s: 0, exposed: 0, time_to_detect_s: null, rolled_back: false, nodes, failed_by_reason: {}, by_label: null };
}

describe('§8 aggregate of many runs', () => {
  it('§8 nearest-rank percentiles, mean and max', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(stats(values)).toEqual({ p50: 50, p90: 90, p99: 99, mean: 50.5, max: 100 });
    expect(stats([7])).toEqual({ p50: 7, p90: 7, p99: 7, mean: 7, max: 7 });
  });

  it('§8 runs per outcome, rollback rate, time to detect over the failed runs only', () => {
    const run = (outcome: RunSummary['outcome'], detect: number | null): RunSummary => ({
      ...summaryOf(outcome === 'rolled_back' ? 'failure_rule' : null),
      outcome,
      duration_s: 10,
      exposed: 5,
      time_to_detect_s: detect,
      rolled_back: outcome === 'rolled_back',
    });
    const result = aggregate(4, [run('completed', null), run('rolled_back', 30), run('completed', null), run('rolled_back', 10)]);
    expect(result).toMatchObject({
      seed: 4,
      runs: 4,
      outcomes: { completed: 2, rolled_back: 2 },
      rollback_rate: 0.5,
      time_to_detect_s: { runs: 2, p50: 10, max: 30, mean: 20 },
    });
    expect(aggregate(1, [run('completed', null)]).time_to_detect_s).toBeNull();
  });

  it('§8 the aggregate depends on the per-run results, not on the order the runs finished in', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ duration_s: fc.nat(), exposed: fc.nat() }), { minLength: 1 }), (values) => {
        const runs = values.map((value): RunSummary => ({ ...summaryOf(null), ...value }));
        const shuffledStats = (list: RunSummary[]) => ({ d: stats(list.map((r) => r.duration_s)), e: stats(list.map((r) => r.exposed)) });
        const forward = shuffledStats(runs);
        const reversed = shuffledStats([...runs].reverse());
        return forward.d.p50 === reversed.d.p50 && forward.d.p99 === reversed.d.p99 && forward.e.max === reversed.e.max;
      }),
    );
  });

  it('§8 run i of a series is the single run with seed + i', async () => {
    const scenario = await scenarioFile('simulations/bad-version-rollback.yaml');
    expect(runOne({ scenario, seed: 10, by: undefined }, 3)).toEqual(summarizeRun(runScenario(scenario, { seed: 13 }).result));
  });

  it('§8 the same seed gives the same aggregate, run in this thread', async () => {
    const scenario = await scenarioFile('simulations/bad-version-rollback.yaml');
    const first = await monteCarlo(scenario, { runs: 12, seed: 7, threads: 0 });
    expect(await monteCarlo(scenario, { runs: 12, seed: 7, threads: 0 })).toEqual(first);
    expect(first).toMatchObject({ runs: 12, seed: 7, outcomes: { rolled_back: 12 }, rollback_rate: 1 });
    expect(first.time_to_detect_s?.runs).toBe(12);
  });
});

describe('§8 simulate --runs: progress on standard error only on a terminal', () => {
  it('§8 a terminal gets a progress bar on standard error; standard output holds only the aggregate', async () => {
    const memory = memoryIO();
    const io = { ...memory.io, stderr: { ...memory.io.stderr, isTTY: true } };
    const code = await runCli(['simulate', 'simulations/bad-version-rollback.yaml', '--runs', '3', '--json'], io);
    expect(code, memory.stderr()).toBe(0);
    expect(memory.stderr()).toContain('3/3 runs');
    expect(JSON.parse(memory.stdout())).toMatchObject({ runs: 3 });
  });
});

describe('§8 Monte Carlo over worker threads (the compiled build)', () => {
  let compiled: { monteCarlo: typeof monteCarlo; main: string };

  beforeAll(async () => {
    const main = buildCli('sim-montecarlo');
    const module = (await import(pathToFileURL(join(dirname(main), '..', 'sim', 'monteCarlo.js')).href)) as { monteCarlo: typeof monteCarlo };
    compiled = { monteCarlo: module.monteCarlo, main };
  }, 120_000);

  it('§8 the aggregate is the same whatever the number of threads', async () => {
    const scenario = await scenarioFile('simulations/flaky-region.yaml');
    const options = { runs: 9, seed: 3 };
    const inThread = await monteCarlo(scenario, { ...options, threads: 0 });
    const progress: number[] = [];
    const twoThreads = await compiled.monteCarlo(scenario, { ...options, threads: 2, onProgress: (done) => progress.push(done) });
    const threeThreads = await compiled.monteCarlo(scenario, { ...options, threads: 3 });
    expect(twoThreads).toEqual(inThread);
    expect(threeThreads).toEqual(inThread);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('§8 simulate --runs N --json prints the aggregate; no progress bar off a terminal', async () => {
    const run = runCompiled(compiled.main, ['simulate', 'simulations/bad-version-rollback.yaml', '--runs', '6', '--seed', '2', '--json']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const printed = JSON.parse(run.stdout) as Aggregate;
    const scenario = await scenarioFile('simulations/bad-version-rollback.yaml');
    expect(printed).toEqual({ format: 1, ...(await monteCarlo(scenario, { runs: 6, seed: 2, threads: 0 })) });
    expect(Object.keys(printed)).toEqual(['format', 'seed', 'runs', 'outcomes', 'reasons', 'duration_s', 'exposed', 'rollback_rate', 'time_to_detect_s', 'nodes', 'failed_by_reason', 'by_label']);
  });

  it('§8 --trace with --runs is a usage error (exit 2)', () => {
    const run = runCompiled(compiled.main, ['simulate', 'simulations/bad-version-rollback.yaml', '--runs', '3', '--trace', 'x.jsonl']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--trace records a single run');
  });
});
