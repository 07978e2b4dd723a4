/**
 * Release cases (docs/scenarios.md), common random numbers and `compare`
 * (docs/cli.md). The simulator drives the real engine; these tests check what
 * the comparison adds: the same draws for every policy, and figures per case.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePolicies } from '../src/sim/compare.js';
import { deploymentPolicy, mergeDeployment, policyJob } from '../src/sim/policy.js';
import { waitingForPromotion } from '../src/sim/policyRuns.js';
import { withRelease } from '../src/sim/releaseCases.js';
import { runScenario } from '../src/sim/run.js';
import { loadScenario, type Scenario } from '../src/sim/scenario.js';
import type { JobSpec } from '../src/spec/types.js';

const noFiles = async () => ({ ok: false as const, message: 'no files in this test' });

function scenarioText(extra: Record<string, unknown> = {}, nodes = 40): Record<string, unknown> {
  return {
    seed: 3,
    fleet: { groups: [{ count: nodes, prefix: 'edge-', labels: { env: 'prod' }, spread: { region: ['a', 'b'] } }] },
    previous: { name: 'svc', type: 'pipeline', config: { v: 1 } },
    job: {
      name: 'svc',
      type: 'pipeline',
      config: { v: 2 },
      deployment: { strategy: 'canary', canary_percent: 10, max_parallel: 4, auto_promote: true, max_failed_nodes: 1, max_failed_nodes_percent: 20, health_check: { deadline: '2m', min_healthy_time: '20s' } },
    },
    behavior: { start_delay: { min: '1s', max: '15s' }, report_interval: '10s' },
    releases: {
      good: { probability: 0.8, behavior: { fail_probability: 0.03 } },
      bad: { behavior: { fail_probability: 0.4, crash_probability: 0.05 } },
    },
    ...extra,
  };
}

async function load(raw: Record<string, unknown>): Promise<Scenario> {
  const loaded = await loadScenario(JSON.stringify(raw), 'sim.json', noFiles);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return loaded.scenario;
}

async function problems(raw: Record<string, unknown>): Promise<string[]> {
  const loaded = await loadScenario(JSON.stringify(raw), 'sim.json', noFiles);
  return loaded.ok ? [] : loaded.errors.map((problem) => `${problem.source}: ${problem.path}: ${problem.message}`);
}

describe('§9 release cases in a scenario', () => {
  it('§9 a scenario without releases has none and keeps its one behavior', async () => {
    const raw = scenarioText();
    delete raw.releases;
    const scenario = await load(raw);
    expect(scenario.releases).toBeNull();
    expect(runScenario(scenario).result.release).toBeUndefined();
  });

  it('§9 each case is the behavior block with its own fields on top; one probability makes the other the rest', async () => {
    const scenario = await load(scenarioText());
    expect(scenario.releases!.map((release) => [release.name, release.probability])).toEqual([
      ['good', 0.8],
      ['bad', expect.closeTo(0.2, 12)],
    ]);
    const bad = scenario.releases![1]!.behavior.base;
    expect(bad).toMatchObject({ fail_probability: 0.4, crash_probability: 0.05, start_delay: { min: 1000, max: 15000 }, report_interval: 10000 });
  });

  it('§9 simulate plays one case per run, drawn from the seed alone, and says which', async () => {
    const scenario = await load(scenarioText());
    const played = Array.from({ length: 40 }, (_, i) => runScenario(scenario, { seed: i }).result.release);
    expect(new Set(played)).toEqual(new Set(['good', 'bad']));
    expect(played.filter((release) => release === 'good').length).toBeGreaterThan(20);
    expect(runScenario(withRelease(scenario, 'bad')!, { seed: 5 }).result.release).toBeUndefined();
    expect(withRelease({ ...scenario, releases: null }, 'bad')).toBeNull();
  });

  it('§9 every problem of the releases block names the file and the field', async () => {
    const found = await problems(
      scenarioText({
        releases: {
          good: { probability: 0.8, behavior: { fail_probabilty: 0.1 } },
          bad: { probability: 0.5, behavior: { crash_probability: 2 } },
          god: {},
        },
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'sim.json: releases.god: unknown field `god`; did you mean `good`?',
        'sim.json: releases.good.behavior.fail_probabilty: unknown field `fail_probabilty`; did you mean `fail_probability`?',
        'sim.json: releases.bad.behavior.crash_probability: expected a number from 0 to 1, found 2',
        'sim.json: releases: the probabilities of good and bad add up to 1.3, not 1 (give one of them and the other is the rest)',
      ]),
    );
    expect(await problems(scenarioText({ releases: { bad: { probability: 0.1, behavior: { fail_probability: 1 } } } }))).toEqual([
      'sim.json: releases.bad.probability: a probability needs both cases (good and bad): drop it, or add the other case',
    ]);
    expect(await problems(scenarioText({ releases: { good: {} } }))).toEqual([
      'sim.json: releases.good.behavior: required: how a good release behaves (behavior fields, as in the behavior block)',
    ]);
    expect(await problems(scenarioText({ releases: {} }))).toEqual(['sim.json: releases: names no release case: give good, bad, or both']);
    expect(await problems(scenarioText({ releases: [1] }))).toHaveLength(1);
  });
});

describe('§9 common random numbers: every policy sees the same draws', () => {
  it('§9 under a narrow rolling window and a wide canary, the same nodes fail and each node takes as long to become stable', async () => {
    const base = await load(scenarioText({ releases: undefined, behavior: { start_delay: { min: '1s', max: '30s' }, report_interval: '10s', fail_probability: 0.15, error_rate: { min: 0, max: 0.2 } } }, 60));
    const loose = { max_failed_nodes: 1000, max_failed_nodes_percent: 100 };
    const narrow = policyOf(base, { strategy: 'rolling', max_parallel: 3, ...loose });
    const wide = policyOf(base, { strategy: 'canary', canary_percent: 20, max_parallel: 30, ...loose });
    const fates = (job: JobSpec) => {
      const { trace } = runScenario({ ...base, job }, { trace: true });
      const started = new Map<string, number>();
      const failed = new Set<string>();
      const toStable = new Map<string, number>();
      for (const event of trace!) {
        const node = (event as { node?: string }).node!;
        if (event.type === 'node.started') started.set(node, event.t);
        if (event.type === 'node.failed') failed.add(node);
        if (event.type === 'node.stable') toStable.set(node, Math.round((event.t - started.get(node)!) * 1000));
      }
      return { failed, toStable };
    };
    const a = fates(narrow);
    const b = fates(wide);
    expect(a.failed.size).toBeGreaterThan(3);
    expect([...a.failed].sort()).toEqual([...b.failed].sort());
    expect(a.toStable).toEqual(b.toStable);
  });

  it('§6 a revert draws the same start delay whatever the rolled-out version reported before', async () => {
    // min_healthy_time changes how many health reports a node sends before the rollback; its revert must not shift.
    const scenario = await load(scenarioText({ releases: undefined, behavior: { start_delay: { min: '1s', max: '30s' }, report_interval: '5s', fail_probability: 0.5, error_rate: { min: 0, max: 0.01 } } }));
    const revertDelays = (minHealthy: string) => {
      const job = policyOf(scenario, { strategy: 'rolling', max_parallel: 40, max_failed_nodes: 3, health_check: { min_healthy_time: minHealthy } });
      const { trace } = runScenario({ ...scenario, job }, { trace: true });
      const reverting = new Map<string, number>();
      const delays = new Map<string, number>();
      for (const event of trace!) {
        const node = (event as { node?: string }).node!;
        if (event.type === 'node.reverting') reverting.set(node, event.t);
        if (event.type === 'node.reverted') delays.set(node, Math.round((event.t - reverting.get(node)!) * 1000));
      }
      return delays;
    };
    const short = revertDelays('10s');
    const long = revertDelays('50s');
    const both = [...short.keys()].filter((node) => long.has(node));
    expect(both.length).toBeGreaterThan(10);
    for (const node of both) expect(short.get(node)).toBe(long.get(node));
  });

  it('§9 property: two identical policies compare equal in every row, for any seed and any policy', async () => {
    const scenario = await load(scenarioText());
    const policies = fc.record({
      strategy: fc.constantFrom('rolling', 'canary'),
      canary_percent: fc.integer({ min: 5, max: 50 }),
      max_parallel: fc.integer({ min: 1, max: 20 }),
      max_failed_nodes: fc.integer({ min: 0, max: 5 }),
      max_failed_nodes_percent: fc.integer({ min: 1, max: 50 }),
    });
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 40 }), policies, async (seed, block) => {
        // Two separately built jobs: equal by value, not the same object.
        const a = policyOf(scenario, block);
        const b = policyOf(scenario, structuredClone(block));
        const comparison = await comparePolicies(scenario, [{ label: 'a', job: a }, { label: 'b', job: b }], { runs: 4, seed, threads: 0 });
        for (const [release, counts] of Object.entries(comparison.policies[0]!.outcomes)) {
          for (const [outcome, runs] of Object.entries(counts)) outcomes.set(`${release} ${outcome}`, (outcomes.get(`${release} ${outcome}`) ?? 0) + runs);
        }
        expect(comparison.policies[0]!.outcomes).toEqual(comparison.policies[1]!.outcomes);
        for (const row of comparison.rows) {
          expect(row.values[0], row.metric).toEqual(row.values[1]);
          expect(row.best, row.metric).toEqual([]);
        }
        return true;
      }),
      { numRuns: 40 },
    );
    // The runs reached the interesting outcomes: good releases that completed and that failed (false aborts), bad ones rolled back.
    console.info(`outcomes over the property's runs: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(outcomes.get('good completed')).toBeGreaterThan(0);
    expect(outcomes.get('good rolled_back')).toBeGreaterThan(0);
    expect(outcomes.get('bad rolled_back')).toBeGreaterThan(0);
  });
});

describe('§9 compare: figures per release case, best value marked', () => {
  it('§6 a wider canary is faster on a good release and exposes more nodes to a bad one', async () => {
    const scenario = await load(scenarioText({}, 80));
    const small = policyOf(scenario, { strategy: 'canary', canary_percent: 5, max_parallel: 4 });
    const large = policyOf(scenario, { strategy: 'canary', canary_percent: 30, max_parallel: 24, max_failed_nodes: 3, max_failed_nodes_percent: 20 });
    const comparison = await comparePolicies(scenario, [{ label: 'small', job: small }, { label: 'large', job: large }], { runs: 12, seed: 1, threads: 0 });
    const row = (metric: string) => comparison.rows.find((r) => r.metric === metric)!;
    expect(row('duration_p50').best).toEqual([1]);
    expect(row('exposed_p50').best).toEqual([0]);
    expect(row('exposed_p50').values[0]!.value).toBeLessThan(row('exposed_p50').values[1]!.value);
    expect(row('false_abort').values[0]!.runs).toBe(12);
    expect(row('rollback_rate_all').values[0]).not.toBeNull();
    expect(comparison).toMatchObject({ format: 1, runs: 12, releases: [{ name: 'good', probability: 0.8 }, { name: 'bad' }] });
  });

  it('§7 waiting for promotion is the time spent in awaiting_promotion', () => {
    const phases = [
      { t: 0, phase: 'in_progress' as const },
      { t: 100, phase: 'awaiting_promotion' as const },
      { t: 400, phase: 'promoted' as const },
      { t: 400, phase: 'in_progress' as const },
      { t: 900, phase: 'completed' as const },
    ];
    expect(waitingForPromotion(phases, 900)).toBe(300);
    expect(waitingForPromotion(phases.slice(0, 2), 1000)).toBe(900);
  });
});

describe('§9 the shipped choose-canary scenario', () => {
  it('§6 its good release completes under the job\'s policy and its bad release is rolled back', async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const file = join(import.meta.dirname, '..', 'simulations', 'choose-canary.yaml');
    const loaded = await loadScenario(await readFile(file), file, async (job) => ({ ok: true, bytes: await readFile(job) }));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const scenario = loaded.scenario;
    expect(scenario.releases!.map((release) => [release.name, release.probability])).toEqual([['good', 0.9], ['bad', expect.closeTo(0.1, 12)]]);
    expect(runScenario(withRelease(scenario, 'good')!).result).toMatchObject({ outcome: 'completed', targeted: 2000 });
    expect(runScenario(withRelease(scenario, 'bad')!).result).toMatchObject({ outcome: 'rolled_back', reason: 'failure_rule' });
  });
});

describe('§2 a policy is a JobSpec or its deployment block', () => {
  it('§2 a block is merged field by field onto the job; a percent replaces the job\'s count; a strategy drops what it ignores', async () => {
    const scenario = await load(scenarioText());
    expect(mergeDeployment({ canary_count: 24, canary_percent: 0, max_parallel: 4 }, { canary_percent: 5 })).toEqual({ canary_percent: 5, max_parallel: 4 });
    const rolling = deploymentPolicy({ strategy: 'rolling', health_check: { min_healthy_time: '5s' } }, scenario.job);
    expect(rolling.ok && rolling.warnings).toEqual([]);
    expect(rolling.ok && rolling.job.deployment.health_check).toEqual({ deadline: '2m', min_healthy_time: '5s', max_error_rate: 0.1 });
  });

  it('§2 a block onto a job of the same strategy warns only about what the block itself sets', async () => {
    const scenario = await load(scenarioText());
    const rollingJob = policyOf(scenario, { strategy: 'rolling', max_parallel: 8 });
    // The normalized rolling job carries canary_count: 0 and friends; merging onto it must not blame the block for them.
    expect(rollingJob.deployment).toMatchObject({ strategy: 'rolling', canary_count: 0, canary_percent: 0 });
    const again = deploymentPolicy({ strategy: 'rolling', max_parallel: 50 }, rollingJob);
    expect(again.ok && again.warnings).toEqual([]);
    const noStrategy = deploymentPolicy({ max_parallel: 20 }, rollingJob);
    expect(noStrategy.ok && noStrategy.warnings).toEqual([]);
    const ownWords = deploymentPolicy({ strategy: 'rolling', canary_percent: 5 }, rollingJob);
    expect(ownWords.ok && ownWords.warnings).toEqual([{ path: 'canary_percent', message: 'ignored: only strategy "canary" uses it' }]);
  });

  it('§2 problems of a block carry paths relative to it; a whole JobSpec must roll out the same job', async () => {
    const scenario = await load(scenarioText());
    expect(policyJob({ max_paralel: 3 }, scenario.job)).toMatchObject({ ok: false, errors: [{ path: 'max_paralel', message: expect.stringContaining('did you mean `max_parallel`') }] });
    expect(policyJob({ health_check: { deadline: 'soon' } }, scenario.job)).toMatchObject({ ok: false, errors: [{ path: 'health_check.deadline' }] });
    expect(policyJob({ ...(scenario.job as unknown as Record<string, unknown>), name: 'other' }, scenario.job)).toMatchObject({ ok: false, errors: [{ path: 'name' }] });
    expect(policyJob({ ...(scenario.job as unknown as Record<string, unknown>) }, scenario.job)).toMatchObject({ ok: true });
  });
});

function policyOf(scenario: Scenario, block: Record<string, unknown>): JobSpec {
  const load = deploymentPolicy(block, scenario.job);
  if (!load.ok) throw new Error(JSON.stringify(load.errors));
  return load.job;
}
