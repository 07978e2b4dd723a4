import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../src/cli/program.js';
import { runScenario, ScenarioRunError } from '../src/sim/run.js';
import { loadScenario, type Scenario } from '../src/sim/scenario.js';
import { formatTrace, ALL_TRACE_FIELDS, traceWriter, type TraceEvent } from '../src/sim/trace.js';
import { memoryIO, REPO, tempDir } from './cli-harness.js';

async function scenarioFile(file: string): Promise<Scenario> {
  const load = await loadScenario(await readFile(join(REPO, file)), join(REPO, file), async (path) => ({ ok: true, bytes: await readFile(path) }));
  if (!load.ok) throw new Error(JSON.stringify(load.errors));
  return load.scenario;
}

/** A scenario written inline (JobSpecs inline too). */
async function scenarioOf(document: Record<string, unknown>): Promise<Scenario> {
  const load = await loadScenario(stringify(document), 'inline.yaml', async () => ({ ok: false, message: 'no files here' }));
  if (!load.ok) throw new Error(JSON.stringify(load.errors));
  return load.scenario;
}

const fleetOf = (count: number) => ({ groups: [{ count, prefix: 'edge-', labels: { env: 'production' } }] });

function job(deployment: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { name: 'api', type: 'pipeline', selector: { match_labels: { env: 'production' } }, deployment, ...extra };
}

const HEALTH = { deadline: '2m', min_healthy_time: '30s' };
const ROLLING = job({ strategy: 'rolling', max_parallel: 3, health_check: HEALTH });
const CANARY = job({ strategy: 'canary', canary_count: 2, max_parallel: 2, health_check: HEALTH });
const V1 = job({ strategy: 'rolling', max_parallel: 3, health_check: HEALTH }, { labels: { version: '1' } });

function trace(scenario: Scenario, seed?: number): string {
  return formatTrace(runScenario(scenario, { trace: true, ...(seed === undefined ? {} : { seed }) }).trace!);
}

describe('§8 trace', () => {
  it('§9 the same seed gives the same trace, byte for byte', async () => {
    const scenario = await scenarioFile('simulations/flaky-region.yaml');
    const first = trace(scenario);
    expect(trace(scenario)).toBe(first);
    expect(trace(structuredClone(scenario))).toBe(first);
    expect(trace(scenario, scenario.seed + 1)).not.toBe(first);
  });

  it('§8 one JSON object a line, in time order, t/type/deployment first, then exactly the fields of its type', async () => {
    const scenario = await scenarioFile('simulations/bad-version-rollback.yaml');
    const lines = trace(scenario).split('\n');
    expect(lines.pop()).toBe('');
    let last = 0;
    const types = new Set<string>();
    for (const line of lines) {
      const event = JSON.parse(line) as TraceEvent;
      types.add(event.type);
      expect(event.t).toBeGreaterThanOrEqual(last);
      last = event.t;
      const fields = ALL_TRACE_FIELDS[event.type].filter((field) => field in event || !['reason', 'node'].includes(field));
      expect(Object.keys(event)).toEqual(['t', 'type', 'deployment', ...fields]);
    }
    expect([...types].sort()).toEqual(['deployment.created', 'deployment.state', 'node.failed', 'node.reverted', 'node.reverting', 'node.stable', 'node.started']);
    expect(JSON.parse(lines[0]!)).toEqual({
      t: 0,
      type: 'deployment.created',
      deployment: 'production/log-processor#2',
      job: 'production/log-processor',
      kind: 'update',
      from_version: 1,
      to_version: 2,
      strategy: 'rolling',
      targeted: 2400,
      canaries: 0,
    });
  });

  it('§9 previous is in place at time 0 and stays out of the trace; without it the job is created', async () => {
    const withPrevious = await scenarioOf({ fleet: fleetOf(4), previous: V1, job: ROLLING });
    const events = runScenario(withPrevious, { trace: true }).trace!;
    expect(new Set(events.map((event) => event.deployment))).toEqual(new Set(['default/api#2']));

    const created = runScenario(await scenarioOf({ fleet: fleetOf(4), job: ROLLING }), { trace: true });
    expect(created.trace![0]).toMatchObject({ type: 'deployment.created', kind: 'create', from_version: null, to_version: 1 });
    expect(created.result).toMatchObject({ kind: 'create', outcome: 'completed' });
  });

  it('§8 --trace FILE writes exactly the trace of the run --json describes', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const memory = memoryIO();
      const file = join(dir, 'trace.jsonl');
      const code = await runCli(['simulate', 'simulations/manual-promotion.yaml', '--json', '--trace', file, '--seed', '3'], memory.io);
      expect(code, memory.stderr()).toBe(0);
      const scenario = await scenarioFile('simulations/manual-promotion.yaml');
      expect(readFileSync(file, 'utf8')).toBe(trace(scenario, 3));
      expect(JSON.parse(memory.stdout())).toEqual({ format: 1, ...runScenario(scenario, { seed: 3 }).result });
    } finally {
      cleanup();
    }
  });
});

describe('§8 trace streamed as the run goes', () => {
  it('§8 a sink receives, in order, exactly the events trace: true records', async () => {
    const scenario = await scenarioFile('simulations/bad-version-rollback.yaml');
    const streamed: TraceEvent[] = [];
    const { trace: kept } = runScenario(scenario, { seed: 4, trace: (event) => streamed.push(event) });
    expect(kept).toBeNull();
    expect(streamed).toEqual(runScenario(scenario, { seed: 4, trace: true }).trace);
  });

  it('§8 the batched writer gives the bytes of the whole trace formatted at once, in bounded writes', async () => {
    const scenario = await scenarioFile('simulations/rolling-production.yaml');
    const writes: string[] = [];
    const writer = traceWriter((text) => writes.push(text));
    runScenario(scenario, { seed: 2, trace: writer.sink });
    writer.flush();
    expect(writes.length).toBeGreaterThan(1);
    for (const text of writes) expect(text.length).toBeLessThan(64 * 1024 + 1024);
    expect(writes.join('')).toBe(trace(scenario, 2));
  });

  it('§8 --trace FILE streams the bytes of the in-memory trace of a shipped scenario and seed', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const memory = memoryIO();
      const file = join(dir, 'trace.jsonl');
      const code = await runCli(['simulate', 'simulations/flaky-region.yaml', '--json', '--trace', file, '--seed', '11'], memory.io);
      expect(code, memory.stderr()).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(trace(await scenarioFile('simulations/flaky-region.yaml'), 11));
    } finally {
      cleanup();
    }
  });

  it('§8 a trace file that cannot be opened exits 2 naming it, before the run starts', async () => {
    const { dir, cleanup } = tempDir();
    try {
      // This scenario fails once run (previous targets no connected node): only the trace file may be reported.
      const unrunnable = { fleet: { nodes: [{ id: 'edge-1', labels: { env: 'production' }, connected: false }] }, previous: V1, job: ROLLING };
      writeFileSync(join(dir, 'sim.yaml'), stringify(unrunnable));
      mkdirSync(join(dir, 'taken.jsonl'));
      for (const [file, code] of [
        ['missing/trace.jsonl', 'ENOENT'],
        ['taken.jsonl', 'EISDIR'],
      ]) {
        const memory = memoryIO('', {}, dir);
        expect(await runCli(['simulate', 'sim.yaml', '--json', '--trace', file!], memory.io)).toBe(2);
        expect(memory.stderr()).toBe(`${file}: cannot write the trace: ${code}\n`);
        expect(memory.stdout()).toBe('');
      }
    } finally {
      cleanup();
    }
  });
});

describe('§8 result of one run', () => {
  it('§8 the fields of simulate --json, with seed (the CLI adds format)', async () => {
    const { result } = runScenario(await scenarioFile('simulations/rolling-production.yaml'), { seed: 5 });
    expect(Object.keys(result)).toEqual(
      expect.arrayContaining(['seed', 'outcome', 'duration_s', 'targeted', 'stable', 'failed', 'reverted', 'revert_failed', 'untouched', 'max_in_flight', 'exposed', 'time_to_detect_s', 'time_to_rollback_s']),
    );
    expect(result).toMatchObject({ seed: 5, targeted: 2400, exposed: 2400, untouched: 0, max_in_flight: 48, time_to_detect_s: null, time_to_rollback_s: null });
    expect(result.stable + result.failed).toBe(2400);
  });

  it('§9 the run stops at the horizon; the outcome is the state then and the duration runs to it', async () => {
    const { result } = runScenario(await scenarioOf({ fleet: fleetOf(30), horizon: '2m', job: ROLLING }));
    expect(result).toMatchObject({ outcome: 'in_progress', ended_by: 'horizon', duration_s: 120, end_s: 120 });
    expect(result.exposed + result.untouched).toBe(30);
  });

  it('§9 a canary waiting for promotion with no event left ends the run', async () => {
    const { result } = runScenario(await scenarioOf({ fleet: fleetOf(6), job: CANARY, behavior: { start_delay: '5s' } }));
    // Two canaries: started at 0, first report at 5 s, stable 30 s later.
    expect(result).toMatchObject({ outcome: 'awaiting_promotion', ended_by: 'settled', duration_s: 35, exposed: 2, untouched: 4 });
  });

  it('§7 a promote outside awaiting_promotion is refused and recorded; the run goes on', async () => {
    const scenario = await scenarioOf({
      fleet: fleetOf(6),
      job: CANARY,
      behavior: { start_delay: '5s' },
      events: [
        { at: '10s', promote: true },
        { at: '1m', promote: true },
      ],
    });
    const { result } = runScenario(scenario);
    expect(result.refused).toEqual([{ t: 10, action: 'promote', message: expect.stringContaining('awaiting_promotion') }]);
    expect(result.phases.map((phase) => phase.phase)).toEqual(['in_progress', 'awaiting_promotion', 'promoted', 'in_progress', 'completed']);
    expect(result.outcome).toBe('completed');
  });

  it('§6 a failing version rolls back: time to detect and time to roll back', async () => {
    const scenario = await scenarioOf({
      fleet: fleetOf(10),
      previous: V1,
      job: job({ strategy: 'rolling', max_parallel: 2, max_failed_nodes: 0, health_check: HEALTH }),
      behavior: { start_delay: '5s', crash_probability: 1 },
    });
    const { result } = runScenario(scenario);
    // Both nodes of the first window crash at 5 s; reverts confirm 5 s later.
    expect(result).toMatchObject({ outcome: 'rolled_back', reason: 'failure_rule', time_to_detect_s: 5, time_to_rollback_s: 5, exposed: 2, untouched: 8, reverted: 2 });
  });

  it('§7 pause and resume shift the rollout; disconnected nodes are skipped and rejoin at the end', async () => {
    const scenario = await scenarioOf({
      fleet: fleetOf(6),
      job: job({ strategy: 'rolling', max_parallel: 1, health_check: { deadline: '2m', min_healthy_time: '0s' } }),
      behavior: { start_delay: '10s' },
      events: [
        { at: '5s', pause: true },
        { at: '1m', resume: true },
        { at: '0s', disconnect: ['edge-003'] },
        { at: '5m', connect: ['edge-003'] },
      ],
    });
    const events = runScenario(scenario, { trace: true }).trace!;
    const started = events.filter((event) => event.type === 'node.started').map((event) => `${event.t}:${String(event.node)}`);
    // edge-001 was updating when paused: judged at 10 s; edge-002 waits for the resume.
    expect(started).toEqual(['0:edge-001', '60:edge-002', '70:edge-004', '80:edge-005', '90:edge-006', '300:edge-003']);
  });

  it('§9 a joining node is started; a submit supersedes the running deployment', async () => {
    const scenario = await scenarioOf({
      fleet: fleetOf(6),
      job: ROLLING,
      behavior: { start_delay: '10s' },
      events: [
        { at: '20s', join: [{ id: 'late-1', labels: { env: 'production' } }] },
        { at: '30s', submit: { ...ROLLING, labels: { version: '3' } } },
      ],
    });
    const { result, trace: events } = runScenario(scenario, { trace: true });
    expect(result).toMatchObject({ outcome: 'canceled', reason: 'superseded', duration_s: 30 });
    const next = events!.filter((event) => event.deployment === 'default/api#2');
    expect(next[0]).toMatchObject({ type: 'deployment.created', kind: 'update', to_version: 2, targeted: 7 });
    expect(next.at(-1)).toMatchObject({ type: 'deployment.state', state: 'completed' });
  });

  it('§7 a pause with no later resume ends the run; an abort rolls back', async () => {
    const paused = runScenario(await scenarioOf({ fleet: fleetOf(9), job: ROLLING, events: [{ at: '15s', pause: true }] })).result;
    expect(paused).toMatchObject({ outcome: 'paused', ended_by: 'settled', end_s: 40, exposed: 3 });

    const aborted = runScenario(await scenarioOf({ fleet: fleetOf(9), previous: V1, job: ROLLING, events: [{ at: '15s', abort: true }] })).result;
    // §8 v1.1: an abort is the operator's decision, not a detection; the 3 nodes updating at 15 s were stopped unjudged.
    expect(aborted).toMatchObject({ outcome: 'rolled_back', reason: 'aborted', time_to_detect_s: null, time_to_fail_s: 15, exposed: 3, stopped: 3, reverted: 3 });
  });

  it('§3 a job that targets no node stays pending until the horizon', async () => {
    const { result } = runScenario(await scenarioOf({ fleet: fleetOf(3), horizon: '1h', job: { ...ROLLING, selector: { match_labels: { env: 'staging' } } } }));
    expect(result).toMatchObject({ outcome: 'pending', ended_by: 'horizon', duration_s: 3600, targeted: 0, exposed: 0 });
  });

  it('§9 previous that targets no connected node cannot be in place', async () => {
    const scenario = await scenarioOf({ fleet: { nodes: [{ id: 'edge-1', labels: { env: 'production' }, connected: false }] }, previous: V1, job: ROLLING });
    expect(() => runScenario(scenario)).toThrow(ScenarioRunError);
  });
});

describe('§9 shipped scenarios', () => {
  const outcome = async (file: string) => runScenario(await scenarioFile(`simulations/${file}`)).result;

  it('§9 every shipped scenario starts with a one-line description and is listed in the README', () => {
    const readme = readFileSync(join(REPO, 'simulations/README.md'), 'utf8');
    for (const file of SHIPPED) {
      expect(readFileSync(join(REPO, 'simulations', file), 'utf8')).toMatch(/^# \S.*\n(?!#)/);
      expect(readme).toContain(`\`${file}\``);
    }
  });

  it('§5 canary-production: 24 canaries, auto-promoted, completes within the failure budget', async () => {
    const result = await outcome('canary-production.yaml');
    expect(result).toMatchObject({ outcome: 'completed', strategy: 'canary', canaries: 24, targeted: 2400, exposed: 2400, max_in_flight: 48 });
    expect(result.phases.map((phase) => phase.phase)).toEqual(['in_progress', 'promoted', 'completed']);
    expect(result.failed).toBeGreaterThan(0);
    expect(result.failed).toBeLessThanOrEqual(20);
  });

  it('§5 rolling-production: a window of 48 completes', async () => {
    expect(await outcome('rolling-production.yaml')).toMatchObject({ outcome: 'completed', strategy: 'rolling', exposed: 2400, max_in_flight: 48 });
  });

  it('§6 bad-version-rollback: the failure rule trips and every exposed node is reverted', async () => {
    const result = await outcome('bad-version-rollback.yaml');
    expect(result).toMatchObject({ outcome: 'rolled_back', reason: 'failure_rule', failed: 21, revert_failed: 0 });
    expect(result.reverted).toBe(result.exposed);
    expect(result.untouched).toBe(2400 - result.exposed);
    // No crashes: the first failures are deadlines, 5 minutes after the first starts.
    expect(result.time_to_detect_s).toBeGreaterThanOrEqual(300);
  });

  it('§9 flaky-region: completes, slower than rolling-production, with failures inside the budget', async () => {
    const flaky = await outcome('flaky-region.yaml');
    const healthy = await outcome('rolling-production.yaml');
    expect(flaky.outcome).toBe('completed');
    expect(flaky.duration_s).toBeGreaterThan(healthy.duration_s * 1.1);
    expect(flaky.failed).toBeGreaterThan(healthy.failed);
    expect(flaky.failed).toBeLessThanOrEqual(20);
  });

  it('§7 manual-promotion: waits in awaiting_promotion until the promote at 20 minutes', async () => {
    const result = await outcome('manual-promotion.yaml');
    expect(result.outcome).toBe('completed');
    expect(result.phases).toContainEqual({ t: 1200, phase: 'promoted', reason: 'operator' });
    expect(result.phases[1]).toMatchObject({ phase: 'awaiting_promotion' });
  });

  it('§7 superseded-mid-rollout: v2 is canceled at 10 minutes; v3 completes', async () => {
    const scenario = await scenarioFile('simulations/superseded-mid-rollout.yaml');
    const { result, trace: events } = runScenario(scenario, { trace: true });
    expect(result).toMatchObject({ outcome: 'canceled', reason: 'superseded', duration_s: 600 });
    expect(events!.at(-1)).toMatchObject({ type: 'deployment.state', deployment: 'production/log-processor#3', state: 'completed' });
  });
});

const SHIPPED = [
  'canary-production.yaml',
  'rolling-production.yaml',
  'bad-version-rollback.yaml',
  'flaky-region.yaml',
  'manual-promotion.yaml',
  'superseded-mid-rollout.yaml',
  'choose-canary.yaml',
];
