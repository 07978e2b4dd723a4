/**
 * `replay RECORDING --policy B.yaml`: a rollout recorded by the real engine
 * in a real SqliteStore (test/fixtures/replay/recordRollout.ts: virtual
 * clock, hand-written agents) is run again from its journal. Under its own
 * policy the replay gives the recorded outcome exactly (§8 figures); under
 * another policy it gives what a direct simulation of that policy, with the
 * same node behaviors, gives (the harness, fleet-rollout/testing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { openEngine, VirtualClock, type DeploymentStatus, type JournalEntry } from '../src/engine/index.js';
import { SqliteStore } from '../src/engine/store/sqliteStore.js';
import type { FleetNode } from '../src/selector/types.js';
import { chooseDeployment, FIGURES, recordedSpec, replayUnder } from '../src/sim/counterfactual.js';
import { playRecording, RecordingError } from '../src/sim/recordingPlayback.js';
import type { SimResult } from '../src/sim/result.js';
import type { JobSpec } from '../src/spec/types.js';
import { validateJobSpec } from '../src/spec/index.js';
import { createHarness, rolloutScenarioArb } from '../src/testing/index.js';
import { buildCli, expectCleanFailure, memoryIO, runCompiled, tempDir } from './cli-harness.js';
import { recordRollout, type RecordedBehavior, type RecordingPlan } from './fixtures/replay/recordRollout.js';
import { recordScenario } from './fixtures/replay/recordScenario.js';
import { RecordingExecutor } from './support/engineFixture.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

function spec(raw: Record<string, unknown>): JobSpec {
  const result = validateJobSpec({ name: 'web', type: 'pipeline', ...raw });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

const fleet = (n: number): FleetNode[] => Array.from({ length: n }, (_, i) => ({ id: `edge-${String(i + 1).padStart(2, '0')}`, labels: { region: i % 2 === 0 ? 'west' : 'east' }, connected: true }));

const PREVIOUS = spec({ config: { image: 1 }, deployment: { strategy: 'immediate' } });

/** Ten nodes doing ten different things: slow, flapping, noisy, crashing, silent, reverts that hang or fail. */
const BEHAVIORS: Record<string, RecordedBehavior> = {
  'edge-01': { startDelay: 3, reportInterval: 2, healthSequence: [{ healthy: false, for: 9 }, { healthy: true }] },
  'edge-02': { startDelay: 1, reportInterval: 5, errorRate: 0.08 },
  'edge-03': { startDelay: 2, reportInterval: 2, healthSequence: [{ healthy: true, for: 8 }, { healthy: false, for: 4 }, { healthy: true }] },
  'edge-04': { startDelay: 4, reportInterval: 3 },
  'edge-05': { startDelay: 2, crash: 7, revertDelay: 1 },
  'edge-06': { startDelay: 1, reportInterval: 1, healthSequence: [{ healthy: true, for: 3 }, { healthy: false, for: 1 }, { healthy: true, for: 3 }, { healthy: false, for: 1 }, { healthy: true }] },
  'edge-07': { silent: true, revertDelay: 2 },
  'edge-08': { startDelay: 2, errorRate: 0.3, revert: 'hangs' },
  'edge-09': { startDelay: 5, reportInterval: 4, revertDelay: 6 },
  'edge-10': { crash: 'at_start', startDelay: 3, revert: 'fails' },
};

function record(name: string, plan: Omit<RecordingPlan, 'file'>): { file: string; status: DeploymentStatus } {
  const file = join(temp.dir, `${name}.db`);
  return { file, status: recordRollout({ ...plan, file }) };
}

async function replay(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO();
  const code = await runCli(['replay', ...args], io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

async function replayJson(...args: string[]): Promise<Record<string, any>> {
  const run = await replay(...args, '--json');
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Record<string, any>;
}

function policyFile(name: string, document: Record<string, unknown>): string {
  return temp.file(`${name}.json`, JSON.stringify(document));
}

/** What the engine itself said about the recorded deployment, in the §8 figures' terms. */
function fromStatus(status: DeploymentStatus) {
  const seconds = (ms: number) => ms / 1000;
  return {
    outcome: status.state,
    reason: status.reason,
    duration_s: seconds(status.ended_at! - status.created_at),
    targeted: status.targeted,
    untouched: status.counts.untouched,
    reverted: status.counts.reverted,
    revert_failed: status.counts.revert_failed,
    max_in_flight: status.max_in_flight,
    time_to_detect_s: status.failed_at === null ? null : seconds(status.failed_at - status.created_at),
    time_to_rollback_s: status.failed_at === null || status.state !== 'rolled_back' ? null : seconds(status.ended_at! - status.failed_at),
  };
}

describe('§8 replay under the recording\'s own policy reproduces the recorded outcome exactly', () => {
  const canary = spec({ config: { image: 2 }, deployment: { strategy: 'canary', canary_count: 4, auto_promote: true, max_parallel: 3, max_failed_nodes: 1, health_check: { deadline: '40s', min_healthy_time: '6s', max_error_rate: 0.1 } } });

  it.each([
    ['reverts that hang and fail', BEHAVIORS],
    // Without a hanging revert the rollback ends with the last revert's own delay.
    ['reverts that come back after their own delays', { ...BEHAVIORS, 'edge-08': { startDelay: 2, errorRate: 0.3, revertDelay: 7 } }],
  ])('§6 a canary that fails and rolls back (crash, silence, noisy error rates, %s)', async (name, behaviors) => {
    const { file, status } = record(`canary-rollback-${name.split(' ')[3]}`, { nodes: fleet(10), previous: PREVIOUS, spec: canary, behaviors });
    expect(status.state).toBe('rolled_back');
    const out = await replayJson(file, '--policy', policyFile('same', { strategy: 'canary' }));
    expect(out.recorded).toMatchObject(fromStatus(status));
    expect(out.own_policy.differences).toEqual([]);
    expect(out.own_policy.reproduces_recording).toBe(true);
    for (const key of FIGURES) expect(out.own_policy[key], key).toEqual(out.recorded[key]);
  });

  it('§5 §7 a rolling update with a node that joins, a pause and a resume, every node judged', async () => {
    const own = spec({ config: { image: 2 }, deployment: { strategy: 'rolling', max_parallel: 2, max_failed_nodes: 5, max_failed_nodes_percent: 100, health_check: { deadline: '30s', min_healthy_time: '5s', max_error_rate: 0.1 } } });
    const { file, status } = record('rolling-join', {
      nodes: fleet(9),
      previous: PREVIOUS,
      spec: own,
      behaviors: BEHAVIORS,
      commands: [
        { at: 12, do: 'pause' },
        { at: 30, do: 'resume' },
      ],
      joins: [{ at: 20, node: { id: 'edge-10', labels: { region: 'east' }, connected: true } }],
    });
    expect(status.state).toBe('completed');
    const out = await replayJson(file, '--policy', policyFile('same-rolling', { max_parallel: 2 }));
    expect(out.recorded).toMatchObject(fromStatus(status));
    expect(out.recorded.failed_by_reason).toEqual({ deadline_exceeded: 2, execution_failed: 1 });
    expect(out.own_policy.differences).toEqual([]);
    expect(out.own_policy.behaviors).toEqual({ nodes: 10, observed: 10, drawn: 0, irregular: 0 });
  });
});

describe('§8 a rollout recorded on a real clock (examples/orchestrator.ts, its journal kept in test/fixtures/replay)', () => {
  it('§4 every figure is reproduced; the duration to within the ms the recording\'s timers fired late', async () => {
    const file = join(temp.dir, 'orchestrator.db');
    const store = new SqliteStore(file, { synchronous: 'normal' });
    for (const line of readFileSync(new URL('./fixtures/replay/orchestrator-journal.jsonl', import.meta.url), 'utf8').trim().split('\n')) store.append(JSON.parse(line) as JournalEntry);
    store.close();
    const out = await replayJson(file, '--policy', policyFile('window-10', { strategy: 'rolling', max_parallel: 10 }));
    expect(out.recorded).toMatchObject({ outcome: 'completed', targeted: 20, canaries: 4, exposed: 20, stable: 20, max_in_flight: 4 });
    // Real agents report every ~250 ms with jitter: the grid is fine enough for every change of health to come at its recorded ms.
    expect(out.own_policy.behaviors).toEqual({ nodes: 20, observed: 20, drawn: 0, irregular: 0 });
    const timers = out.recorded_timers;
    expect(timers.late).toBeGreaterThan(0);
    for (const key of FIGURES.filter((k) => k !== 'duration_s')) expect(out.own_policy[key], key).toEqual(out.recorded[key]);
    expect(Math.abs(out.own_policy.duration_s - out.recorded.duration_s)).toBeLessThanOrEqual((timers.late * timers.max_late_ms) / 1000);
    expect(out.counterfactual).toMatchObject({ outcome: 'completed', exposed: 20, stable: 20, max_in_flight: 10 });
    expect(out.counterfactual.duration_s).toBeLessThan(out.recorded.duration_s);
  });
});

describe('§8 property: a recorded rollout replayed under its own policy should always give the recorded outcome', () => {
  it('§4 §5 §6 §7 over generated fleets, policies, node behaviors and operator and fleet events', () => {
    const outcomes: Record<string, number> = {};
    fc.assert(
      fc.property(rolloutScenarioArb({ maxNodes: 6, kinds: ['pause', 'resume', 'promote', 'abort', 'submit', 'disconnect', 'connect', 'join'] }), (scenario) => {
        const { history, deployment } = recordScenario(scenario);
        const recording = playRecording(history);
        const recorded = chooseDeployment(recording, { deployment });
        let label = recorded.outcome.outcome as string;
        try {
          const own = replayUnder(recording, recorded, recordedSpec(recorded), { seed: 1, ownPolicy: true });
          const figures = (r: SimResult) => Object.fromEntries(FIGURES.map((key) => [key, r[key]]));
          expect(figures(own.result)).toEqual(figures(recorded.outcome));
          if (own.behaviors.drawn > 0) label += ', some drawn';
        } catch (error) {
          // No node reported anything (nothing targeted, every node silent): nothing to replay, which replay says (bad input).
          if (!(error instanceof RecordingError)) throw error;
          label = 'not replayable: no node reported';
        }
        outcomes[label] = (outcomes[label] ?? 0) + 1;
      }),
      { numRuns: 150 },
    );
    console.log('§8 replay property outcomes:', outcomes);
    for (const outcome of ['completed', 'rolled_back', 'canceled']) expect(Object.keys(outcomes).some((label) => label.startsWith(outcome)), outcome).toBe(true);
  });

  it('§7 a deployment that completes in the instant it is created is not its own rollback target (found by the property, seed -1310406604)', () => {
    const scenario = JSON.parse(
      '{"seed":0,"nodes":[{"id":"n-00","labels":{"region":"us-west","tier":"b"},"connected":true},{"id":"n-01","labels":{"region":"us-west","tier":"a"},"connected":true},{"id":"n-02","labels":{"region":"eu-west","tier":"b"},"connected":true},{"id":"n-03","labels":{"region":"us-east","tier":"a"},"connected":true}],"previous":false,"spec":{"name":"app","type":"pipeline","selector":{"match_expressions":["region=us-east"]}},"behaviors":{"n-03":{"startDelay":0}},"events":[]}',
    ) as Parameters<typeof recordScenario>[0];
    const { history, deployment } = recordScenario(scenario);
    const recording = playRecording(history);
    const recorded = chooseDeployment(recording, { deployment });
    expect(recorded.completedVersion).toBeNull();
    const own = replayUnder(recording, recorded, recordedSpec(recorded), { seed: 1, ownPolicy: true });
    const figures = (r: SimResult) => Object.fromEntries(FIGURES.map((key) => [key, r[key]]));
    expect(figures(own.result)).toEqual(figures(recorded.outcome));
  });
});

/**
 * A direct simulation of `policy` in the harness: the same fleet, the
 * previous version in place, every node scripted with the behavior the
 * recorder played. The recording below has no rollback, so it never saw a
 * revert: the replay then assumes each comes back after the node's start
 * delay (a silent node's reports nothing, as the harness's silent nodes do),
 * and the direct simulation leaves the revert fields at the harness's
 * defaults too.
 */
function directSimulation(nodes: FleetNode[], policy: JobSpec, recorded: Record<string, RecordedBehavior>) {
  const h = createHarness({ nodes: nodes.map((n) => ({ id: n.id, labels: n.labels })) });
  h.submit(PREVIOUS);
  h.settle();
  for (const [id, { revert: _revert, revertDelay: _delay, ...fields }] of Object.entries(recorded)) h.health.forVersion(2).node(id).behaves(fields);
  const { deployment } = h.submit(policy);
  h.settle();
  const status = h.deployment(deployment!);
  const mine = h.trace.filter((e) => e.deployment === deployment);
  const failed: Record<string, number> = {};
  for (const e of mine) if (e.type === 'node.failed') failed[e.reason as string] = (failed[e.reason as string] ?? 0) + 1;
  return {
    ...fromStatus(status),
    exposed: new Set(mine.filter((e) => e.type === 'node.started').map((e) => e.node)).size,
    stable: mine.filter((e) => e.type === 'node.stable').length,
    failed: mine.filter((e) => e.type === 'node.failed').length,
    failed_by_reason: Object.fromEntries(Object.entries(failed).sort(([a], [b]) => a.localeCompare(b))),
  };
}

describe('§8 replay under another policy gives the figures of a direct simulation of it with the same behaviors', () => {
  const own = spec({ config: { image: 2 }, deployment: { strategy: 'rolling', max_parallel: 2, max_failed_nodes: 8, max_failed_nodes_percent: 100, health_check: { deadline: '40s', min_healthy_time: '6s', max_error_rate: 0.1 } } });
  let file: string;
  beforeAll(() => {
    file = record('rolling-all', { nodes: fleet(10), previous: PREVIOUS, spec: own, behaviors: BEHAVIORS }).file;
  });

  const policies: Array<[string, Record<string, unknown>]> = [
    ['a canary of 3 that fails on the stricter error rate and rolls back', { strategy: 'canary', canary_count: 3, auto_promote: true, max_parallel: 3, max_failed_nodes: 0, health_check: { deadline: '40s', min_healthy_time: '6s', max_error_rate: 0.05 } }],
    ['a wide rolling window with a longer streak, tolerant of failures', { strategy: 'rolling', max_parallel: 5, max_failed_nodes: 9, max_failed_nodes_percent: 100, health_check: { deadline: '60s', min_healthy_time: '15s', max_error_rate: 0.5 } }],
    // A whole JobSpec: the silent node never starts, so only the total timeout ends an immediate rollout.
    ['immediate, health checks ignored, with a total timeout', { name: 'web', type: 'pipeline', config: { image: 2 }, deployment: { strategy: 'immediate', max_failed_nodes: 9, max_failed_nodes_percent: 100 }, timeouts: { total_timeout: 600 } }],
  ];

  it.each(policies)('§5 %s', async (name, document) => {
    const out = await replayJson(file, '--policy', policyFile(name.split(' ')[0]!, document));
    expect(out.behaviors.drawn).toBe(0);
    const policy = 'deployment' in document ? spec(document) : spec({ config: { image: 2 }, deployment: document });
    const direct = directSimulation(fleet(10), policy, BEHAVIORS);
    expect(out.counterfactual).toMatchObject(direct);
  });
});

describe('§8 nodes the recording never started get a behavior drawn from those it did', () => {
  it('§6 a canary stopped by its first crash leaves nodes untouched; under a rolling policy they behave as drawn', async () => {
    const own = spec({ config: { image: 2 }, deployment: { strategy: 'canary', canary_count: 3, max_parallel: 3, max_failed_nodes: 0, health_check: { deadline: '20s', min_healthy_time: '5s', max_error_rate: 0.1 } } });
    // Every canary fails to start at the same instant (each report is journaled): every behavior to draw from crashes too.
    const crashing = Object.fromEntries(fleet(12).map((n) => [n.id, { startDelay: 2, crash: 'at_start' as const }]));
    const { file, status } = record('canary-crash', { nodes: fleet(12), previous: PREVIOUS, spec: own, behaviors: crashing });
    expect(status.counts.untouched).toBe(9);
    expect(status.state).toBe('rolled_back');
    const policy = policyFile('rolling-tolerant', { strategy: 'rolling', max_parallel: 4, max_failed_nodes: 12, max_failed_nodes_percent: 100 });
    const out = await replayJson(file, '--policy', policy, '--seed', '7');
    // edge-01 reported its crash; edge-02 and edge-03 were reverted at that instant, before they reported: drawn too.
    expect(out.behaviors).toEqual({ nodes: 12, observed: 1, drawn: 11, irregular: 0 });
    expect(out.counterfactual).toMatchObject({ exposed: 12, failed: 12, failed_by_reason: { execution_failed: 12 } });
    const text = await replay(file, '--policy', policy, '--seed', '7');
    expect(text.stdout).toContain('11 drawn (seed 7) from the behaviors of 1 recorded node');
    // Seeded: the same seed gives the same replay.
    expect(await replayJson(file, '--policy', policy, '--seed', '7')).toEqual(out);
  });
});

describe('§8 replay says what a scenario cannot play', () => {
  it('§7 a node removed mid-rollout is listed as not replayed, and the own-policy check shows what that changes', async () => {
    const own = spec({ config: { image: 2 }, deployment: { strategy: 'rolling', max_parallel: 2, health_check: { deadline: '30s', min_healthy_time: '5s' } } });
    const { file } = record('removal', { nodes: fleet(4), previous: PREVIOUS, spec: own, behaviors: {}, removals: [{ at: 3, node: 'edge-02' }] });
    const policy = policyFile('same-removal', { max_parallel: 2 });
    const out = await replayJson(file, '--policy', policy);
    expect(out.not_replayed).toEqual([{ t: 3, what: 'edge-02 removed' }]);
    expect(out.own_policy.reproduces_recording).toBe(false);
    const text = await replay(file, '--policy', policy);
    expect(text.stdout).toContain('Not replayed: edge-02 removed at 3s');
  });
});

describe('§8 replay: bad input exits 2 naming the file and the field, never a stack trace', () => {
  let main: string;
  let good: string;
  beforeAll(() => {
    main = buildCli('cli-replay');
    good = record('good', { nodes: fleet(4), spec: spec({ deployment: { strategy: 'rolling', max_parallel: 2, health_check: { deadline: '30s', min_healthy_time: '5s' } } }), behaviors: {} }).file;
  }, 120_000);

  it('§8 --help lists replay and its options', () => {
    expect(runCompiled(main, ['--help']).stdout).toContain('replay');
    const help = runCompiled(main, ['replay', '--help']);
    for (const option of ['--policy', '--job', '--deployment', '--seed', '--json']) expect(help.stdout).toContain(option);
  });

  it('§8 a missing recording, a text file, a foreign SQLite file, an empty store', () => {
    const policy = policyFile('ok', { max_parallel: 3 });
    expectCleanFailure(runCompiled(main, ['replay', join(temp.dir, 'nope.db'), '--policy', policy]), 2, 'nope.db', 'no such store');
    expectCleanFailure(runCompiled(main, ['replay', temp.file('notes.txt', 'hello\n'), '--policy', policy]), 2, 'notes.txt', 'not a SQLite database');
    const foreign = join(temp.dir, 'foreign.db');
    new Database(foreign).exec('CREATE TABLE t (x)');
    expectCleanFailure(runCompiled(main, ['replay', foreign, '--policy', policy]), 2, 'foreign.db', 'not a fleet-rollout store');
    const empty = join(temp.dir, 'empty.db');
    new SqliteStore(empty).close();
    expectCleanFailure(runCompiled(main, ['replay', empty, '--policy', policy]), 2, 'empty.db', 'holds no deployment');
  });

  it('§8 a simulator trace: says what replay needs instead', () => {
    const trace = temp.file('trace.jsonl', '{"t":0,"type":"deployment.created","deployment":"default/web#1","job":"default/web"}\n');
    expectCleanFailure(runCompiled(main, ['replay', trace, '--policy', policyFile('ok2', { max_parallel: 3 })]), 2, 'trace.jsonl', 'simulator trace', "what the nodes reported", 'store of the engine');
  });

  it('§8 a store with several jobs needs --job; an unknown job or deployment is named', async () => {
    const file = join(temp.dir, 'two-jobs.db');
    const store = new SqliteStore(file, { synchronous: 'normal' });
    const engine = openEngine({ executor: new RecordingExecutor(), clock: new VirtualClock(1_700_000_000_000), store });
    for (const node of fleet(2)) engine.upsertNode(node);
    engine.submit(spec({ name: 'web', deployment: { strategy: 'immediate' } }));
    engine.submit(spec({ name: 'api', deployment: { strategy: 'immediate' }, selector: { match_labels: { region: 'mars' } } }));
    engine.dispose();
    store.close();
    const policy = policyFile('ok3', { max_parallel: 3 });
    expectCleanFailure(runCompiled(main, ['replay', file, '--policy', policy]), 2, 'two-jobs.db', 'several jobs', 'default/web', 'default/api', '--job NAME');
    expectCleanFailure(runCompiled(main, ['replay', file, '--policy', policy, '--job', 'db']), 2, 'two-jobs.db', 'no deployment of job default/db');
    expectCleanFailure(runCompiled(main, ['replay', file, '--policy', policy, '--deployment', 'x#9']), 2, 'two-jobs.db', 'no deployment x#9');
    // Chosen, a job whose deployment never started a node (its selector matches none) has nothing to replay: said so.
    const chosen = await replay(file, '--policy', policy, '--job', 'api');
    expect(chosen.code).toBe(2);
    expect(chosen.stderr).toContain('two-jobs.db: default/api#1: none of its nodes ran long enough to show what it does');
    // The other job's nodes started and never reported for as long as the recording lasted: silent, and replayed.
    const web = await replayJson(file, '--policy', policy, '--job', 'web');
    expect(web.own_policy.reproduces_recording).toBe(true);
  });

  it('§7a a store the engine compacted on a restart no longer holds the reports: said so, with how to record', async () => {
    const file = join(temp.dir, 'restarted.db');
    const session = (steps: (engine: ReturnType<typeof openEngine>) => void): void => {
      const store = new SqliteStore(file, { synchronous: 'normal' });
      const engine = openEngine({ executor: new RecordingExecutor(), clock: new VirtualClock(1_700_000_000_000), store });
      steps(engine);
      engine.dispose();
      store.close();
    };
    session((engine) => {
      for (const node of fleet(2)) engine.upsertNode(node);
      engine.submit(spec({ config: { image: 1 }, deployment: { strategy: 'immediate' } }));
      for (const node of fleet(2)) engine.reportExecution({ node: node.id, job: 'default/web', version: 1, status: 'started' }); // v1 completes
    });
    session(() => {}); // reopening compacts the journal into a snapshot
    const policy = policyFile('ok4', { max_parallel: 3 });
    const gone = await replay(file, '--policy', policy);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('restarted.db: holds default/web#1 only in its snapshot');
    expect(gone.stderr).toContain('{ archive: true }');
    // A version submitted after the restart is in the journal, but the completed one it would roll back to is only in the snapshot.
    session((engine) => void engine.submit(spec({ config: { image: 2 }, deployment: { strategy: 'immediate' } })));
    const previous = await replay(file, '--policy', policy);
    expect(previous.code).toBe(2);
    expect(previous.stderr).toContain('does not hold the spec of default/web v1, the version default/web#2 would roll back to');
  });

  it('§7a a store opened with { archive: true } keeps what compaction covers: the same rollout, compacted on restarts and every few inputs, replays as if never compacted', async () => {
    // `restarts`: each part in a process of its own (the engine compacts on every recovery), else all in one.
    const run = (file: string, storeOptions: { archive?: boolean }, engineOptions: { compactEvery?: number }, restarts: boolean) => {
      const parts: Array<(engine: ReturnType<typeof openEngine>) => void> = [];
      const session = (steps: (engine: ReturnType<typeof openEngine>) => void): void => void parts.push(steps);
      const play = (steps: Array<(engine: ReturnType<typeof openEngine>) => void>): void => {
        const store = new SqliteStore(file, { synchronous: 'normal', ...storeOptions });
        const engine = openEngine({ executor: new RecordingExecutor(), clock: new VirtualClock(1_700_000_000_000), store }, { heartbeatMs: 0, ...engineOptions });
        for (const step of steps) step(engine);
        engine.dispose();
        store.close();
      };
      const report = (engine: ReturnType<typeof openEngine>, node: string, healthy: boolean) => engine.reportHealth({ node, job: 'default/web', version: 1, healthy });
      session((engine) => {
        for (const node of fleet(4)) engine.upsertNode(node);
        engine.submit(spec({ deployment: { strategy: 'rolling', max_parallel: 2, health_check: { deadline: '10m', min_healthy_time: '0s', max_error_rate: 0.1 } } }));
        for (const node of ['edge-01', 'edge-02']) engine.reportExecution({ node, job: 'default/web', version: 1, status: 'started' });
        report(engine, 'edge-01', true);
      });
      // A restart (the engine compacts on recovery) between the nodes' reports.
      session((engine) => {
        report(engine, 'edge-02', false);
        report(engine, 'edge-02', true);
      });
      session((engine) => {
        for (const node of ['edge-03', 'edge-04']) engine.reportExecution({ node, job: 'default/web', version: 1, status: 'started' });
        report(engine, 'edge-03', true);
        report(engine, 'edge-04', true);
      });
      if (restarts) for (const part of parts) play([part]);
      else play(parts);
    };
    const whole = join(temp.dir, 'whole.db');
    const archived = join(temp.dir, 'archived.db');
    run(whole, {}, { compactEvery: Number.MAX_SAFE_INTEGER }, false);
    run(archived, { archive: true }, { compactEvery: 3 }, true);
    const policy = policyFile('ok-archive', { max_parallel: 4 });
    const fromWhole = await replayJson(whole, '--policy', policy);
    const fromArchive = await replayJson(archived, '--policy', policy);
    expect(fromArchive.own_policy.reproduces_recording).toBe(true);
    expect({ ...fromArchive, recording: null }).toEqual({ ...fromWhole, recording: null });
  });

  it('§2 an invalid B.yaml names its file and field; a missing one, a policy of another job', () => {
    const bad = temp.file('bad.yaml', 'strategy: rolling\nhealth_check: { deadline: soon }\n');
    expectCleanFailure(runCompiled(main, ['replay', good, '--policy', bad]), 2, 'bad.yaml', 'health_check.deadline');
    expectCleanFailure(runCompiled(main, ['replay', good, '--policy', join(temp.dir, 'absent.yaml')]), 2, 'absent.yaml', 'no such file');
    const other = temp.file('other.yaml', 'name: api\ntype: pipeline\n');
    expectCleanFailure(runCompiled(main, ['replay', good, '--policy', other]), 2, 'other.yaml', 'name', 'the recording rolls out "default/web"');
    expectCleanFailure(runCompiled(main, ['replay', good]), 2, '--policy');
  });

  it('§8 the text output puts both outcomes side by side', () => {
    const run = runCompiled(main, ['replay', good, '--policy', policyFile('wide', { max_parallel: 4 })]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/recorded\s+replayed under .*wide\.json/);
    for (const row of ['outcome', 'duration', 'exposed', 'detected after']) expect(run.stdout).toContain(row);
    expect(run.stdout).toContain('reproduces the recorded outcome exactly');
  });
});
