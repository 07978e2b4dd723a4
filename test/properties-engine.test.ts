/**
 * The engine's safety and liveness rules (contract §5-§7) as properties over
 * random rollouts: random fleets, JobSpecs, node behaviors and schedules of
 * operator and fleet events, each played on the real engine by the harness
 * (fleet-rollout/testing). Each property is a sentence naming its section.
 *
 * Runs: the defaults below add up to a few thousand rollouts; set
 * FLEET_ROLLOUT_PROPERTY_RUNS=N to run every property N times (long local runs).
 * A failure prints fast-check's seed and path (to replay: `{ seed, path }` in
 * fc.assert), the shrunk scenario, and the harness seed with the trace.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandError } from '../src/engine/errors.js';
import type { DeploymentState } from '../src/engine/types.js';
import {
  behaviorArb,
  checkInvariants,
  createHarness,
  describeTrace,
  fleetArb,
  INVARIANTS,
  jobSpecArb,
  rolloutScenarioArb,
  outcomeLabel,
  runRollout,
  type Harness,
  type NodeBehavior,
  type RolloutRun,
  type RolloutScenario,
  type ScenarioArbOptions,
} from '../src/testing/index.js';

const override = Number(process.env.FLEET_ROLLOUT_PROPERTY_RUNS ?? 0);
const runs = (n: number): { numRuns: number } => ({ numRuns: override > 0 ? override : n });

type Rule = keyof typeof INVARIANTS;

/** Plays a scenario and fails with the named rules' violations, the harness seed and the trace. */
function expectRules(run: RolloutRun, rules: readonly Rule[]): void {
  const violations = checkInvariants(run.record, rules);
  if (violations.length === 0) return;
  throw new Error(`${violations.map((v) => v.message).join('\n')}\nharness seed=${run.harness.seed}\n${describeTrace(run.record.trace)}`);
}

/**
 * Plays scenarios, checks the rules, and prints the outcome mix of the runs
 * (as `fc.statistics` would, without playing each scenario twice): a property
 * whose runs never reach `rolled_back` says so there. Returns the counts.
 */
function holds(options: ScenarioArbOptions, rules: readonly Rule[], numRuns: number, tweak: (s: RolloutScenario) => RolloutScenario = (s) => s): Map<string, number> {
  const seen = new Map<string, number>();
  const arb = rolloutScenarioArb(options).map(tweak);
  fc.assert(
    fc.property(arb, (scenario) => {
      const run = runRollout(scenario);
      const label = outcomeLabel(run);
      seen.set(label, (seen.get(label) ?? 0) + 1);
      expectRules(run, rules);
    }),
    runs(numRuns),
  );
  console.log(outcomeMix(rules.join(', '), seen));
  return seen;
}

/** The outcome mix as fc.statistics prints it (label and share of runs), naming outcomes no run reached. */
function outcomeMix(title: string, seen: Map<string, number>): string {
  const total = [...seen.values()].reduce((a, b) => a + b, 0);
  const lines = [...seen].sort((a, b) => b[1] - a[1]).map(([label, n]) => `  ${label.padEnd(22, '.')} ${((100 * n) / total).toFixed(2)}%`);
  const never = ['completed', 'rolled_back', 'failed (no rollback)', 'canceled'].filter((label) => !seen.has(label));
  return `${title} (${total} runs)\n${lines.join('\n')}${never.length === 0 ? '' : `\n  no run reached: ${never.join(', ')}`}`;
}

describe('engine properties (random rollouts on the real engine)', () => {
  it('§5 the window never exceeds max_parallel, and the engine-wide cap bounds all deployments', () => {
    holds({ strategies: ['rolling', 'canary'], maxNodes: 10 }, ['windowNeverExceedsMaxParallel'], 400);
    holds({ strategies: ['rolling', 'canary', 'immediate'], globalCap: true }, ['globalCapHolds'], 200);
  });

  it('§5 immediate starts every targeted node at once', () => {
    holds({ strategies: ['immediate'], kinds: ['join', 'abort', 'submit'] }, ['immediateStartsEveryTarget'], 300);
  });

  it('§6 no node starts after the deployment failed (and none while paused, none after it ended)', () => {
    holds({ maxEvents: 8 }, ['noStartAfterFailure'], 500);
  });

  it('§6 the failure rule fires at exactly the first failure that breaks it', () => {
    holds({ maxNodes: 10, kinds: ['pause', 'resume', 'promote', 'disconnect', 'connect', 'join'] }, ['failureRuleFiresAtFirstBreak'], 500);
  });

  it('§5 the canary group has the contract size and no other node starts before promotion', () => {
    holds({ strategies: ['canary'], maxNodes: 12 }, ['canaryGroupHasContractSize', 'promotionFollowsPolicy'], 400);
  });

  it('§6 a rollback reverts every exposed node to the last completed version', () => {
    const seen = holds({ kinds: ['abort', 'pause', 'resume', 'promote', 'disconnect', 'connect'] }, ['rollbackRevertsEveryExposedNode'], 400, (s) => ({ ...s, previous: true }));
    // The runs reach the case the rule is about.
    expect(seen.get('rolled_back') ?? 0).toBeGreaterThan(0);
  });

  it('§6 v1.1 once a rollback ends, every node that ran a newer version runs the target or is revert_failed', () => {
    // Half the runs get a newer version and then an abort while it rolls out: the supersede-then-fail case.
    const supersedes = fc
      .tuple(
        rolloutScenarioArb({ kinds: ['submit', 'abort', 'pause', 'resume', 'promote', 'disconnect', 'connect', 'join'], maxEvents: 6, strategies: ['rolling', 'canary'], types: ['pipeline', 'update', 'config'], selectors: false }),
        fc.nat(120),
        fc.nat(60),
        fc.boolean(),
      )
      .map(([s, submitS, abortAfterS, forced]): RolloutScenario => {
        const added = forced ? [{ at: submitS * 1000, do: 'submit' as const }, { at: (submitS + abortAfterS) * 1000, do: 'abort' as const }] : [];
        return { ...s, previous: true, events: [...s.events, ...added].sort((a, b) => a.at - b.at) };
      });
    const seen = { supersedeThenRollback: 0, rollback: 0 };
    const kindOf = (run: RolloutRun): string => {
      const trace = run.record.trace;
      const rolledBack = trace.filter((e) => e.type === 'deployment.state' && e.state === 'rolled_back');
      if (rolledBack.length === 0) return 'no rollback';
      const superseded = trace.findIndex((e) => e.type === 'deployment.state' && e.reason === 'superseded');
      const after = superseded >= 0 && rolledBack.some((e) => trace.indexOf(e) > superseded);
      return after ? 'supersede then rollback' : 'rollback';
    };
    const property = fc.property(supersedes, (scenario) => {
      const run = runRollout(scenario);
      const kind = kindOf(run);
      if (kind === 'supersede then rollback') seen.supersedeThenRollback++;
      if (kind === 'rollback') seen.rollback++;
      expectRules(run, ['rollbackRestoresEveryNode', 'rollbackRevertsEveryExposedNode']);
    });
    fc.assert(property, runs(400));
    fc.statistics(supersedes, (s) => kindOf(runRollout(s)), { numRuns: 200 });
    // The runs reach the case the rule is about, not only plain rollbacks.
    expect(seen.supersedeThenRollback).toBeGreaterThan(0);
    expect(seen.rollback).toBeGreaterThan(0);
  });

  it('§7 every deployment ends or waits for an operator (or, under immediate, for reports), and terminal states are final', () => {
    fc.assert(
      fc.property(rolloutScenarioArb({ maxEvents: 8 }), (scenario) => {
        const run = runRollout(scenario);
        expectRules(run, ['everyDeploymentEndsOrWaits', 'terminalStatesAreFinal']);
        expect(run.settled).toBe(true);
        expect(run.record.settled).toBe(run.settled);
      }),
      runs(500),
    );
  });

  it('§7 a superseded deployment leaves no orphaned executions', () => {
    const withNewVersion = rolloutScenarioArb({ kinds: ['submit', 'pause', 'resume', 'abort', 'rollback', 'disconnect', 'connect'] }).filter((s) => s.events.some((e) => e.do === 'submit' || e.do === 'rollback'));
    fc.assert(
      fc.property(withNewVersion, (scenario) => expectRules(runRollout(scenario), ['supersededLeavesNoOrphans'])),
      runs(300),
    );
  });

  it('§9 the same seed gives the same trace, executor calls and final statuses', () => {
    fc.assert(
      fc.property(rolloutScenarioArb(), (scenario) => {
        const first = runRollout(scenario);
        const second = runRollout(scenario);
        expect(second.record.trace).toEqual(first.record.trace);
        expect(second.record.executorCalls).toEqual(first.record.executorCalls);
        expect(second.record.deployments).toEqual(first.record.deployments);
      }),
      runs(200),
    );
  });

  it('crash safety: restoring from a snapshot at any point gives the same continuation', () => {
    const restartPoints = fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(rolloutScenarioArb({ kinds: ['pause', 'resume', 'promote', 'abort', 'submit', 'disconnect', 'connect', 'join'] }), restartPoints, (scenario, restartAt) => {
        const reference = runRollout(scenario, { restartAt, restart: false });
        const restarted = runRollout(scenario, { restartAt });
        expect(restarted.record.trace).toEqual(reference.record.trace);
        expect(restarted.record.deployments).toEqual(reference.record.deployments);
        expect(restarted.refused).toEqual(reference.refused);
      }),
      runs(250),
    );
  });
});

// ---------------------------------------------------------------------------
// Model-based: any interleaving of operator commands and fleet events.

interface Model {
  /** Nodes the model believes disconnected. */
  disconnected: Set<string>;
  joined: number;
  releases: number;
}

interface Real {
  h: Harness;
}

/** After every command: the safety rules hold on the trace so far (liveness waits for the end). */
const SAFETY: readonly Rule[] = ['windowNeverExceedsMaxParallel', 'canaryGroupHasContractSize', 'promotionFollowsPolicy', 'noStartAfterFailure', 'failureRuleFiresAtFirstBreak', 'rollbackRevertsEveryExposedNode', 'terminalStatesAreFinal', 'immediateStartsEveryTarget'];

function checkSafety(h: Harness): void {
  const violations = checkInvariants(h.record(false), SAFETY);
  if (violations.length > 0) throw new Error(`${violations.map((v) => v.message).join('\n')}\n${h.describe()}`);
}

/** A command the engine may refuse; a refusal must be a CommandError, exactly in the states that call for one. Returns whether it was accepted. */
function refusable(h: Harness, act: () => void, refusedWhen: (state: DeploymentState) => boolean): boolean {
  const state = h.state();
  try {
    act();
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    expect(refusedWhen(state), `refused while ${state}: ${error.message}`).toBe(true);
    return false;
  }
  expect(refusedWhen(state), `accepted while ${state}`).toBe(false);
  return true;
}

const LIVE: readonly DeploymentState[] = ['pending', 'in_progress', 'awaiting_promotion'];

class Advance implements fc.Command<Model, Real> {
  constructor(readonly seconds: number) {}
  check = (): boolean => true;
  run(_m: Model, r: Real): void {
    r.h.advance(this.seconds);
    checkSafety(r.h);
  }
  toString = (): string => `advance(${this.seconds}s)`;
}

class Operator implements fc.Command<Model, Real> {
  constructor(readonly command: 'pause' | 'resume' | 'promote' | 'abort') {}
  check = (): boolean => true;
  run(_m: Model, r: Real): void {
    const h = r.h;
    const refusedWhen: Record<typeof this.command, (s: DeploymentState) => boolean> = {
      pause: (s) => !LIVE.includes(s),
      resume: (s) => s !== 'paused',
      // §7: promote only in awaiting_promotion; elsewhere a clear error.
      promote: (s) => s !== 'awaiting_promotion',
      abort: (s) => !LIVE.includes(s) && s !== 'paused',
    };
    const accepted = refusable(h, () => h[this.command](), refusedWhen[this.command]);
    // §7: abort fails the deployment now, then rolls back as in §6.
    if (accepted && this.command === 'abort') expect(['failed', 'rolling_back', 'rolled_back']).toContain(h.state());
    checkSafety(h);
  }
  toString = (): string => this.command;
}

class Rollback implements fc.Command<Model, Real> {
  check = (): boolean => true;
  run(_m: Model, r: Real): void {
    try {
      r.h.rollback();
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
    }
    checkSafety(r.h);
  }
  toString = (): string => 'rollback';
}

class SubmitNewVersion implements fc.Command<Model, Real> {
  constructor(readonly spec: Record<string, unknown>) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const h = r.h;
    const before = h.deployment();
    h.submit({ ...this.spec, config: { release: ++m.releases } });
    // §7: a new version cancels the active deployment (superseded).
    if (LIVE.includes(before.state) || before.state === 'paused' || before.state === 'rolling_back') {
      expect(h.deployment(before.id)).toMatchObject({ state: 'canceled', reason: 'superseded' });
    }
    checkSafety(h);
  }
  toString = (): string => 'submit(new version)';
}

class Disconnect implements fc.Command<Model, Real> {
  constructor(readonly index: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const id = nodeOf(r.h, this.index);
    m.disconnected.add(id);
    r.h.disconnect(id);
    checkSafety(r.h);
  }
  toString = (): string => `disconnect(#${this.index})`;
}

class Connect implements fc.Command<Model, Real> {
  constructor(readonly index: number) {}
  check = (m: Model): boolean => m.disconnected.size > 0;
  run(m: Model, r: Real): void {
    const ids = [...m.disconnected];
    const id = ids[this.index % ids.length]!;
    m.disconnected.delete(id);
    r.h.connect(id);
    checkSafety(r.h);
  }
  toString = (): string => `connect(#${this.index})`;
}

class Join implements fc.Command<Model, Real> {
  constructor(readonly region: string) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    r.h.join({ id: `j-${String(m.joined++).padStart(2, '0')}`, labels: { region: this.region, tier: 'a' } });
    checkSafety(r.h);
  }
  toString = (): string => `join(${this.region})`;
}

class Restart implements fc.Command<Model, Real> {
  check = (): boolean => true;
  run(_m: Model, r: Real): void {
    r.h.restart();
    checkSafety(r.h);
  }
  toString = (): string => 'restart';
}

/** Commands pick nodes by position modulo the fleet, so they stay meaningful when the fleet shrinks. */
function nodeOf(h: Harness, index: number): string {
  const nodes = h.fleetNodes();
  return nodes[index % nodes.length]!.id;
}

describe('engine model-based run (fc.commands)', () => {
  it('§5-§7 any interleaving of operator commands, fleet events and restarts keeps every invariant', () => {
    const spec = jobSpecArb({ maxNodes: 6 });
    const commands = (next: fc.Arbitrary<Record<string, unknown>>) => [
      fc.integer({ min: 1, max: 120 }).map((s) => new Advance(s)),
      fc.constantFrom('pause', 'resume', 'promote', 'abort').map((c) => new Operator(c as 'pause')),
      fc.constant(new Rollback()),
      next.map((s) => new SubmitNewVersion(s)),
      fc.nat(20).map((i) => new Disconnect(i)),
      fc.nat(20).map((i) => new Connect(i)),
      fc.constantFrom('us-east', 'us-west').map((region) => new Join(region)),
      fc.constant(new Restart()),
    ];
    fc.assert(
      fc.property(
        fleetArb({ minNodes: 1, maxNodes: 6 }),
        spec,
        fc.array(behaviorArb(), { maxLength: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.commands(commands(spec), { maxCommands: 30 }),
        (nodes, first, behaviors, seed, cmds) => {
          const h = createHarness({ nodes, seed });
          h.submit({ ...first, deployment: { strategy: 'immediate' }, config: { release: 1 } });
          h.settle({ limit: '1h' });
          behaviors.forEach((behavior: Partial<NodeBehavior>, i) => {
            if (nodes[i] !== undefined) h.health.forVersion(2).node(nodes[i]!.id).behaves(behavior);
          });
          h.submit({ ...first, config: { release: 2 } });
          fc.modelRun(() => ({ model: { disconnected: new Set(nodes.filter((n) => !n.connected).map((n) => n.id)), joined: 0, releases: 2 }, real: { h } }), cmds);
          // Bring every node back so that held reports arrive, then let the run come to rest.
          h.connect(...h.fleetNodes().filter((n) => !n.connected).map((n) => n.id));
          const settled = h.settle({ limit: '48h' });
          const violations = h.checkInvariants(settled);
          if (violations.length > 0) throw new Error(`${violations.map((v) => v.message).join('\n')}\n${h.describe()}`);
        },
      ),
      runs(150),
    );
  });
});

describe('engine decisions the properties rely on', () => {
  it('§4/§7 decided: without total_timeout, an immediate deployment whose node never reports waits for it, and the run says so', () => {
    const h = createHarness({ nodes: ['edge-1'] });
    h.health.node('edge-1').silent();
    h.submit({ type: 'pipeline' });
    expect(h.settle({ limit: '720h' })).toBe(true);
    expect(h.state()).toBe('in_progress');
    expect(h.waiting()).toEqual([expect.stringMatching(/waits for reports from 1 updating node.*immediate has no deadline/)]);
    expect(h.checkInvariants(true)).toEqual([]);
  });
});
