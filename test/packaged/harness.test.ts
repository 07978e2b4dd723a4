/**
 * Written from docs/testing.md alone, against the packed tarball (run by
 * test/packaged/run.mjs in a fresh folder, which installs the tarball with
 * --omit=optional). The three bugs of issue 11 are ordinary tests here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHarness, HarnessStuckError, rolloutScenarioArb, runRollout } from 'fleet-rollout/testing';

const ROLLING = { deployment: { strategy: 'rolling', max_parallel: 2, health_check: { deadline: '1m', min_healthy_time: '10s' } } };

describe('fleet-rollout/testing from the packed tarball', () => {
  it('§4 behaviors reach the executions submit() starts (first window, immediate, canaries)', () => {
    for (const deployment of [ROLLING.deployment, { strategy: 'immediate' }, { strategy: 'canary', canary_count: 1, health_check: { deadline: '1m', min_healthy_time: '10s' } }]) {
      const h = createHarness({ nodes: ['edge-001', 'edge-002'] });
      h.health.node('edge-001').crashes();
      h.submit({ deployment });
      h.settle({ limit: '1h' });
      h.expectTrace({ type: 'node.failed', node: 'edge-001', reason: 'execution_failed', t: 2 });
    }
  });

  it('§7 an immediate node that never reports: settled, the run says why, and the invariants accept it', () => {
    const h = createHarness({ nodes: ['edge-001'] });
    h.health.node('edge-001').silent();
    h.submit({ type: 'pipeline' });
    expect(h.settle({ limit: '720h' })).toBe(true);
    expect(h.state()).toBe('in_progress');
    expect(h.waiting().join()).toMatch(/waits for reports from 1 updating node/);
    expect(h.checkInvariants(true)).toEqual([]);
    expect(() => h.advanceUntil('completed')).toThrow(HarnessStuckError);
  });

  it('§7 removeNode during an update: the trace records it and no invariant reports a violation', () => {
    const h = createHarness({ nodes: ['edge-001', 'edge-002', 'edge-003'] });
    h.submit({ ...ROLLING, config: { release: 1 } });
    h.advanceUntil('completed');
    h.health.forVersion(2).node('edge-002').unhealthy();
    h.submit({ ...ROLLING, config: { release: 2 } });
    h.advance('5s');
    h.removeNode('edge-001');
    h.settle({ limit: '1h' });
    h.expectTrace({ type: 'node.removed', node: 'edge-001' });
    expect(h.checkInvariants(true)).toEqual([]);
  });

  it('seconds everywhere, Go durations accepted; misspelt ids and fields are errors', () => {
    const h = createHarness({ nodes: ['edge-001'] });
    h.submit(ROLLING);
    h.advance('5m');
    expect(h.now()).toBe(300);
    h.advanceTo(360);
    expect(h.now()).toBe(360);
    expect(() => h.disconnect('edge-1')).toThrow(/did you mean "edge-001"/);
    expect(() => h.traceOf({ type: 'node.stable', verison: 1 } as never)).toThrow(/did you mean `version`/);
  });

  it('§5-§7 random rollouts keep every invariant (property)', () => {
    fc.assert(
      fc.property(rolloutScenarioArb(), (scenario) => {
        const run = runRollout(scenario);
        expect(run.settled).toBe(run.record.settled);
        expect(run.violations).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
