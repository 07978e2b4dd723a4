import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../src/cli/program.js';
import type { Aggregate } from '../src/sim/aggregate.js';
import { monteCarlo } from '../src/sim/monteCarlo.js';
import type { SimResult } from '../src/sim/result.js';
import { runScenario } from '../src/sim/run.js';
import { loadScenario, type Scenario } from '../src/sim/scenario.js';
import { memoryIO } from './cli-harness.js';

async function scenarioOf(document: Record<string, unknown>): Promise<Scenario> {
  const load = await loadScenario(stringify(document), 'inline.yaml', async () => ({ ok: false, message: 'no files here' }));
  if (!load.ok) throw new Error(JSON.stringify(load.errors));
  return load.scenario;
}

const HEALTH = { deadline: '2m', min_healthy_time: '30s' };
const job = (deployment: Record<string, unknown>, labels: Record<string, string> = {}) => ({
  name: 'api',
  type: 'pipeline',
  labels,
  selector: { match_labels: { env: 'production' } },
  deployment,
});
const fleetOf = (count: number) => ({ groups: [{ count, prefix: 'edge-', labels: { env: 'production' }, spread: { region: ['east', 'west'] } }] });
const V1 = job({ strategy: 'immediate' }, { version: '1' });

/** §8 v1.1: every targeted node in exactly one bucket; exposed is all but untouched. */
export function expectCountsAddUp(result: Pick<SimResult, 'targeted' | 'stable' | 'failed' | 'stopped' | 'removed' | 'updating' | 'untouched' | 'exposed' | 'failed_by_reason'>): void {
  expect(result.stable + result.failed + result.stopped + result.removed + result.updating + result.untouched).toBe(result.targeted);
  expect(result.exposed).toBe(result.targeted - result.untouched);
  expect(Object.values(result.failed_by_reason).reduce((a, b) => a + b, 0)).toBe(result.failed);
}

describe('§8 v1.1 the counts add up', () => {
  it('§6 a failure without rollback: the nodes still updating are stopped, and counted', async () => {
    const scenario = await scenarioOf({
      fleet: fleetOf(40),
      job: job({ strategy: 'rolling', max_parallel: 10, max_failed_nodes: 2, health_check: HEALTH }),
      behavior: { start_delay: { min: '1s', max: '50s' }, fail_probability: 0.3 },
    });
    const { result } = runScenario(scenario);
    expect(result.outcome).toBe('failed');
    expect(result.stopped).toBeGreaterThan(0);
    expect(result.failed).toBe(3);
    expectCountsAddUp(result);
    expect(result.failed_by_reason).toEqual({ deadline_exceeded: 3 });
  });

  it('§7 a supersede stops the nodes the canceled deployment was updating', async () => {
    const scenario = await scenarioOf({
      fleet: fleetOf(20),
      job: job({ strategy: 'rolling', max_parallel: 4, health_check: HEALTH }),
      behavior: { start_delay: '10s' },
      events: [{ at: '50s', submit: job({ strategy: 'rolling', max_parallel: 4, health_check: HEALTH }, { v: '3' }) }],
    });
    const { result } = runScenario(scenario);
    expect(result).toMatchObject({ outcome: 'canceled', reason: 'superseded', stopped: 4, time_to_detect_s: null, time_to_fail_s: null });
    expectCountsAddUp(result);
  });

  it('§8 v1.1 an abort is not a detection: time_to_detect_s null, time_to_fail_s set; the updating nodes are stopped', async () => {
    const scenario = await scenarioOf({
      fleet: fleetOf(12),
      previous: V1,
      job: job({ strategy: 'rolling', max_parallel: 3, health_check: HEALTH }),
      behavior: { start_delay: '5s' },
      events: [{ at: '20s', abort: true }],
    });
    const { result } = runScenario(scenario);
    expect(result).toMatchObject({ outcome: 'rolled_back', reason: 'aborted', time_to_detect_s: null, time_to_fail_s: 20, failed: 0, stopped: 3, reverted: 3 });
    expectCountsAddUp(result);

    const memory = memoryIO();
    const io = { ...memory.io, stdin: [Buffer.from(stringify({ fleet: fleetOf(12), previous: V1, job: job({ strategy: 'rolling', max_parallel: 3, health_check: HEALTH }), behavior: { start_delay: '5s' }, events: [{ at: '20s', abort: true }] }))] };
    expect(await runCli(['simulate', '-'], io)).toBe(0);
    expect(memory.stdout()).toContain('failure   aborted by the operator after 20 seconds');
    expect(memory.stdout()).not.toContain('detected');
  });

  it('§8 v1.1 --runs: aborted runs are counted as aborted, never as detected', async () => {
    const document = { fleet: fleetOf(12), previous: V1, job: job({ strategy: 'rolling', max_parallel: 3, health_check: HEALTH }), events: [{ at: '20s', abort: true }] };
    const aggregate = await monteCarlo(await scenarioOf(document), { runs: 5, threads: 0 });
    expect(aggregate).toMatchObject({ runs: 5, reasons: { aborted: 5 }, time_to_detect_s: null, rollback_rate: 1 });
    const memory = memoryIO(stringify(document));
    expect(await runCli(['simulate', '-', '--runs', '5'], memory.io)).toBe(0);
    expect(memory.stdout()).toContain('no failure detected; 5 runs aborted by the operator (not a detection)');
    expect(memory.stdout()).not.toMatch(/detected +in/);
  });

  it('§8 v1.1 the run goes on until a node that joins after completion is judged', async () => {
    const scenario = await scenarioOf({
      fleet: fleetOf(3),
      job: job({ strategy: 'rolling', max_parallel: 3, health_check: HEALTH }),
      behavior: { start_delay: '5s' },
      events: [{ at: '10m', join: [{ id: 'late-1', labels: { env: 'production', region: 'east' } }] }],
    });
    const { result } = runScenario(scenario);
    // Joined at 10m, first report 5 s later, stable 30 s after that.
    expect(result).toMatchObject({ outcome: 'completed', ended_by: 'settled', end_s: 635, targeted: 4, stable: 4, updating: 0 });
    expectCountsAddUp(result);
  });

  it('§8 v1.1 ... and until a node that reconnects and joins is judged', async () => {
    const scenario = await scenarioOf({
      fleet: { nodes: [{ id: 'a', labels: { env: 'production' } }, { id: 'b', labels: { env: 'production' }, connected: false }] },
      job: job({ strategy: 'rolling', max_parallel: 1, health_check: HEALTH }),
      behavior: { start_delay: '5s' },
      events: [{ at: '10m', connect: ['b'] }],
    });
    const { result } = runScenario(scenario);
    expect(result).toMatchObject({ ended_by: 'settled', end_s: 635, stable: 2, untouched: 0 });
    expectCountsAddUp(result);
  });
});

describe('§8 failures by reason and by a label (--by)', () => {
  const document = {
    fleet: fleetOf(40),
    previous: V1,
    job: job({ strategy: 'rolling', max_parallel: 5, max_failed_nodes: 100, max_failed_nodes_percent: 100, health_check: HEALTH }),
    behavior: {
      start_delay: '5s',
      overrides: [
        { selector: { match_labels: { region: 'east' } }, fail_probability: 0.5 },
        { selector: { match_labels: { region: 'west' } }, crash_probability: 0.2 },
      ],
    },
  };

  it('§8 each value of the label: its nodes in the same buckets, summing to the run\'s counts', async () => {
    const { result } = runScenario(await scenarioOf(document), { by: 'region' });
    expectCountsAddUp(result);
    const values = result.by_label!.values;
    expect(result.by_label!.label).toBe('region');
    expect(values.map((group) => group.value)).toEqual(['east', 'west']);
    for (const field of ['exposed', 'stable', 'failed', 'stopped', 'updating'] as const) {
      expect(values.reduce((sum, group) => sum + group[field], 0)).toBe(result[field]);
    }
    expect(Object.keys(values[0]!.failed_by_reason)).toEqual(['deadline_exceeded']);
    expect(Object.keys(values[1]!.failed_by_reason)).toEqual(['execution_failed']);
    expect(result.failed_by_reason.deadline_exceeded).toBe(values[0]!.failed);
    expect(runScenario(await scenarioOf(document)).result.by_label).toBeNull();
  });

  it('§8 nodes without the label form the group whose value is null', async () => {
    const { result } = runScenario(await scenarioOf(document), { by: 'rack' });
    expect(result.by_label!.values).toEqual([expect.objectContaining({ value: null, exposed: result.exposed })]);
  });

  it('§8 --by in the summary, --json and --runs', async () => {
    const summary = memoryIO(stringify(document));
    expect(await runCli(['simulate', '-', '--by', 'region'], summary.io)).toBe(0);
    expect(summary.stdout()).toMatch(/region=east +\d+ exposed: \d+ stable, \d+ failed \(\d+ deadline_exceeded\)/);
    expect(summary.stdout()).toMatch(/failures +\d+ deadline_exceeded, \d+ execution_failed/);

    const json = memoryIO(stringify(document));
    expect(await runCli(['simulate', '-', '--by', 'region', '--json'], json.io)).toBe(0);
    expect((JSON.parse(json.stdout()) as SimResult).by_label?.label).toBe('region');

    const runs = memoryIO(stringify(document));
    expect(await runCli(['simulate', '-', '--by', 'region', '--runs', '4', '--json'], runs.io)).toBe(0);
    const aggregate = JSON.parse(runs.stdout()) as Aggregate;
    expect(aggregate.by_label!.values.map((group) => group.value)).toEqual(['east', 'west']);
    expect(aggregate.by_label!.values.reduce((sum, group) => sum + group.failed, 0)).toBe(aggregate.nodes.failed.total);
    expect(aggregate.by_label!.values[0]!.runs_with_failures).toBeLessThanOrEqual(4);

    const empty = memoryIO(stringify(document));
    expect(await runCli(['simulate', '-', '--by', ' '], empty.io)).toBe(2);
    expect(empty.stderr()).toContain('--by expects a label key');
  });
});

describe('§8 --by prints label text safely', () => {
  it('§8 a label value with a terminal escape is shown escaped in the summary, kept as is in the JSON', async () => {
    const document = {
      fleet: { nodes: [{ id: 'a', labels: { env: 'production', region: 'east\u001b[2J' } }] },
      job: job({ strategy: 'rolling', max_parallel: 1, health_check: HEALTH }),
    };
    const summary = memoryIO(stringify(document));
    expect(await runCli(['simulate', '-', '--by', 'region'], summary.io)).toBe(0);
    expect(summary.stdout()).not.toContain('\u001b');
    const json = memoryIO(stringify(document));
    expect(await runCli(['simulate', '-', '--by', 'region', '--json'], json.io)).toBe(0);
    expect((JSON.parse(json.stdout()) as SimResult).by_label!.values[0]!.value).toBe('east\u001b[2J');
  });
});
