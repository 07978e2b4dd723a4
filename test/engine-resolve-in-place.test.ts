/**
 * The shell settles a node resolving without a machine step when that cannot
 * change the state (machines/resolveInPlace.ts). Property: driven by the same
 * events, a machine that takes every event and a machine whose node
 * resolutions go through `resolveInPlace` first stay identical (state, context
 * and effects, event by event).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { deploymentMachine, type DeploymentEvent } from '../machines/deployment.js';
import { newDeploymentData, type DeploymentData } from '../machines/context.js';
import type { Effect } from '../machines/effects.js';
import { phaseOf, resolveInPlace } from '../machines/resolveInPlace.js';
import type { JobSpec } from '../src/spec/types.js';
import { jobSpec } from './support/engineFixture.js';
import { interner } from './support/interner.js';

type Step =
  | { type: 'stable' | 'failed'; pick: number }
  | { type: 'pause' | 'resume' | 'promote' };

function deployment(policy: Partial<JobSpec['deployment']>, targets: string[]) {
  const out: Effect[] = [];
  const data = newDeploymentData({
    id: 'default/web#2',
    job: 'default/web',
    version: 2,
    spec: jobSpec({ deployment: policy }),
    kind: 'update',
    fromVersion: 1,
    lastCompleted: 1,
    seq: 0,
    createdAt: 0,
    targets,
  }, { out, eligible: () => true, ...interner(), explain: true });
  const actor = createActor(deploymentMachine, { input: data }).start();
  const context = (): DeploymentData => actor.getSnapshot().context.d;
  const drain = (): Effect[] => out.splice(0);
  return { actor, context, drain };
}

function plain(d: DeploymentData): unknown {
  const { io: _io, nodes, ...rest } = d;
  return { ...rest, nodes: [...nodes] };
}

const steps = fc.array(
  fc.oneof(
    fc.record({ type: fc.constantFrom('stable' as const, 'failed' as const), pick: fc.nat(20) }),
    fc.record({ type: fc.constantFrom('pause' as const, 'resume' as const, 'promote' as const) }),
  ),
  { maxLength: 40 },
);

const policies = fc.record({
  strategy: fc.constantFrom('rolling' as const, 'canary' as const),
  max_parallel: fc.integer({ min: 0, max: 4 }),
  canary_count: fc.integer({ min: 1, max: 3 }),
  auto_promote: fc.boolean(),
  max_failed_nodes: fc.integer({ min: 0, max: 3 }),
});

describe('node resolutions settled in place', () => {
  it('§5 §6 §7 leave the deployment exactly as the machine would, event by event', () => {
    fc.assert(
      fc.property(policies, fc.integer({ min: 1, max: 8 }), steps, (policy, size, script) => {
        const targets = Array.from({ length: size }, (_, i) => `n${i}`);
        const reference = deployment(policy, targets);
        const shell = deployment(policy, targets);
        const start = { type: 'start', now: 0, slots: Infinity } as const;
        reference.actor.send(start);
        shell.actor.send(start);
        expect(shell.drain()).toEqual(reference.drain());
        let now = 0;
        for (const step of script as Step[]) {
          now += 1000;
          let event: DeploymentEvent;
          if (step.type === 'stable' || step.type === 'failed') {
            const updating = [...reference.context().nodes].filter(([, r]) => r.state === 'updating').map(([id]) => id);
            const node = updating[step.pick % Math.max(1, updating.length)];
            if (node === undefined) continue;
            event =
              step.type === 'stable'
                ? { type: 'node.stable', node, now, slots: Infinity }
                : { type: 'node.failed', node, reason: 'deadline_exceeded', now, slots: Infinity };
            const d = shell.context();
            const reason = step.type === 'failed' ? 'deadline_exceeded' : null;
            if (!resolveInPlace(phaseOf(shell.actor.getSnapshot().value), d, node, d.nodes.get(node)!, reason, now, Infinity)) shell.actor.send(event);
          } else {
            event = { type: step.type, now, slots: Infinity };
            shell.actor.send(event);
          }
          reference.actor.send(event);
          expect(shell.drain()).toEqual(reference.drain());
          expect(shell.actor.getSnapshot().value).toEqual(reference.actor.getSnapshot().value);
          expect(plain(shell.context())).toEqual(plain(reference.context()));
        }
      }),
      { numRuns: 300 },
    );
  });
});
