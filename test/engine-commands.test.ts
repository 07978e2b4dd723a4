import { describe, expect, it } from 'vitest';
import { CommandError } from '../src/engine/index.js';
import { jobSpec, JOB, MINUTE, nodes, rig, SECOND, type Rig } from './support/engineFixture.js';

const D1 = `${JOB}#1`;
const started = (r: Rig) => r.of('node.started').map((e) => e.node);
const settle = (r: Rig, node: string, version = 1) => {
  r.healthy(node, version);
  r.advance(30 * SECOND);
};
const tolerant = { max_failed_nodes: 100, max_failed_nodes_percent: 100 };

function refused(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message.length).toBeGreaterThan(10);
    return (error as CommandError).code;
  }
  throw new Error('the command was not refused');
}

describe('§7 pause and resume', () => {
  it('§7 pause: no new node starts, but nodes already updating keep being judged', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: tolerant }));
    r.engine.pause(JOB);
    expect(r.state()).toBe('paused');
    settle(r, 'n-01');
    expect(r.engine.nodeState(D1, 'n-01')).toBe('stable');
    expect(started(r)).toEqual(['n-01']);
    r.engine.resume(JOB);
    expect(r.state()).toBe('in_progress');
    expect(started(r)).toEqual(['n-01', 'n-02']);
  });

  it('§7 the failure rule keeps applying while paused', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { max_failed_nodes: 0 } }));
    r.engine.pause(JOB);
    r.exec('n-01', 'failed');
    expect(r.state()).toBe('failed');
  });

  it('§7 resume goes back to the state before the pause (awaiting_promotion)', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { strategy: 'canary', canary_count: 1 } }));
    settle(r, 'n-01');
    expect(r.state()).toBe('awaiting_promotion');
    r.engine.pause(JOB);
    expect(refused(() => r.engine.promote(JOB))).toBe('not_awaiting_promotion');
    r.engine.resume(JOB);
    expect(r.state()).toBe('awaiting_promotion');
  });

  it('§7 canaries resolved during a pause: resume then waits for promotion', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { strategy: 'canary', canary_count: 1 } }));
    r.engine.pause(JOB);
    settle(r, 'n-01');
    expect(r.state()).toBe('paused');
    r.engine.resume(JOB);
    expect(r.state()).toBe('awaiting_promotion');
  });

  it('§7 total_timeout does not count while paused', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ timeouts: { total_timeout: 600 }, deployment: { health_check: { deadline: '1h', min_healthy_time: '30s', max_error_rate: 0.1 } } }));
    r.advance(2 * MINUTE);
    r.engine.pause(JOB);
    r.advance(30 * MINUTE);
    r.engine.resume(JOB);
    r.advance(8 * MINUTE - 1);
    expect(r.state()).toBe('in_progress');
    r.advance(1);
    expect(r.engine.status(JOB)).toMatchObject({ state: 'failed', reason: 'total_timeout', failed_at: 40 * MINUTE });
  });

  it('§7 commands that do not apply are refused with a clear error', () => {
    const r = rig({ fleet: nodes(1) });
    expect(refused(() => r.engine.pause(JOB))).toBe('unknown_job');
    r.engine.submit(jobSpec({ deployment: { strategy: 'canary', canary_count: 1 } }));
    expect(refused(() => r.engine.promote(JOB))).toBe('not_awaiting_promotion');
    expect(refused(() => r.engine.resume(JOB))).toBe('not_paused');
    r.engine.pause(JOB);
    expect(refused(() => r.engine.pause(JOB))).toBe('already_paused');
    r.engine.abort(JOB);
    expect(refused(() => r.engine.pause(JOB))).toBe('not_pausable');
    expect(refused(() => r.engine.abort(JOB))).toBe('not_abortable');
    expect(refused(() => r.engine.rollback(JOB))).toBe('no_completed_version');
    expect(refused(() => r.engine.rollback(JOB, 9))).toBe('unknown_version');
  });
});

describe('§7 abort and rollback commands', () => {
  it('§7 abort with nothing exposed ends failed (reason aborted): nothing to roll back', () => {
    const r = rig({ fleet: [] });
    r.engine.submit(jobSpec());
    expect(r.state()).toBe('pending');
    r.engine.abort(JOB);
    expect(r.engine.status(JOB)).toMatchObject({ state: 'failed', reason: 'aborted' });
  });

  it('§7 rollback [version]: a new deployment of kind rollback toward that version (v1.1 default: the completed version before the current one)', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
    r.exec('n-01', 'started');
    r.exec('n-02', 'started');
    r.engine.submit(jobSpec({ labels: { v: '2' }, deployment: { strategy: 'immediate', health_check: undefined } }));
    r.exec('n-01', 'started', 2);
    r.exec('n-02', 'started', 2);
    expect(r.engine.rollback(JOB, 2)).toEqual({ job: JOB, version: 2, unchanged: true, deployment: null });
    const result = r.engine.rollback(JOB, 1);
    expect(result).toEqual({ job: JOB, version: 1, unchanged: false, deployment: `${JOB}#3` });
    expect(r.of('deployment.created').at(-1)).toMatchObject({ kind: 'rollback', from_version: 2, to_version: 1 });
    expect(r.executor.starts.slice(-2).map((s) => [s.node, s.version, s.purpose])).toEqual([
      ['n-01', 1, 'update'],
      ['n-02', 1, 'update'],
    ]);
  });
});

describe('§7 supersede', () => {
  it('§7 a new version while a deployment is active cancels it (superseded), stops its executions and starts from the fleet as it stands', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { max_parallel: 2, ...tolerant } }));
    settle(r, 'n-01');
    r.engine.upsertNode({ id: 'n-00', labels: {}, connected: true }); // pipeline: appended to the rollout
    r.engine.setConnected('n-03', false);
    const result = r.engine.submit(jobSpec({ labels: { v: '2' }, deployment: { max_parallel: 0, ...tolerant } }));
    expect(result).toEqual({ job: JOB, version: 2, unchanged: false, deployment: `${JOB}#2` });
    expect(r.engine.status(D1)).toMatchObject({ state: 'canceled', reason: 'superseded' });
    expect(r.executor.stops.map((s) => [s.node, s.version])).toEqual([
      ['n-02', 1],
      ['n-03', 1],
    ]);
    expect(r.engine.status(D1)?.counts).toMatchObject({ stable: 1, stopped: 2, untouched: 1 });
    expect(r.of('deployment.created').at(-1)).toMatchObject({ kind: 'update', from_version: 1, to_version: 2, targeted: 3 });
    expect(r.of('node.started').filter((e) => e.version === 2).map((e) => e.node)).toEqual(['n-00', 'n-01', 'n-02']);
    const order = r.events.map((e) => `${e.type}:${String(e.deployment)}`);
    expect(order.indexOf(`deployment.state:${D1}`, 3)).toBeLessThan(order.indexOf(`deployment.created:${JOB}#2`));
  });

  it('§7 superseding a rollback in progress cancels it and stops its reverts', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
    r.exec('n-01', 'started');
    r.exec('n-02', 'started');
    r.engine.submit(jobSpec({ labels: { v: '2' }, deployment: { max_failed_nodes: 0 } }));
    r.exec('n-01', 'failed', 2);
    expect(r.state()).toBe('rolling_back');
    r.engine.submit(jobSpec({ labels: { v: '3' } }));
    expect(r.engine.status(`${JOB}#2`)).toMatchObject({ state: 'canceled', counts: { stopped: 1 } });
    expect(r.executor.stops.at(-1)).toMatchObject({ node: 'n-01', version: 1, executionId: `${JOB}#2/n-01/revert-2` });
  });
});

describe('§7 timeouts', () => {
  it('§7 queue_timeout: a deployment that started no node within it fails (pending: nothing to roll back)', () => {
    const r = rig({ fleet: [] });
    r.engine.submit(jobSpec({ timeouts: { queue_timeout: 60 } }));
    r.advance(MINUTE);
    expect(r.engine.status(JOB)).toMatchObject({ state: 'failed', reason: 'queue_timeout', ended_at: MINUTE });
  });

  it('§7 queue_timeout no longer applies once a node started', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec({ timeouts: { queue_timeout: 60 } }));
    r.advance(2 * MINUTE);
    expect(r.state()).toBe('in_progress');
  });

  it('§7 queue_timeout covers a deployment waiting on the engine-wide cap', () => {
    const r = rig({ fleet: nodes(2), engine: { maxConcurrentUpdates: 1 } });
    r.engine.submit(jobSpec({ name: 'a' }));
    r.engine.submit(jobSpec({ name: 'b', timeouts: { queue_timeout: 60 } }));
    r.advance(MINUTE);
    expect(r.engine.status('default/b')).toMatchObject({ state: 'failed', reason: 'queue_timeout' });
  });

  it('§7 total_timeout fails the deployment, measured from its creation', () => {
    const r = rig({ fleet: nodes(2) });
    r.advance(5 * SECOND);
    r.engine.submit(jobSpec({ timeouts: { total_timeout: 90 } }));
    r.advance(90 * SECOND);
    expect(r.engine.status(JOB)).toMatchObject({ state: 'failed', reason: 'total_timeout', failed_at: 95 * SECOND });
  });
});

describe('§7 priority and the engine-wide cap', () => {
  it('§7 a freed slot goes to the deployment of higher priority, then to the older one', () => {
    const r = rig({ fleet: nodes(1), engine: { maxConcurrentUpdates: 1 } });
    const jobs = [
      ['first', 10],
      ['older', 50],
      ['urgent', 90],
      ['younger', 50],
    ] as const;
    for (const [name, priority] of jobs) r.engine.submit(jobSpec({ name, priority }));
    for (let i = 0; i < 4; i++) {
      const current = r.executor.starts.at(-1)!;
      r.engine.reportHealth({ node: 'n-01', job: current.job, version: 1, healthy: true });
      r.advance(30 * SECOND);
    }
    expect(r.executor.starts.map((s) => s.job)).toEqual(['default/first', 'default/urgent', 'default/older', 'default/younger']);
  });

  it('§7 the cap bounds node updates across deployments at every moment', () => {
    const r = rig({ fleet: nodes(6), engine: { maxConcurrentUpdates: 3 } });
    let worst = 0;
    const inFlight = () => r.engine.deployments().reduce((n, d) => n + d.counts.updating, 0);
    r.engine.on('node.started', () => (worst = Math.max(worst, inFlight())));
    for (const name of ['a', 'b', 'c']) r.engine.submit(jobSpec({ name, deployment: { max_parallel: 0, strategy: 'immediate', health_check: undefined } }));
    for (const name of ['a', 'b', 'c']) for (const n of nodes(6)) r.engine.reportExecution({ node: n.id, job: `default/${name}`, version: 1, status: 'started' });
    for (const name of ['a', 'b', 'c']) for (const n of nodes(6)) r.engine.reportExecution({ node: n.id, job: `default/${name}`, version: 1, status: 'started' });
    expect(worst).toBe(3);
    expect(r.engine.deployments().map((d) => d.state)).toEqual(['completed', 'completed', 'completed']);
  });
});

describe('§7 pending and nodes joining or leaving', () => {
  it('§7 a deployment with no eligible node waits pending and starts when one appears', () => {
    const r = rig({ fleet: [{ id: 'x', labels: { role: 'db' }, connected: true }] });
    r.engine.submit(jobSpec({ selector: { match_labels: { role: 'app' }, match_expressions: [], match_ids: [] } }));
    expect(r.engine.status(JOB)).toMatchObject({ state: 'pending', reason: 'no_eligible_node', targeted: 0 });
    r.engine.upsertNode({ id: 'y', labels: { role: 'app' }, connected: false });
    expect(r.state()).toBe('pending');
    r.engine.setConnected('y', true);
    expect(r.state()).toBe('in_progress');
    expect(started(r)).toEqual(['y']);
  });

  it('§7 a pipeline job\'s newly joined matching node joins the end of the rollout order', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec());
    r.engine.upsertNode({ id: 'a-first-by-id', labels: {}, connected: true });
    settle(r, 'n-01');
    settle(r, 'n-02');
    expect(started(r)).toEqual(['n-01', 'n-02', 'a-first-by-id']);
    expect(r.engine.status(JOB)?.targeted).toBe(3);
  });

  it('§7 after completion a pipeline job\'s newly joined node is updated directly', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec());
    settle(r, 'n-01');
    expect(r.state()).toBe('completed');
    r.engine.upsertNode({ id: 'late', labels: {}, connected: true });
    expect(r.of('node.started').at(-1)).toMatchObject({ node: 'late', deployment: D1 });
    settle(r, 'late');
    expect(r.engine.nodeState(D1, 'late')).toBe('stable');
    expect(r.state()).toBe('completed');
  });

  it('§7 run-to-completion jobs do not take nodes that join during the rollout (decided)', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec({ type: 'query' }));
    r.engine.upsertNode({ id: 'late', labels: {}, connected: true });
    expect(r.engine.nodeState(D1, 'late')).toBeUndefined();
  });

  it('§7 a node leaving while updating is dropped (decided): execution stopped, not judged, slot freed', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { max_failed_nodes: 0 } }));
    r.engine.removeNode('n-01');
    expect(r.engine.nodeState(D1, 'n-01')).toBe('removed');
    expect(r.executor.stops).toEqual([expect.objectContaining({ node: 'n-01' })]);
    expect(started(r)).toEqual(['n-01', 'n-02']);
    r.advance(10 * MINUTE);
    expect(r.of('node.failed').map((e) => e.node)).toEqual(['n-02']);
  });

  it('§7 a node whose turn comes while disconnected is passed over, and rejoins at the end when it reconnects', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: tolerant }));
    r.engine.setConnected('n-02', false);
    settle(r, 'n-01');
    expect(r.engine.nodeState(D1, 'n-02')).toBe('untouched');
    expect(started(r)).toEqual(['n-01', 'n-03']);
    r.engine.setConnected('n-02', true);
    settle(r, 'n-03');
    expect(started(r)).toEqual(['n-01', 'n-03', 'n-02']);
    settle(r, 'n-02');
    expect(r.engine.status(JOB)).toMatchObject({ state: 'completed', targeted: 3, counts: { stable: 3, untouched: 0 } });
  });

  it('§7 a deployment completes without a node that stayed away (untouched)', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec());
    r.engine.setConnected('n-02', false);
    settle(r, 'n-01');
    expect(r.engine.status(JOB)).toMatchObject({ state: 'completed', counts: { stable: 1, untouched: 1 } });
  });
});

describe('§7 pausing a pending deployment', () => {
  it('§7 a paused pending deployment takes joining nodes but starts none until resumed', () => {
    const r = rig({ fleet: [] });
    r.engine.submit(jobSpec({ deployment: { strategy: 'canary', canary_percent: 50 } }));
    r.engine.pause(JOB);
    for (const n of nodes(4)) r.engine.upsertNode(n);
    expect(started(r)).toEqual([]);
    expect(r.engine.status(JOB)?.targeted).toBe(4);
    r.engine.resume(JOB);
    expect(r.state()).toBe('in_progress');
    // the canary group is fixed when the rollout starts: half of the 4 nodes gathered meanwhile
    expect(r.engine.status(JOB)?.canary_nodes).toEqual(['n-01', 'n-02']);
    expect(started(r)).toEqual(['n-01']);
  });
});

describe('§7 decisions where the contract is silent', () => {
  it('§7 queue_timeout keeps running while paused (only total_timeout stops)', () => {
    const r = rig({ fleet: [] });
    r.engine.submit(jobSpec({ timeouts: { queue_timeout: 60 } }));
    r.engine.pause(JOB);
    r.advance(MINUTE);
    expect(r.engine.status(JOB)).toMatchObject({ state: 'failed', reason: 'queue_timeout' });
  });

  it('§7 superseding a completed deployment stops its late joiners still in flight', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec());
    settle(r, 'n-01');
    r.engine.upsertNode({ id: 'late', labels: {}, connected: true });
    r.engine.submit(jobSpec({ labels: { v: '2' } }));
    expect(r.engine.status(D1)).toMatchObject({ state: 'completed', counts: { stable: 1, stopped: 1 } });
    expect(r.executor.stops).toEqual([expect.objectContaining({ node: 'late', version: 1 })]);
  });

  it('§3 §7 eligibility matters only at start: a node whose labels stop matching while it updates is still judged', () => {
    const r = rig({ fleet: nodes(1, { role: 'app' }) });
    r.engine.submit(jobSpec({ selector: { match_labels: { role: 'app' }, match_expressions: [], match_ids: [] } }));
    r.engine.upsertNode({ id: 'n-01', labels: { role: 'db' }, connected: true });
    settle(r, 'n-01');
    expect(r.engine.nodeState(D1, 'n-01')).toBe('stable');
  });
});
