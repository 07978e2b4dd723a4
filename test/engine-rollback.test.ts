import { describe, expect, it } from 'vitest';
import { jobSpec, JOB, MINUTE, nodes, rig, SECOND, type Rig } from './support/engineFixture.js';
import type { JobSpec } from '../src/spec/types.js';

const D2 = `${JOB}#2`;

/** v1 completed on every node (immediate pipeline), then `v2` submitted. */
function fromCompletedV1(v2: JobSpec, size = 4): Rig {
  const r = rig({ fleet: nodes(size) });
  r.engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
  for (const n of nodes(size)) r.exec(n.id, 'started', 1);
  expect(r.state()).toBe('completed');
  r.events.length = 0;
  r.executor.starts.length = 0;
  r.engine.submit(v2);
  return r;
}

const v2 = (deployment: Partial<JobSpec['deployment']> = {}, rest: Partial<JobSpec> = {}) =>
  jobSpec({ labels: { v: '2' }, ...rest, deployment: { max_parallel: 2, max_failed_nodes: 0, ...deployment } });

describe('§6 failure and rollback', () => {
  it('§6 the rule breaking fails the deployment and rolls back every exposed node at once to the last completed version', () => {
    const r = fromCompletedV1(v2());
    r.healthy('n-01', 2);
    r.advance(30 * SECOND); // n-01 stable, n-03 starts
    r.exec('n-02', 'failed', 2); // max_failed_nodes 0: fails now
    expect(r.of('deployment.state').map((e) => [e.state, e.reason])).toEqual([
      ['in_progress', undefined],
      ['failed', 'failure_rule'],
      ['rolling_back', 'failure_rule'],
    ]);
    expect(r.of('node.reverting').map((e) => [e.node, e.version])).toEqual([
      ['n-01', 1],
      ['n-02', 1],
      ['n-03', 1],
    ]);
    const reverts = r.executor.starts.filter((s) => s.purpose === 'revert');
    expect(reverts.map((s) => [s.node, s.version, s.spec.labels])).toEqual([
      ['n-01', 1, {}],
      ['n-02', 1, {}],
      ['n-03', 1, {}],
    ]);
    expect(r.engine.nodeState(D2, 'n-04')).toBe('untouched');
  });

  it('§6 a failed deployment starts no further node; nodes still updating are not judged nor counted', () => {
    const r = fromCompletedV1(v2());
    r.exec('n-01', 'failed', 2);
    r.advance(10 * MINUTE); // n-02's deadline would have passed
    expect(r.of('node.failed').map((e) => e.node)).toEqual(['n-01']);
    expect(r.of('node.started').map((e) => e.node)).toEqual(['n-01', 'n-02']);
    expect(r.engine.status(JOB)?.failed_nodes).toEqual(['n-01']);
  });

  it('§4 §6 deadlines due at the same instant are judged one at a time: the rule breaks at the first, the others are not counted', () => {
    const r = fromCompletedV1(v2({ max_parallel: 3 }));
    // n-01..n-03 started together and never report: their deadlines fall at the same instant.
    r.advance(10 * MINUTE);
    expect(r.of('node.failed').map((e) => [e.node, e.reason])).toEqual([['n-01', 'deadline_exceeded']]);
    expect(r.engine.status(JOB)?.failed_nodes).toEqual(['n-01']);
    expect(r.of('node.reverting').map((e) => e.node)).toEqual(['n-01', 'n-02', 'n-03']);
  });

  it('§6 a revert is confirmed when the old version reports started; otherwise revert_failed after the health-check deadline', () => {
    const r = fromCompletedV1(v2());
    r.exec('n-01', 'failed', 2);
    r.advance(MINUTE);
    r.exec('n-01', 'started', 1);
    expect(r.of('node.reverted')).toEqual([expect.objectContaining({ node: 'n-01', version: 1, at: MINUTE })]);
    expect(r.state()).toBe('rolling_back');
    r.advance(4 * MINUTE); // 5m health_check.deadline from the revert
    expect(r.of('node.revert_failed')).toEqual([expect.objectContaining({ node: 'n-02', version: 1, at: 5 * MINUTE })]);
    expect(r.state()).toBe('rolled_back');
    expect(r.engine.status(JOB)).toMatchObject({ state: 'rolled_back', reason: 'failure_rule', counts: { reverted: 1, revert_failed: 1 }, failed_at: 0, ended_at: 5 * MINUTE, rollback_target: 1 });
  });

  it('§6 a revert whose execution fails is revert_failed at once (decided)', () => {
    const r = fromCompletedV1(v2());
    r.exec('n-01', 'failed', 2);
    r.exec('n-02', 'failed', 1);
    expect(r.engine.nodeState(D2, 'n-02')).toBe('revert_failed');
  });

  it('§6 under immediate without a health check a revert has the documented 5m to be confirmed', () => {
    const r = fromCompletedV1(v2({ strategy: 'immediate', health_check: undefined }));
    r.exec('n-01', 'failed', 2);
    r.advance(5 * MINUTE - 1);
    expect(r.of('node.revert_failed')).toEqual([]);
    r.advance(1);
    expect(r.of('node.revert_failed')).toHaveLength(4);
  });

  it('§6 no_auto_rollback: the deployment ends failed, and executions still updating are stopped', () => {
    const r = fromCompletedV1(v2({ no_auto_rollback: true }));
    r.exec('n-01', 'failed', 2);
    expect(r.state()).toBe('failed');
    expect(r.of('node.reverting')).toEqual([]);
    expect(r.executor.stops).toEqual([expect.objectContaining({ node: 'n-02', job: JOB, version: 2, executionId: `${D2}/n-02/update-1` })]);
    expect(r.of('decision').at(-1)).toMatchObject({ action: 'stop' });
    expect(r.of('decision').find((e) => e.action === 'no_rollback')).toMatchObject({ reason: 'no_auto_rollback is set' });
  });

  it('§6 without an earlier completed version there is no rollback', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(v2());
    r.exec('n-01', 'failed', 1);
    expect(r.state()).toBe('failed');
    expect(r.of('decision').find((e) => e.action === 'no_rollback')).toMatchObject({ reason: 'no earlier version completed' });
  });

  it('§6 query jobs are never rolled back', () => {
    const query = (labels: Record<string, string>) => jobSpec({ type: 'query', labels, deployment: { strategy: 'immediate', health_check: undefined, max_failed_nodes: 0 } });
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(query({}));
    r.exec('n-01', 'succeeded');
    r.exec('n-02', 'succeeded');
    expect(r.state()).toBe('completed');
    r.engine.submit(query({ v: '2' }));
    r.exec('n-01', 'failed', 2);
    expect(r.state()).toBe('failed');
    expect(r.of('node.reverting')).toEqual([]);
  });

  it('§6 a rollback never triggers another rollback: a failing rollback deployment ends failed', () => {
    const r = fromCompletedV1(v2({ no_auto_rollback: true }));
    r.exec('n-01', 'failed', 2);
    r.engine.rollback(JOB); // toward v1, as a new deployment of kind rollback
    const rollback = r.engine.status(JOB)!;
    expect(rollback).toMatchObject({ kind: 'rollback', from_version: 2, to_version: 1, rollback_target: null });
    r.exec('n-01', 'failed', 1);
    expect(r.state()).toBe('failed');
    expect(r.of('node.reverting')).toEqual([]);
    expect(r.of('decision').filter((e) => e.action === 'no_rollback').at(-1)).toMatchObject({ reason: 'a rollback never triggers another rollback' });
  });

  it('§6 after a rollback the job runs the version rolled back to: resubmitting it is unchanged', () => {
    const r = fromCompletedV1(v2());
    r.exec('n-01', 'failed', 2);
    const result = r.engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
    expect(result).toEqual({ job: JOB, version: 1, unchanged: true, deployment: null });
  });

  it('§6 abort fails the deployment with reason aborted, then rolls back', () => {
    const r = fromCompletedV1(v2());
    r.engine.abort(JOB);
    expect(r.of('deployment.state').map((e) => [e.state, e.reason])).toEqual([
      ['in_progress', undefined],
      ['failed', 'aborted'],
      ['rolling_back', 'aborted'],
    ]);
    expect(r.of('node.reverting').map((e) => e.node)).toEqual(['n-01', 'n-02']);
  });
});

describe('§6 reverts are not throttled', () => {
  it('§6 reverts ignore the rolling window and the engine-wide cap: every exposed node at once', () => {
    const r = rig({ fleet: nodes(4), engine: { maxConcurrentUpdates: 2 } });
    r.engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
    for (const pass of [0, 1]) for (const n of nodes(4)) if (pass === 0 || r.engine.nodeState(`${JOB}#1`, n.id) === 'updating') r.exec(n.id, 'started');
    expect(r.state()).toBe('completed');
    r.engine.submit(v2({ max_parallel: 1, max_failed_nodes: 1, max_failed_nodes_percent: 100 }));
    r.healthy('n-01', 2);
    r.advance(30 * SECOND);
    r.healthy('n-02', 2);
    r.advance(30 * SECOND);
    r.exec('n-03', 'failed', 2);
    r.exec('n-04', 'failed', 2);
    expect(r.of('node.reverting').map((e) => e.node)).toEqual(['n-01', 'n-02', 'n-03', 'n-04']);
  });
});
