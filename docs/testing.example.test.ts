/**
 * The worked example of docs/testing.md, run with the test suite so that the
 * documentation cannot drift from the harness. A user imports from
 * 'fleet-rollout/testing'; inside this repository the same module is
 * '../src/testing/index.js'.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { behaviorArb, createHarness, type Harness } from '../src/testing/index.js';

// The policy under test, as it lives in the team's repository (deploy/log-shipper.yaml).
const POLICY = `
name: log-shipper
type: pipeline
selector:
  match_labels: { env: production }
deployment:
  strategy: canary
  canary_count: 2
  max_parallel: 2
  max_failed_nodes: 0
  health_check:
    deadline: 5m
    min_healthy_time: 1m
`;

/** A release of the job: the policy with a different payload, so each is a new version. */
const release = (n: number): string => `${POLICY}config:\n  image: log-shipper:${n}\n`;

// Six production nodes, alternating us-east / us-west: edge-001 (us-east), edge-002 (us-west), ...
const FLEET = { groups: [{ count: 6, prefix: 'edge-', labels: { env: 'production' }, spread: { region: ['us-east', 'us-west'] } }] };

/** A harness where release 1 went through the policy (canaries, promotion) and runs on every node. */
function withRelease1(seed = 1): Harness {
  const h = createHarness({ fleet: FLEET, seed });
  h.submit(release(1));
  h.advanceUntil('awaiting_promotion');
  h.promote();
  h.advanceUntil('completed');
  return h;
}

describe('log-shipper rollout policy', () => {
  it('a release that never turns healthy in us-east stays in the canary group and is rolled back', () => {
    const h = withRelease1();
    h.health.forVersion(2).matching('region=us-east').unhealthy();
    h.submit(release(2));
    const status = h.advanceUntil('rolled_back', { limit: '1h' });

    expect(status?.failed_nodes).toEqual(['edge-001']);
    // Only the two canaries ever ran version 2, and both went back to version 1.
    h.expectNoTrace({ type: 'node.started', version: 2, canary: false });
    expect(h.traceOf({ type: 'node.reverted' }).map((e) => [e.node, e.version])).toEqual([
      ['edge-001', 1],
      ['edge-002', 1],
    ]);
    h.expectInvariants();
  });

  it('a healthy release waits for promotion after the canaries, then rolls out two at a time', () => {
    const h = createHarness({ fleet: FLEET });
    h.submit(release(1));
    h.advanceUntil('awaiting_promotion');
    expect(h.now()).toBe(62); // seconds: first report 2 s after the start, stable 1 min later

    h.promote();
    h.advanceUntil('completed');
    expect(h.deployment().max_in_flight).toBe(2);
    h.expectTrace(
      { type: 'deployment.promoted', auto: false },
      { type: 'node.started', node: 'edge-003' },
      { type: 'node.started', node: 'edge-004' },
      { type: 'deployment.state', state: 'completed' },
    );
  });

  it('a node that crashes after the canaries passed fails the rollout at once (zero tolerance)', () => {
    const h = withRelease1();
    h.health.forVersion(2).node('edge-005').crashes('30s');
    h.submit(release(2));
    h.advanceUntil('awaiting_promotion');
    h.promote();
    h.advanceUntil('rolled_back', { limit: '1h' });

    const [failure] = h.expectTrace(
      { type: 'node.failed', node: 'edge-005', reason: 'execution_failed' },
      { type: 'deployment.state', state: 'failed', reason: 'failure_rule' },
      { type: 'deployment.state', state: 'rolling_back' },
      // edge-006, updating beside it, is no longer judged: it goes back too.
      { type: 'node.reverting', node: 'edge-006', version: 1 },
    );
    expect(failure!.t - h.traceOf({ type: 'node.started', node: 'edge-005', version: 2 })[0]!.t).toBe(32); // started after 2 s, crashed 30 s later
    expect(h.deployment().counts.reverted).toBe(6);
  });

  it('whatever each node does, the contract invariants hold (property)', () => {
    fc.assert(
      fc.property(fc.array(behaviorArb(), { minLength: 6, maxLength: 6 }), fc.nat(), (behaviors, seed) => {
        const h = withRelease1(seed);
        behaviors.forEach((behavior, i) => h.health.forVersion(2).node(`edge-00${i + 1}`).behaves(behavior));
        h.submit(release(2));
        h.settle({ limit: '2h' });
        if (h.state() === 'awaiting_promotion') {
          h.promote();
          h.settle({ limit: '2h' });
        }
        h.expectInvariants(true); // true: the run has settled, so "every deployment ends" applies too
      }),
      { numRuns: 50 },
    );
  });
});
