/**
 * `tune` (docs/cli.md): budgets, the policy space, the sequential search, and
 * the command's bad input (exit 2) and "no policy meets the budget" (exit 0).
 */
import { describe, expect, it } from 'vitest';
import { parseBudget } from '../src/sim/budgets.js';
import { percentileInterval, wilson } from '../src/sim/confidence.js';
import { loadScenario, type Scenario } from '../src/sim/scenario.js';
import { tune, roundTargets } from '../src/sim/tune.js';
import { buildSpace, parseVary, type Vary } from '../src/sim/tuneSpace.js';
import { runCli } from '../src/cli/program.js';
import { memoryIO, tempDir } from './cli-harness.js';

/**
 * A bad release fails every node at its deadline and the failure rule trips at
 * the first failure, so a rolling window of w exposes exactly w nodes; a good
 * release is healthy, so a wider window is faster. With a budget of 5 exposed
 * nodes the best window is 5, the runner-up 4.
 */
const KNOWN_BEST = {
  seed: 1,
  fleet: { groups: [{ count: 60, prefix: 'edge-', labels: { env: 'prod' } }] },
  previous: { name: 'svc', type: 'pipeline', config: { v: 1 } },
  job: {
    name: 'svc',
    type: 'pipeline',
    config: { v: 2 },
    deployment: { strategy: 'rolling', max_parallel: 1, max_failed_nodes: 0, health_check: { deadline: '1m', min_healthy_time: '10s' } },
  },
  behavior: { start_delay: '5s', report_interval: '5s' },
  releases: { good: { behavior: { fail_probability: 0 } }, bad: { behavior: { fail_probability: 1 } } },
};

async function knownBest(): Promise<Scenario> {
  const loaded = await loadScenario(JSON.stringify(KNOWN_BEST), 'best.json', async () => ({ ok: false, message: 'none' }));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return loaded.scenario;
}

function budget(text: string) {
  const parsed = parseBudget(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.budget;
}

function vary(text: string): Vary {
  const parsed = parseVary(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.vary;
}

describe('§6 tune finds the fastest policy within the budget', () => {
  it('§6 the known best window on a small scenario, the runner-up next to it, wider windows out of budget early', async () => {
    const scenario = await knownBest();
    const space = buildSpace(scenario.job, [vary('max_parallel=1,2,3,4,5,6,8,12,20')]);
    if (!space.ok) throw new Error(space.message);
    const result = await tune(scenario, space.candidates, { budgets: [budget('exposed_p99<=5'), budget('false_abort<=0%')], runs: 16, seed: 1, threads: 0 });
    expect(result.winner?.deployment).toMatchObject({ strategy: 'rolling', max_parallel: 5 });
    expect(result.runner_up?.deployment).toMatchObject({ max_parallel: 4 });
    expect(result.winner?.runs).toEqual({ good: 16, bad: 16 });
    const wide = result.pareto.filter((figure) => (figure.deployment.max_parallel as number) > 5);
    expect(wide.length).toBeGreaterThan(0);
    // Out of budget after the first round of bad-release runs: sequential testing stopped them.
    for (const figure of wide) expect(figure).toMatchObject({ status: 'out_of_budget', runs: { bad: 4 } });
    expect(result.statuses.out_of_budget).toBe(4);
    expect(result.winner?.budgets.map((entry) => entry.met)).toEqual([true, true]);
  });

  it('§6 with a budget nothing meets: no winner, and the nearest miss', async () => {
    const scenario = await knownBest();
    const space = buildSpace(scenario.job, [vary('max_parallel=3,6,9')]);
    if (!space.ok) throw new Error(space.message);
    const result = await tune(scenario, space.candidates, { budgets: [budget('exposed_p99<=2')], runs: 8, seed: 1, threads: 0 });
    expect(result.winner).toBeNull();
    expect(result.nearest_miss?.deployment).toMatchObject({ max_parallel: 3 });
  });

  it('§8 rounds grow by doubling up to the runs asked for', () => {
    expect(roundTargets(100)).toEqual([4, 8, 16, 32, 64, 100]);
    expect(roundTargets(3)).toEqual([3]);
  });
});

describe('§8 budgets, ranges and intervals', () => {
  it('§8 a budget reads rates as percentages or fractions, exposure as nodes or a share of the targeted nodes, times as durations', () => {
    expect(budget('false_abort<=1%')).toMatchObject({ op: '<=', limit: 0.01, metric: { key: 'false_abort' } });
    expect(budget('false_abort <= 0.02')).toMatchObject({ limit: 0.02 });
    expect(budget('exposed_p99<=2%')).toMatchObject({ limit: 2, metric: { key: 'exposed_pct_p99' } });
    expect(budget('exposed_p99<=40')).toMatchObject({ limit: 40, metric: { key: 'exposed_p99' } });
    expect(budget('detect_p99<=10m')).toMatchObject({ limit: 600 });
    expect(budget('rollback_rate>=99%')).toMatchObject({ op: '>=', limit: 0.99 });
  });

  it('§8 an impossible budget, an unknown metric (with a hint) or an unreadable value is refused', () => {
    const message = (text: string) => {
      const parsed = parseBudget(text);
      return parsed.ok ? 'accepted' : parsed.message;
    };
    expect(message('exposed_p99<=-1%')).toMatch(/impossible: exposed_pct_p99 is 0% to 100% of the targeted nodes/);
    expect(message('false_abort<=150%')).toMatch(/impossible/);
    expect(message('false_abort<0%')).toMatch(/impossible/);
    expect(message('false_abrot<=1%')).toMatch(/unknown metric "false_abrot"; did you mean "false_abort"\?/);
    expect(message('detect_p99<=soon')).toMatch(/expected a duration/);
    expect(message('exposed_p99')).toMatch(/expected METRIC<=VALUE/);
  });

  it('§8 --vary takes lists, integer ranges and stepped ranges; bad ones say why', () => {
    expect(vary('canary_percent=1..5').values).toEqual([1, 2, 3, 4, 5]);
    expect(vary('max_parallel=10,20,50')).toEqual({ field: 'max_parallel', values: [10, 20, 50] });
    expect(vary('min_healthy_time=30s..2m/30s')).toEqual({ field: 'health_check.min_healthy_time', values: ['30s', '1m0s', '1m30s', '2m0s'] });
    expect(vary('max_error_rate=0.01..0.05/0.02').values).toEqual([0.01, 0.03, 0.05]);
    expect(vary('strategy=canary,rolling').values).toEqual(['canary', 'rolling']);
    const message = (text: string) => {
      const parsed = parseVary(text);
      return parsed.ok ? 'accepted' : parsed.message;
    };
    expect(message('canary_procent=1..5')).toMatch(/unknown deployment field "canary_procent"; did you mean "canary_percent"\?/);
    expect(message('max_parallel=1..x')).toMatch(/max_parallel: expected an integer >= 0, found "x"/);
    expect(message('max_parallel=20..10')).toMatch(/the range goes down/);
    expect(message('deadline=1m..5m')).toMatch(/needs a step/);
    expect(message('max_parallel=1..100000')).toMatch(/at most 1000/);
    expect(message('canary_percent')).toMatch(/expected FIELD=VALUES/);
  });

  it('§8 Wilson and order-statistic intervals hold the textbook values', () => {
    const zero = wilson(0, 50);
    expect(zero.low).toBe(0);
    expect(zero.high).toBeCloseTo(0.0713, 4);
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    // For the median of 100 runs the 95% order-statistic interval is x(40)..x(61).
    expect(percentileInterval(sorted, 50)).toEqual({ low: 40, high: 61 });
    expect(percentileInterval(sorted, 99).high).toBeNull();
  });
});

describe('§8 tune and compare on the command line: bad input exits 2, no winner exits 0', () => {
  async function cli(args: string[]) {
    const memory = memoryIO();
    const code = await runCli(args, memory.io);
    return { code, stdout: memory.stdout(), stderr: memory.stderr() };
  }

  it('§8 bad budgets, ranges, fields and objectives exit 2 with a message naming the option', async () => {
    const files = tempDir();
    try {
      const scenario = files.file('best.json', JSON.stringify(KNOWN_BEST));
      const cases: Array<[string[], string]> = [
        [['--budget', 'exposed_p99<=-1%'], "--budget 'exposed_p99<=-1%': exposed_pct_p99 <= -1% is impossible"],
        [['--budget', 'false_abrot<=1%'], 'did you mean "false_abort"?'],
        [['--budget', 'false_abort<=1%', '--vary', 'max_paralel=1,2'], 'did you mean "max_parallel"?'],
        [['--budget', 'false_abort<=1%', '--vary', 'max_parallel=1..x'], "--vary 'max_parallel=1..x'"],
        [['--budget', 'false_abort<=1%', '--objective', 'rollback_rate'], 'better when higher'],
        [[], 'tune needs at least one --budget'],
        [['--budget', 'false_abort<=1%', '--vary', 'min_healthy_time=2m', '--vary', 'deadline=1m'], 'no combination of the --vary values is a valid policy'],
      ];
      for (const [extra, mention] of cases) {
        const run = await cli(['tune', scenario, ...extra, '--runs', '4']);
        expect(run.code, `${extra.join(' ')}: ${run.stderr}`).toBe(2);
        expect(run.stderr).toContain(mention);
        expect(run.stdout).toBe('');
      }
      const caseless = files.file('caseless.json', JSON.stringify({ ...KNOWN_BEST, releases: undefined }));
      const run = await cli(['tune', caseless, '--budget', 'false_abort<=1%']);
      expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining('false_abort needs a good release case (releases.good); the scenario has no release cases') });
      const badScenario = files.file('bad.json', JSON.stringify({ ...KNOWN_BEST, releases: { good: { probability: 2, behavior: {} } } }));
      expect(await cli(['tune', badScenario, '--budget', 'exposed_p99<=5'])).toMatchObject({ code: 2, stderr: expect.stringContaining('bad.json: releases.good.probability: expected a number from 0 to 1, found 2') });
    } finally {
      files.cleanup();
    }
  });

  it('§8 no policy meets the budget: exit 0, says so, shows the nearest miss; --json has a format', async () => {
    const files = tempDir();
    try {
      const scenario = files.file('best.json', JSON.stringify(KNOWN_BEST));
      const run = await cli(['tune', scenario, '--budget', 'exposed_p99<=1', '--vary', 'max_parallel=2,4', '--runs', '4']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('no policy meets the budget');
      expect(run.stdout).toContain('nearest miss:');
      const json = await cli(['tune', scenario, '--budget', 'exposed_p99<=4', '--vary', 'max_parallel=2,4,6', '--runs', '4', '--json']);
      expect(JSON.parse(json.stdout)).toMatchObject({ format: 1, winner: { deployment: { max_parallel: 4 } }, candidates: 3, space: { combinations: 3 } });
    } finally {
      files.cleanup();
    }
  });

  it('§2 compare: an unknown field in a policy names the file and the field; a missing file and no policy exit 2', async () => {
    const files = tempDir();
    try {
      const scenario = files.file('best.json', JSON.stringify(KNOWN_BEST));
      const policy = files.file('p.yaml', 'strategy: rolling\nmax_paralel: 3\n');
      const good = files.file('q.yaml', 'strategy: rolling\nmax_parallel: 3\n');
      const run = await cli(['compare', scenario, '--policy', policy, '--runs', '2']);
      expect(run).toMatchObject({ code: 2, stdout: '' });
      expect(run.stderr).toContain('p.yaml: max_paralel: unknown field `max_paralel`; did you mean `max_parallel`?');
      expect((await cli(['compare', scenario, '--policy', files.dir + '/none.yaml'])).code).toBe(2);
      expect(await cli(['compare', scenario])).toMatchObject({ code: 2, stderr: expect.stringContaining('at least one --policy') });
      expect(await cli(['compare', scenario, '--policy', good, '--runs', '0'])).toMatchObject({ code: 2 });
      const ok = await cli(['compare', scenario, '--policy', good, '--policy', policy.replace('p.yaml', 'q.yaml'), '--runs', '3', '--json']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ format: 1, runs: 3, policies: [{ strategy: 'rolling' }, { strategy: 'rolling' }] });
    } finally {
      files.cleanup();
    }
  });
});

describe('§8 the compiled CLI: worker threads give the figures of one thread', () => {
  it('§8 compare --json through the compiled CLI (one worker per core) equals the in-process comparison', async () => {
    const { buildCli, runCompiled } = await import('./cli-harness.js');
    const { comparePolicies } = await import('../src/sim/compare.js');
    const { deploymentPolicy } = await import('../src/sim/policy.js');
    const main = buildCli('sim-tune');
    const files = tempDir();
    try {
      const scenarioFile = files.file('best.json', JSON.stringify({ ...KNOWN_BEST, releases: { good: { behavior: { fail_probability: 0.05 } }, bad: { behavior: { fail_probability: 0.5 } } } }));
      const a = files.file('a.yaml', 'max_parallel: 3\nmax_failed_nodes: 2\n');
      const b = files.file('b.yaml', 'max_parallel: 8\nmax_failed_nodes: 2\n');
      const run = runCompiled(main, ['compare', scenarioFile, '--policy', a, '--policy', b, '--runs', '20', '--seed', '9', '--json']);
      expect(run.status, run.stderr).toBe(0);
      const loaded = await loadScenario(JSON.stringify({ ...KNOWN_BEST, releases: { good: { behavior: { fail_probability: 0.05 } }, bad: { behavior: { fail_probability: 0.5 } } } }), 'best.json', async () => ({ ok: false, message: 'none' }));
      if (!loaded.ok) throw new Error('scenario');
      const job = (block: Record<string, unknown>) => {
        const policy = deploymentPolicy(block, loaded.scenario.job);
        if (!policy.ok) throw new Error('policy');
        return policy.job;
      };
      const inProcess = await comparePolicies(loaded.scenario, [{ label: 'a.yaml', job: job({ max_parallel: 3, max_failed_nodes: 2 }) }, { label: 'b.yaml', job: job({ max_parallel: 8, max_failed_nodes: 2 }) }], { runs: 20, seed: 9, threads: 0 });
      expect(JSON.parse(run.stdout)).toEqual(inProcess);
    } finally {
      files.cleanup();
    }
  }, 120_000);

  it('§8 a terminal gets a progress bar on standard error; standard output holds only the result', async () => {
    const files = tempDir();
    try {
      const scenario = files.file('best.json', JSON.stringify(KNOWN_BEST));
      const memory = memoryIO();
      const io = { ...memory.io, stderr: { ...memory.io.stderr, isTTY: true } };
      expect(await runCli(['tune', scenario, '--budget', 'exposed_p99<=4', '--vary', 'max_parallel=2,4', '--runs', '4', '--json'], io)).toBe(0);
      expect(memory.stderr()).toContain('tuning');
      expect(JSON.parse(memory.stdout())).toMatchObject({ format: 1 });
    } finally {
      files.cleanup();
    }
  });
});
