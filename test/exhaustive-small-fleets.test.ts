/**
 * Exhaustive exploration of small fleets (1 to 4 nodes) under every strategy:
 * from a completed version 1, version 2 rolls out and the explorer tries, in
 * every order, every outcome of every node (stable, deadline failure,
 * execution failure, disconnection), every revert outcome, and up to two
 * operator commands (pause, resume, promote, abort, rollback, a new version).
 *
 * The explorer is the engine's executor and clock: a state is the engine's
 * snapshot; each branch restores a fresh engine from it (so every step also
 * exercises `Engine.restore`), applies one action and snapshots again.
 * States are deduplicated by a hash of the snapshot JSON. Every state's trace
 * is checked against the safety invariants, and every state where nothing but
 * an operator can act against the liveness ones.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/engine/clocks/virtualClock.js';
import { CommandError } from '../src/engine/errors.js';
import { createEngine, Engine } from '../src/engine/index.js';
import type { ExecutionRequest, Executor } from '../src/engine/ports.js';
import type { DeploymentStatus, EngineEvents, EngineSnapshot } from '../src/engine/types.js';
import { TRACE_TYPES, traceEvent, type TraceEvent } from '../src/sim/trace.js';
import type { JobSpec } from '../src/spec/types.js';
import { validateJobSpec } from '../src/spec/validate.js';
import { checkInvariants, describeTrace, type ExecutorCall, type RolloutRecord } from '../src/testing/index.js';

const JOB = 'default/app';
/**
 * The bound on operator commands per explored path, chosen to keep the file
 * under ~30 s: each command multiplies the space (one that creates a
 * deployment, `rollback` or a new version, opens a whole new rollout).
 * 1 node: two commands (one may create a deployment); 2 nodes: one command of
 * any kind; 3 nodes: one pause, resume, promote or abort; 4 nodes: node
 * outcomes and a promotion (without which a manual canary goes nowhere).
 */
const MAX_NODES = Number(process.env.EXHAUSTIVE_MAX_NODES ?? 4);

interface CommandBound {
  total: number;
  newDeployments: number;
  operators: ReadonlyArray<'pause' | 'resume' | 'promote' | 'abort'>;
}

const ALL_OPERATORS = ['pause', 'resume', 'promote', 'abort'] as const;

function commandBound(nodes: number): CommandBound {
  if (nodes === 1) return { total: 2, newDeployments: 1, operators: ALL_OPERATORS };
  if (nodes === 2) return { total: 1, newDeployments: 1, operators: ALL_OPERATORS };
  if (nodes === 3) return { total: 1, newDeployments: 0, operators: ALL_OPERATORS };
  return { total: 1, newDeployments: 0, operators: ['promote'] };
}

interface Policy {
  name: string;
  deployment: Record<string, unknown>;
}

const HEALTH = { deadline: '1m', min_healthy_time: '0s' };

/** Every strategy, each with a zero-tolerance and a tolerant failure rule. */
const POLICIES: readonly Policy[] = [
  { name: 'immediate, zero tolerance', deployment: { strategy: 'immediate', max_failed_nodes: 0 } },
  { name: 'immediate, tolerates 1', deployment: { strategy: 'immediate', max_failed_nodes: 1, max_failed_nodes_percent: 100 } },
  { name: 'rolling max_parallel=1, zero tolerance', deployment: { strategy: 'rolling', max_parallel: 1, max_failed_nodes: 0, health_check: HEALTH } },
  { name: 'rolling max_parallel=2, tolerates 1', deployment: { strategy: 'rolling', max_parallel: 2, max_failed_nodes: 1, max_failed_nodes_percent: 100, health_check: HEALTH } },
  { name: 'canary count=1, manual promotion', deployment: { strategy: 'canary', canary_count: 1, max_parallel: 1, max_failed_nodes: 0, health_check: HEALTH } },
  { name: 'canary 50%, auto_promote, tolerates 1 at 50%', deployment: { strategy: 'canary', canary_percent: 50, auto_promote: true, max_parallel: 0, max_failed_nodes: 1, max_failed_nodes_percent: 50, health_check: HEALTH } },
];

function specOf(policy: Policy, release: number): JobSpec {
  const result = validateJobSpec({ name: 'app', type: 'pipeline', deployment: policy.deployment, config: { release } });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

/** One explored state: the engine's snapshot and the history that led to it. */
interface State {
  snapshot: EngineSnapshot;
  now: number;
  trace: TraceEvent[];
  calls: ExecutorCall[];
  /** Operator commands used on the path, and how many of them created a deployment. */
  commands: number;
  newDeployments: number;
  disconnected: readonly string[];
  path: string[];
}

type Action = { label: string; command?: 'operator' | 'new deployment'; disconnects?: string; apply: (engine: Engine, clock: VirtualClock) => void };

/** An engine restored from a state, with the explorer as its executor and clock, recording the branch's history. */
function resume(state: State): { engine: Engine; clock: VirtualClock; trace: TraceEvent[]; calls: ExecutorCall[] } {
  const clock = new VirtualClock(state.now);
  const trace = [...state.trace];
  const calls = [...state.calls];
  const engine = Engine.restore(state.snapshot, { executor: recorder(clock, calls), clock });
  listen(engine, trace);
  return { engine, clock, trace, calls };
}

function recorder(clock: VirtualClock, calls: ExecutorCall[]): Executor {
  const call = (action: 'start' | 'stop', r: { executionId: string; node: string; job: string; version: number; deployment?: string; purpose?: 'update' | 'revert' }): void => {
    calls.push({ t: clock.now() / 1000, action, executionId: r.executionId, node: r.node, job: r.job, version: r.version, ...(r.deployment === undefined ? {} : { deployment: r.deployment }), ...(r.purpose === undefined ? {} : { purpose: r.purpose }) });
  };
  return { start: (r: ExecutionRequest) => call('start', r), stop: (r) => call('stop', r) };
}

function listen(engine: Engine, trace: TraceEvent[]): void {
  for (const type of TRACE_TYPES) engine.on(type, ((payload: { at: number; deployment: string }) => trace.push(traceEvent(type, payload))) as EngineEvents[typeof type]);
}

/** What can happen next: node outcomes, revert outcomes, the next timer, and (within the bound) operator commands. */
function actions(engine: Engine, clock: VirtualClock, state: State, policy: Policy, nodes: readonly string[], bound: CommandBound): Action[] {
  const latest = engine.status(JOB)!;
  // A rollback deployment rolls version 1 out with version 1's policy (immediate).
  const judgedOnHealth = latest.strategy !== 'immediate';
  const out: Action[] = [];
  for (const node of nodes) {
    const nodeState = engine.nodeState(latest.id, node);
    if (state.disconnected.includes(node)) continue;
    const report = { node, job: JOB, version: latest.to_version };
    if (nodeState === 'updating') {
      out.push({ label: `stable(${node})`, apply: (e) => (judgedOnHealth ? e.reportHealth({ ...report, healthy: true }) : e.reportExecution({ ...report, status: 'started' })) });
      out.push({ label: `crash(${node})`, apply: (e) => e.reportExecution({ ...report, status: 'failed' }) });
      // Engine decision (see properties-engine): immediate has no deadline, so a node cut off for good waits forever.
      if (judgedOnHealth) out.push({ label: `disconnect(${node})`, disconnects: node, apply: (e) => e.setConnected(node, false) });
    }
    if (nodeState === 'reverting' && latest.rollback_target !== null) {
      out.push({ label: `reverted(${node})`, apply: (e) => e.reportExecution({ ...report, version: latest.rollback_target!, status: 'started' }) });
    }
  }
  if (clock.nextDue() !== null) out.push({ label: 'next-timer', apply: (_e, c) => c.step() });
  if (state.commands >= bound.total) return out;
  // Commands the engine would refuse in this state lead nowhere new (properties-engine checks the refusals).
  const live = ['pending', 'in_progress', 'awaiting_promotion'].includes(latest.state);
  const accepted = { pause: live, resume: latest.state === 'paused', promote: latest.state === 'awaiting_promotion', abort: live || latest.state === 'paused' };
  for (const command of bound.operators) if (accepted[command]) out.push({ label: command, command: 'operator', apply: (e) => e[command](JOB) });
  if (state.newDeployments < bound.newDeployments) {
    out.push({ label: 'rollback', command: 'new deployment', apply: (e) => e.rollback(JOB) });
    out.push({ label: 'submit(v-next)', command: 'new deployment', apply: (e) => e.submit(specOf(policy, 100 + state.newDeployments)) });
  }
  return out;
}

/**
 * A state's identity: the snapshot with the timer book's sequence numbers
 * replaced by their ranks (only their order matters), without the time it was
 * taken and the outbox's count of what was delivered (bookkeeping, like the
 * timers' numbers; what is still undelivered stays), plus the explorer's own
 * bookkeeping. Two paths that reach the same engine state meet here.
 */
function stateKey(state: State): string {
  const { at: _at, outbox, ...snapshot } = state.snapshot as unknown as { at: number; outbox: { pending: unknown[] }; timers: { seq: number; entries: Array<{ seq: number }> } };
  const ranks = new Map([...snapshot.timers.entries].sort((a, b) => a.seq - b.seq).map((entry, rank) => [entry.seq, rank]));
  const normalized = { ...snapshot, pending: outbox.pending, timers: { entries: snapshot.timers.entries.map((entry) => ({ ...entry, seq: ranks.get(entry.seq) })) } };
  const text = `${state.commands}|${state.newDeployments}|${state.disconnected.join(',')}|${JSON.stringify(normalized)}`;
  return createHash('sha1').update(text).digest('hex');
}

interface Exploration {
  states: number;
  quiescent: number;
  violations: string[];
}

function explore(policy: Policy, nodes: readonly string[]): Exploration {
  // Version 1 completes on every node (immediate, all healthy), then version 2 is submitted.
  const clock = new VirtualClock();
  const trace: TraceEvent[] = [];
  const calls: ExecutorCall[] = [];
  const engine = createEngine({ executor: recorder(clock, calls), clock });
  listen(engine, trace);
  for (const id of nodes) engine.upsertNode({ id, labels: {}, connected: true });
  engine.submit(specOf({ name: 'v1', deployment: { strategy: 'immediate' } }, 1));
  for (const id of nodes) engine.reportExecution({ node: id, job: JOB, version: 1, status: 'started' });
  expect(engine.status(JOB)?.state).toBe('completed');
  engine.submit(specOf(policy, 2));

  const specs = { [JOB]: { 1: specOf({ name: 'v1', deployment: { strategy: 'immediate' } }, 1), 2: specOf(policy, 2), 3: specOf(policy, 100) } };
  const record = (s: State, deployments: DeploymentStatus[], settled: boolean): RolloutRecord => ({ trace: s.trace, deployments, specs, executorCalls: s.calls, settled });

  const seen = new Set<string>();
  const result: Exploration = { states: 0, quiescent: 0, violations: [] };
  const report = (s: State, messages: string[]): void => {
    if (result.violations.length < 5) result.violations.push(`${policy.name}, ${nodes.length} nodes, after ${s.path.join(' ')}:\n${messages.join('\n')}\n${describeTrace(s.trace)}`);
  };
  // Depth-first: the frontier stays small; each state is expanded once, when first reached.
  const first: State = { snapshot: engine.snapshot(), now: clock.now(), trace, calls, commands: 0, newDeployments: 0, disconnected: [], path: [] };
  seen.add(stateKey(first));
  const stack: State[] = [first];
  while (stack.length > 0) {
    const state = stack.pop()!;
    result.states++;

    const here = resume(state);
    const deployments = here.engine.deployments();
    const safety = checkInvariants(record(state, deployments, false));
    if (safety.length > 0) report(state, safety.map((v) => v.message));
    const next = actions(here.engine, here.clock, state, policy, nodes, commandBound(nodes.length));
    // The state's own engine serves as the first branch; it was only read so far.
    if (next.every((a) => a.command !== undefined)) {
      // Nothing but an operator can act: every deployment must be at rest.
      result.quiescent++;
      const liveness = checkInvariants(record(state, deployments, true), ['everyDeploymentEndsOrWaits', 'rollbackRevertsEveryExposedNode', 'rollbackRestoresEveryNode', 'supersededLeavesNoOrphans']);
      if (liveness.length > 0) report(state, liveness.map((v) => v.message));
    }
    for (const [i, action] of next.entries()) {
      const branch = i === 0 ? here : resume(state);
      try {
        action.apply(branch.engine, branch.clock);
      } catch (error) {
        if (error instanceof CommandError) continue; // refused: no new state
        throw error;
      }
      const child: State = {
        snapshot: JSON.parse(JSON.stringify(branch.engine.snapshot())) as EngineSnapshot,
        now: branch.clock.now(),
        trace: branch.trace,
        calls: branch.calls,
        commands: state.commands + (action.command === undefined ? 0 : 1),
        newDeployments: state.newDeployments + (action.command === 'new deployment' ? 1 : 0),
        disconnected: action.disconnects === undefined ? state.disconnected : [...state.disconnected, action.disconnects],
        path: [...state.path, action.label],
      };
      const key = stateKey(child);
      if (seen.has(key)) continue;
      seen.add(key);
      stack.push(child);
    }
  }
  return result;
}

describe('exhaustive: every interleaving on fleets of 1 to 4 nodes', () => {
  const totals = { states: 0, quiescent: 0 };
  for (const policy of POLICIES) {
    it(`§4-§7 ${policy.name}: every reachable state keeps the invariants`, () => {
      const lines: string[] = [];
      for (let n = Number(process.env.EXHAUSTIVE_MIN_NODES ?? 1); n <= MAX_NODES; n++) {
        const t0 = performance.now();
        const nodes = Array.from({ length: n }, (_, i) => `n-${i}`);
        const { states, quiescent, violations } = explore(policy, nodes);
        totals.states += states;
        totals.quiescent += quiescent;
        lines.push(`${n} nodes: ${states} states (${quiescent} waiting for an operator or ended) ${Math.round(performance.now() - t0)}ms`);
        expect(violations, violations.join('\n\n')).toEqual([]);
      }
      console.log(`${policy.name}\n  ${lines.join('\n  ')}`);
    });
  }
  it('reports how much was explored', () => {
    console.log(`exhaustive: ${totals.states} distinct engine states explored in total, ${totals.quiescent} of them at rest`);
    expect(totals.states).toBeGreaterThan(0);
  });
});
