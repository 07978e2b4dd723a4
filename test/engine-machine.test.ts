/**
 * The deployment statechart on its own: no clock, no executor, no shell. Its
 * actions leave effects in `context.io.out`; the test reads them.
 */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { deploymentMachine, type DeploymentEvent } from '../machines/deployment.js';
import { newDeploymentData } from '../machines/context.js';
import type { Effect } from '../machines/effects.js';
import type { JobSpec } from '../src/spec/types.js';
import { jobSpec } from './support/engineFixture.js';
import { interner } from './support/interner.js';

function machine(deployment: Partial<JobSpec['deployment']>, targets = ['a', 'b', 'c']) {
  const out: Effect[] = [];
  const data = newDeploymentData({
    id: 'default/web#1',
    job: 'default/web',
    version: 1,
    spec: jobSpec({ deployment }),
    kind: 'create',
    fromVersion: null,
    lastCompleted: null,
    seq: 0,
    createdAt: 0,
    targets,
  }, { out, eligible: () => true, ...interner(), explain: true });
  const actor = createActor(deploymentMachine, { input: data }).start();
  type Unstamped = DeploymentEvent extends infer E ? (E extends DeploymentEvent ? Omit<E, 'now' | 'slots'> & { now?: number } : never) : never;
  const send = (event: Unstamped) => {
    out.length = 0;
    actor.send({ now: 0, slots: Infinity, ...event } as DeploymentEvent);
    return [...out];
  };
  return { actor, send, state: () => actor.getSnapshot().context.d.state };
}

const started = (effects: Effect[]) => effects.filter((e) => e.type === 'start').map((e) => (e as { node: string }).node);

describe('deployment machine', () => {
  it('§5 canary: starts the canaries within the window, then waits for promotion, then rolls the rest', () => {
    const m = machine({ strategy: 'canary', canary_count: 2, max_parallel: 1 });
    expect(started(m.send({ type: 'start' }))).toEqual(['a']);
    expect(started(m.send({ type: 'node.stable', node: 'a' }))).toEqual(['b']);
    const last = m.send({ type: 'node.stable', node: 'b' });
    expect(started(last)).toEqual([]);
    expect(m.state()).toBe('awaiting_promotion');
    expect(m.actor.getSnapshot().value).toEqual({ live: { in_progress: 'awaiting_promotion' } });
    const promoted = m.send({ type: 'promote' });
    expect(promoted).toContainEqual({ type: 'promoted', auto: false });
    expect(started(promoted)).toEqual(['c']);
  });

  it('§6 a failure that breaks the rule goes to failed; without an earlier version there is nothing to revert', () => {
    const m = machine({ max_parallel: 2, max_failed_nodes: 0 });
    m.send({ type: 'start' });
    const effects = m.send({ type: 'node.failed', node: 'a', reason: 'deadline_exceeded' });
    expect(m.actor.getSnapshot().value).toBe('failed');
    expect(effects).toContainEqual({ type: 'state', state: 'failed', reason: 'failure_rule' });
    expect(effects).toContainEqual({ type: 'stop', node: 'b', purpose: 'update', attempt: 1 });
    expect(started(effects)).toEqual([]);
  });

  it('§7 pause remembers where to resume; timers are effects, never `after`', () => {
    const m = machine({ max_parallel: 1 }, ['a', 'b']);
    m.send({ type: 'start' });
    expect(m.send({ type: 'pause', now: 10 })).toContainEqual({ type: 'state', state: 'paused', reason: null });
    expect(started(m.send({ type: 'node.stable', node: 'a' }))).toEqual([]);
    const resumed = m.send({ type: 'resume', now: 20 });
    expect(started(resumed)).toEqual(['b']);
    expect(resumed).toContainEqual(expect.objectContaining({ type: 'arm', timer: 'deadline', node: 'b', at: 20 + 5 * 60_000 }));
  });
});
