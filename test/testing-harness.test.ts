/**
 * The harness's own tests (fleet-rollout/testing): scripted behaviors reach
 * the engine as reports at the scripted times, time and assertions work as
 * documented, restart is exact, and each invariant catches a trace that
 * breaks its rule (and passes one that keeps it).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DeploymentStatus } from '../src/engine/types.js';
import type { TraceEvent } from '../src/sim/trace.js';
import type { JobSpec } from '../src/spec/types.js';
import { validateJobSpec } from '../src/spec/validate.js';
import {
  canaryGroupHasContractSize,
  checkInvariants,
  createHarness,
  everyDeploymentEndsOrWaits,
  failureRuleFiresAtFirstBreak,
  HarnessTimeoutError,
  InvalidJobSpecError,
  noStartAfterFailure,
  rollbackRevertsEveryExposedNode,
  supersededLeavesNoOrphans,
  TraceAssertionError,
  windowNeverExceedsMaxParallel,
  type RolloutRecord,
} from '../src/testing/index.js';

const ROLLING = {
  deployment: { strategy: 'rolling', max_parallel: 1, health_check: { deadline: '1m', min_healthy_time: '10s' } },
};

function fleet(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `edge-${i + 1}`);
}

describe('harness: scripted health reaches the real engine', () => {
  it('§4 a node that turns healthy after 10s is stable min_healthy_time after its first passing report', () => {
    const h = createHarness({ nodes: ['edge-1'], behavior: { startDelay: 2, reportInterval: 5 } });
    h.health.node('edge-1').healthyAfter('10s');
    h.submit(ROLLING);
    h.advanceUntil('completed', { limit: '5m' });
    // Reports at 2, 7, 12 ...: the first passing one is at 12 s, stable 10 s later.
    const [stable] = h.expectTrace({ type: 'node.stable', node: 'edge-1' });
    expect(stable!.t).toBe(22);
  });

  it('§4 a node whose reports never pass fails at its deadline (deadline_exceeded)', () => {
    const h = createHarness({ nodes: fleet(3) });
    h.health.node('edge-2').unhealthy();
    h.submit(ROLLING);
    h.advanceUntil(['failed', 'completed'], { limit: '10m' });
    const [failed] = h.expectTrace({ type: 'node.failed', node: 'edge-2', reason: 'deadline_exceeded' });
    const [started] = h.expectTrace({ type: 'node.started', node: 'edge-2' });
    expect(failed!.t - started!.t).toBe(60);
  });

  it('§4 a crash is an execution failure, at once', () => {
    const h = createHarness({ nodes: fleet(2) });
    h.health.node('edge-1').crashes();
    h.submit(ROLLING);
    h.advanceUntil('failed', { limit: '10m' });
    h.expectTrace({ type: 'node.started', node: 'edge-1', t: 0 }, { type: 'node.failed', node: 'edge-1', reason: 'execution_failed', t: 2 });
  });

  it('§4 an error rate above max_error_rate is not passing', () => {
    const h = createHarness({ nodes: ['edge-1'] });
    h.health.node('edge-1').errorRate(0.2);
    h.submit({ deployment: { strategy: 'rolling', health_check: { deadline: '1m', min_healthy_time: '0s', max_error_rate: 0.1 } } });
    h.advanceUntil('failed', { limit: '5m' });
    h.expectTrace({ type: 'node.failed', node: 'edge-1', reason: 'deadline_exceeded' });
  });

  it('§3 behaviors by selector apply to matching nodes only', () => {
    const h = createHarness({
      nodes: [
        { id: 'a', labels: { region: 'us-east' } },
        { id: 'b', labels: { region: 'us-west' } },
      ],
    });
    h.health.matching({ match_expressions: ['region=us-east'] }).unhealthy();
    h.submit({ deployment: { strategy: 'rolling', max_parallel: 0, max_failed_nodes: 5, max_failed_nodes_percent: 100, health_check: { deadline: '1m', min_healthy_time: '0s' } } });
    h.advanceUntil('completed', { limit: '5m' });
    expect(h.traceOf({ type: 'node.failed' }).map((e) => e.node)).toEqual(['a']);
    expect(h.traceOf({ type: 'node.stable' }).map((e) => e.node)).toEqual(['b']);
  });

  it('§4 trouble after stability is degraded, not a failure', () => {
    const h = createHarness({ nodes: ['edge-1'] });
    h.health.node('edge-1').failsAt('30s');
    h.submit({ deployment: { strategy: 'rolling', health_check: { deadline: '1m', min_healthy_time: '5s' } } });
    h.advance('2m');
    expect(h.state()).toBe('completed');
    expect(h.deployment().counts.degraded).toBe(1);
    h.expectNoTrace({ type: 'node.failed' });
  });

  it('§6 scripting for one version leaves the others healthy; a revert that hangs is revert_failed', () => {
    const h = createHarness({ nodes: fleet(2) });
    h.submit({ ...ROLLING, config: { release: 1 } });
    h.advanceUntil('completed');
    h.health.forVersion(2).node('edge-1').unhealthy().revertHangs();
    h.submit({ ...ROLLING, config: { release: 2 } });
    h.advanceUntil('rolled_back', { limit: '1h' });
    h.expectTrace({ type: 'node.failed', node: 'edge-1', version: 2 }, { type: 'node.reverting', node: 'edge-1', version: 1 }, { type: 'node.revert_failed', node: 'edge-1', version: 1 });
  });

  it('§4 a disconnected node keeps its deadline; its held status arrives when it reconnects', () => {
    const h = createHarness({ nodes: fleet(1) });
    h.submit({ type: 'query', deployment: { strategy: 'rolling', health_check: { deadline: '1m', min_healthy_time: '0s' } } });
    h.disconnect('edge-1');
    h.advance('30s');
    expect(h.state()).toBe('in_progress');
    h.connect('edge-1');
    expect(h.state()).toBe('completed');
  });

  it('ranged start delays draw from the seed: same seed, same trace; another seed, another trace', () => {
    const run = (seed: number): TraceEvent[] => {
      const h = createHarness({ nodes: fleet(4), seed });
      h.health.all().startsAfter({ min: '1s', max: '30s' });
      h.submit({ ...ROLLING, deployment: { ...ROLLING.deployment, max_parallel: 2 } });
      h.advanceUntil('completed', { limit: '1h' });
      return [...h.trace];
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });
});

describe('harness: time, inputs and assertions', () => {
  it('§2 submit validates a raw object and lists every problem', () => {
    const h = createHarness({ nodes: ['edge-1'] });
    let error: unknown;
    try {
      h.submit({ deployment: { strategy: 'rolling', max_paralel: 2 }, priority: 500 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidJobSpecError);
    const problems = (error as InvalidJobSpecError).problems.map((p) => p.path);
    expect(problems).toEqual(expect.arrayContaining(['priority', 'deployment.max_paralel', 'deployment.health_check']));
    expect((error as Error).message).toContain('did you mean `max_parallel`');
  });

  it('§2 submit accepts YAML text, filling name and type only when missing', () => {
    const h = createHarness({ nodes: ['edge-1'] });
    const result = h.submit('name: web\nnamespace: prod\ntype: query\n');
    expect(result).toMatchObject({ job: 'prod/web', version: 1, unchanged: false });
    expect(h.submit('name: web\nnamespace: prod\ntype: query\n').unchanged).toBe(true);
  });

  it('advanceUntil stops right after the event that made it true', () => {
    const h = createHarness({ nodes: fleet(3) });
    h.submit(ROLLING);
    h.advanceUntil((harness) => harness.traceOf({ type: 'node.stable' }).length === 1);
    // The input that made edge-1 stable also started edge-2; nothing later has happened.
    expect(h.trace.slice(-2)).toMatchObject([{ type: 'node.stable', node: 'edge-1', t: 12 }, { type: 'node.started', node: 'edge-2', t: 12 }]);
    expect(h.now()).toBe(12);
  });

  it('advanceUntil throws with the state and the trace tail when the limit comes first', () => {
    const h = createHarness({ nodes: fleet(2) });
    h.submit({ deployment: { strategy: 'canary', canary_count: 1, health_check: { deadline: '1m', min_healthy_time: '0s' } } });
    expect(() => h.advanceUntil('completed', { limit: '10m' })).toThrow(HarnessTimeoutError);
    expect(() => h.advanceUntil('completed', { limit: '10m' })).toThrow(/awaiting_promotion.*seed=1/s);
  });

  it('expectTrace reports the missing pattern and the trace', () => {
    const h = createHarness({ nodes: fleet(1) });
    h.submit(ROLLING);
    h.advanceUntil('completed');
    expect(() => h.expectTrace({ type: 'node.started' }, { type: 'node.failed' })).toThrow(TraceAssertionError);
    expect(() => h.expectTrace({ type: 'node.failed' })).toThrow(/node\.started/);
  });

  it('§7 operator commands reach the engine; promote outside awaiting_promotion is a clear error', () => {
    const h = createHarness({ nodes: fleet(4) });
    h.submit({ deployment: { strategy: 'canary', canary_count: 1, health_check: { deadline: '1m', min_healthy_time: '0s' } } });
    expect(() => h.promote()).toThrow(/awaiting_promotion/);
    h.advanceUntil('awaiting_promotion');
    h.promote();
    h.pause();
    expect(h.state()).toBe('paused');
    h.resume();
    h.advanceUntil('completed');
    h.expectTrace({ type: 'deployment.promoted', auto: false }, { type: 'deployment.state', state: 'completed' });
  });

  it('restart continues exactly as the engine that crashed would have', () => {
    const play = (restartAt: string | null): TraceEvent[] => {
      const h = createHarness({ nodes: fleet(5), seed: 3 });
      h.health.all().startsAfter({ min: '1s', max: '20s' }).reportsEvery('5s');
      h.health.node('edge-3').unhealthy();
      h.submit({ ...ROLLING, deployment: { ...ROLLING.deployment, max_parallel: 2, max_failed_nodes: 2 } });
      if (restartAt !== null) {
        h.advance(restartAt);
        h.restart();
      }
      h.settle();
      return [...h.trace];
    };
    const reference = play(null);
    for (const at of ['0s', '5s', '33s', '61s', '100s']) expect(play(at)).toEqual(reference);
  });
});

// ---------------------------------------------------------------------------
// The invariants on hand-made traces: each catches the break it names.

function spec(input: Record<string, unknown>): JobSpec {
  const result = validateJobSpec({ name: 'app', type: 'pipeline', ...input });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

function counts(some: Partial<DeploymentStatus['counts']>): DeploymentStatus['counts'] {
  return { pending: 0, updating: 0, stable: 0, failed: 0, degraded: 0, reverting: 0, reverted: 0, revert_failed: 0, untouched: 0, stopped: 0, removed: 0, ...some };
}

const ev = (t: number, type: TraceEvent['type'], fields: Record<string, unknown> = {}, deployment = 'd-1'): TraceEvent => ({ t, type, deployment, ...fields });

function record(trace: TraceEvent[], policy: JobSpec, final: Partial<DeploymentStatus> = {}, extra: Partial<RolloutRecord> = {}): RolloutRecord {
  const created = trace.find((e) => e.type === 'deployment.created');
  const states = trace.filter((e) => e.type === 'deployment.state');
  const status = {
    id: 'd-1',
    state: states[states.length - 1]?.state ?? 'pending',
    targeted: created?.targeted ?? 0,
    counts: counts({}),
    ...final,
  } as DeploymentStatus;
  return { trace, deployments: [status], specs: { 'default/app': { 1: policy, 2: policy } }, settled: true, ...extra };
}

const created = (targeted: number, strategy = 'rolling', canaries = 0, version = 1): TraceEvent =>
  ev(0, 'deployment.created', { job: 'default/app', kind: version === 1 ? 'create' : 'update', from_version: version === 1 ? null : version - 1, to_version: version, strategy, targeted, canaries }, `d-${version}`);

describe('invariants catch the break they name', () => {
  const rolling2 = spec({ deployment: { strategy: 'rolling', max_parallel: 2, max_failed_nodes: 1, max_failed_nodes_percent: 50, health_check: { deadline: '1m' } } });

  it('§5 window: three updating under max_parallel=2', () => {
    const ok = [created(3), ev(0, 'deployment.state', { state: 'in_progress' }), ev(0, 'node.started', { node: 'a' }), ev(0, 'node.started', { node: 'b' }), ev(5, 'node.stable', { node: 'a' }), ev(5, 'node.started', { node: 'c' })];
    expect(windowNeverExceedsMaxParallel(record(ok, rolling2))).toEqual([]);
    const bad = [...ok.slice(0, 4), ev(5, 'node.started', { node: 'c' }), ev(5, 'node.stable', { node: 'a' })];
    expect(windowNeverExceedsMaxParallel(record(bad, rolling2)).map((v) => v.message)).toEqual(['§5 window exceeded max_parallel=2 at t=5: 3 updating (a, b, c) in d-1']);
  });

  it('§6 no node starts after the deployment failed', () => {
    const trace = [created(3), ev(0, 'node.started', { node: 'a' }), ev(3, 'deployment.state', { state: 'failed', reason: 'aborted' }), ev(4, 'node.started', { node: 'b' })];
    expect(noStartAfterFailure(record(trace, rolling2)).map((v) => v.section)).toEqual(['§6']);
  });

  it('§6 failure rule: fires at the first failure that breaks it, not before, not after', () => {
    const base = [created(4), ev(0, 'deployment.state', { state: 'in_progress' }), ev(0, 'node.started', { node: 'a' }), ev(0, 'node.started', { node: 'b' })];
    const exact = [...base, ev(9, 'node.failed', { node: 'a', reason: 'execution_failed' }), ev(10, 'node.failed', { node: 'b', reason: 'execution_failed' }), ev(10, 'deployment.state', { state: 'failed', reason: 'failure_rule' })];
    expect(failureRuleFiresAtFirstBreak(record(exact, rolling2))).toEqual([]);
    const late = [...base, ev(9, 'node.failed', { node: 'a', reason: 'execution_failed' }), ev(10, 'node.failed', { node: 'b', reason: 'execution_failed' }), ev(10, 'node.started', { node: 'c' })];
    expect(failureRuleFiresAtFirstBreak(record(late, rolling2))[0]?.message).toMatch(/^§6 failure rule broken at t=10 by b \(2 failed of 4 targeted/);
    const early = [...base, ev(9, 'node.failed', { node: 'a', reason: 'execution_failed' }), ev(9, 'deployment.state', { state: 'failed', reason: 'failure_rule' })];
    expect(failureRuleFiresAtFirstBreak(record(early, rolling2))[0]?.message).toMatch(/^§6 d-1 failed at t=9 .* with 1 failed nodes, which does not break/);
  });

  it('§5 canary group: wrong size, or a non-canary before promotion', () => {
    const canary = spec({ deployment: { strategy: 'canary', canary_percent: 30, health_check: { deadline: '1m' } } });
    // ceil(5 * 30 / 100) = 2
    const ok = [created(5, 'canary', 2), ev(0, 'node.started', { node: 'a', canary: true }), ev(0, 'node.started', { node: 'b', canary: true })];
    expect(canaryGroupHasContractSize(record(ok, canary))).toEqual([]);
    expect(canaryGroupHasContractSize(record([created(5, 'canary', 1)], canary))[0]?.message).toContain('has 1 nodes, expected 2');
    const early = [...ok, ev(1, 'node.started', { node: 'c', canary: false })];
    expect(canaryGroupHasContractSize(record(early, canary))[0]?.message).toContain('c started at t=1 before d-1 was promoted');
  });

  it('§6 rollback: every exposed node is reverted to the last completed version', () => {
    const v1done = [created(2), ev(0, 'deployment.state', { state: 'completed' })];
    const failing = [
      created(2, 'rolling', 0, 2),
      ev(10, 'node.started', { node: 'a', version: 2 }, 'd-2'),
      ev(10, 'node.started', { node: 'b', version: 2 }, 'd-2'),
      ev(20, 'node.failed', { node: 'a', version: 2, reason: 'execution_failed' }, 'd-2'),
      ev(20, 'deployment.state', { state: 'failed', reason: 'failure_rule' }, 'd-2'),
      ev(20, 'deployment.state', { state: 'rolling_back' }, 'd-2'),
      ev(20, 'node.reverting', { node: 'a', version: 1 }, 'd-2'),
    ];
    const final = { id: 'd-2', state: 'rolled_back' } as Partial<DeploymentStatus>;
    const violations = rollbackRevertsEveryExposedNode(record([...v1done, ...failing, ev(25, 'node.reverted', { node: 'a', version: 1 }, 'd-2')], rolling2, final));
    expect(violations.map((v) => v.message)).toEqual(['§6 rollback of d-2 (failed at t=20) never reverts exposed b']);
  });

  it('§7 every deployment ends or waits: in_progress at the end of a settled run is stuck', () => {
    const stuck = record([created(1), ev(0, 'deployment.state', { state: 'in_progress' })], rolling2, { counts: counts({ updating: 1 }) });
    expect(everyDeploymentEndsOrWaits(stuck).map((v) => v.section)).toEqual(['§7']);
    expect(everyDeploymentEndsOrWaits({ ...stuck, settled: false })).toEqual([]);
  });

  it('§7 superseded: an execution still updating at cancel must be stopped or replaced', () => {
    const trace = [created(1), ev(0, 'node.started', { node: 'a', version: 1 }), ev(5, 'deployment.state', { state: 'canceled', reason: 'superseded' })];
    const start = { t: 0, action: 'start' as const, executionId: 'x1', node: 'a', job: 'default/app', version: 1, deployment: 'd-1', purpose: 'update' as const };
    expect(supersededLeavesNoOrphans(record(trace, rolling2, {}, { executorCalls: [start] }))[0]?.message).toContain('left its executions on a (update to version 1) running');
    const stopped = [start, { t: 5, action: 'stop' as const, executionId: 'x1', node: 'a', job: 'default/app', version: 1 }];
    expect(supersededLeavesNoOrphans(record(trace, rolling2, {}, { executorCalls: stopped }))).toEqual([]);
  });

  it('checkInvariants runs them all and names each violation by section', () => {
    const bad = [created(3), ev(0, 'deployment.state', { state: 'in_progress' }), ev(0, 'node.started', { node: 'a' }), ev(0, 'node.started', { node: 'b' }), ev(0, 'node.started', { node: 'c' })];
    const messages = checkInvariants(record(bad, rolling2, { counts: counts({ updating: 3 }) })).map((v) => v.message);
    expect(messages.some((m) => m.startsWith('§5 window exceeded'))).toBe(true);
    expect(messages.some((m) => m.startsWith('§7'))).toBe(true);
  });
});

describe('docs/testing.md', () => {
  it('§6 the opening snippet does what the page says', () => {
    const h = createHarness({ nodes: ['edge-1', 'edge-2', 'edge-3'] });
    h.health.node('edge-2').unhealthy();
    h.submit({ deployment: { strategy: 'rolling', max_parallel: 1, health_check: { deadline: '1m' } } });
    h.advanceUntil('failed', { limit: '1h' });
    h.expectTrace({ type: 'node.failed', node: 'edge-2', reason: 'deadline_exceeded' });
    h.expectNoTrace({ type: 'node.started', node: 'edge-3' });
  });

  it('shows exactly the code of docs/testing.example.test.ts, which the suite runs', () => {
    const page = readFileSync(new URL('../docs/testing.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../docs/testing.example.test.ts', import.meta.url), 'utf8');
    const code = example.slice(example.indexOf("import fc from 'fast-check';")).replace("from '../src/testing/index.js'", "from 'fleet-rollout/testing'");
    expect(page).toContain(`\`\`\`ts\n${code}\`\`\``);
  });
});
