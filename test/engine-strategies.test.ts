import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jobSpec, JOB, MINUTE, nodes, rig, SECOND, type Rig } from './support/engineFixture.js';

const D1 = `${JOB}#1`;
const started = (r: Rig) => r.of('node.started').map((e) => e.node);
const settle = (r: Rig, node: string) => {
  r.healthy(node);
  r.advance(30 * SECOND);
};

describe('§5 rolling', () => {
  it('§5 at most max_parallel nodes update at once; when one resolves, the next starts', () => {
    const r = rig({ fleet: nodes(5) });
    r.engine.submit(jobSpec({ deployment: { max_parallel: 2, max_failed_nodes: 100, max_failed_nodes_percent: 100 } }));
    expect(started(r)).toEqual(['n-01', 'n-02']);
    settle(r, 'n-02');
    expect(started(r)).toEqual(['n-01', 'n-02', 'n-03']);
    r.exec('n-01', 'failed');
    expect(started(r)).toEqual(['n-01', 'n-02', 'n-03', 'n-04']);
  });

  it('§5 max_parallel 0 means no bound', () => {
    const r = rig({ fleet: nodes(6) });
    r.engine.submit(jobSpec({ deployment: { max_parallel: 0 } }));
    expect(started(r)).toHaveLength(6);
  });

  it('§3 nodes start in rollout order (ascending id), whatever the order they joined', () => {
    const r = rig({ fleet: nodes(4).reverse() });
    r.engine.submit(jobSpec({ deployment: { max_parallel: 0 } }));
    expect(started(r)).toEqual(['n-01', 'n-02', 'n-03', 'n-04']);
  });

  it('§5 the deployment completes once every targeted node is resolved and the rule holds', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { max_parallel: 3, max_failed_nodes: 1, max_failed_nodes_percent: 50 } }));
    r.exec('n-02', 'failed');
    settle(r, 'n-01');
    expect(r.state()).toBe('in_progress');
    settle(r, 'n-03');
    expect(r.state()).toBe('completed');
    expect(r.engine.status(JOB)).toMatchObject({ counts: { stable: 2, failed: 1 }, failed_nodes: ['n-02'], max_in_flight: 3 });
  });

  it('§5 a property: the window is never exceeded and no node starts twice', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.record({ node: fc.nat(11), what: fc.constantFrom('pass', 'fail', 'unhealthy', 'crash', 'wait') }), { maxLength: 60 }),
        (size, maxParallel, script) => {
          const r = rig({ fleet: nodes(size) });
          let worst = 0;
          r.engine.on('node.started', () => (worst = Math.max(worst, r.engine.status(JOB)!.counts.updating)));
          r.engine.submit(jobSpec({ deployment: { max_parallel: maxParallel, max_failed_nodes: 100, max_failed_nodes_percent: 100 } }));
          for (const { node, what } of script) {
            const id = `n-${String((node % size) + 1).padStart(2, '0')}`;
            if (what === 'pass') r.healthy(id);
            else if (what === 'unhealthy') r.unhealthy(id);
            else if (what === 'crash') r.exec(id, 'failed');
            else r.advance(20 * SECOND);
          }
          r.clock.runUntilIdle();
          const starts = started(r);
          expect(new Set(starts).size).toBe(starts.length);
          if (maxParallel > 0) expect(worst).toBeLessThanOrEqual(maxParallel);
          expect(r.state()).toBe('completed');
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('§5 canary', () => {
  const canary = (extra: Record<string, unknown> = {}) =>
    jobSpec({ deployment: { strategy: 'canary', canary_count: 2, max_parallel: 1, max_failed_nodes: 100, max_failed_nodes_percent: 100, ...extra } });

  it('§5 the canary group is the first c nodes of the rollout order and rolls within max_parallel', () => {
    const r = rig({ fleet: nodes(5) });
    r.engine.submit(canary());
    expect(r.of('deployment.created')[0]).toMatchObject({ strategy: 'canary', targeted: 5, canaries: 2 });
    expect(r.of('node.started')).toEqual([expect.objectContaining({ node: 'n-01', canary: true })]);
    settle(r, 'n-01');
    expect(r.of('node.started')[1]).toMatchObject({ node: 'n-02', canary: true });
    expect(r.engine.status(JOB)?.canary_nodes).toEqual(['n-01', 'n-02']);
  });

  it('§5 c = ceil(targeted * canary_percent / 100) when canary_count is 0', () => {
    const r = rig({ fleet: nodes(10) });
    r.engine.submit(canary({ canary_count: 0, canary_percent: 25 }));
    expect(r.engine.status(JOB)?.canary_nodes).toEqual(['n-01', 'n-02', 'n-03']);
  });

  it('§5 when every canary is resolved and the rule holds, it waits in awaiting_promotion for promote', () => {
    const r = rig({ fleet: nodes(4) });
    r.engine.submit(canary());
    settle(r, 'n-01');
    settle(r, 'n-02');
    expect(r.state()).toBe('awaiting_promotion');
    r.advance(60 * MINUTE);
    expect(started(r)).toEqual(['n-01', 'n-02']);
    r.engine.promote(JOB);
    expect(r.of('deployment.promoted')).toEqual([expect.objectContaining({ deployment: D1, auto: false })]);
    expect(r.state()).toBe('in_progress');
    expect(r.of('node.started')[2]).toMatchObject({ node: 'n-03', canary: false });
  });

  it('§5 auto_promote promotes itself once every canary is resolved', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(canary({ auto_promote: true }));
    settle(r, 'n-01');
    r.exec('n-02', 'failed'); // a failed canary is resolved too; the rule (100%) holds
    expect(r.of('deployment.promoted')).toEqual([expect.objectContaining({ auto: true })]);
    expect(r.of('deployment.state').map((e) => e.state)).not.toContain('awaiting_promotion');
    settle(r, 'n-03');
    expect(r.state()).toBe('completed');
  });

  it('§6 before promotion the failure rule divides by the canary group', () => {
    const r = rig({ fleet: nodes(20) });
    r.engine.submit(canary({ canary_count: 2, max_failed_nodes: 10, max_failed_nodes_percent: 10, no_auto_rollback: true }));
    r.exec('n-01', 'failed'); // 1/2 = 50% > 10%
    expect(r.state()).toBe('failed');
    expect(r.engine.status(JOB)).toMatchObject({ reason: 'failure_rule', budget: { failed: 1, group: 2 } });
  });

  it('§6 after promotion the group is every targeted node and canary failures keep counting', () => {
    const r = rig({ fleet: nodes(10) });
    r.engine.submit(canary({ canary_count: 2, max_parallel: 2, max_failed_nodes: 1, max_failed_nodes_percent: 100, no_auto_rollback: true }));
    r.exec('n-01', 'failed'); // 1 failed, not > 1
    settle(r, 'n-02');
    r.engine.promote(JOB);
    expect(r.engine.status(JOB)?.budget).toMatchObject({ failed: 1, group: 10 });
    r.exec('n-03', 'failed'); // 2 > max_failed_nodes 1
    expect(r.state()).toBe('failed');
  });

  it('§5 promoting with nothing left after the canaries completes the deployment', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(canary({ canary_count: 5 }));
    settle(r, 'n-01');
    settle(r, 'n-02');
    expect(r.state()).toBe('awaiting_promotion');
    r.engine.promote(JOB);
    expect(r.state()).toBe('completed');
  });
});
