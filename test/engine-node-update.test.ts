import { describe, expect, it } from 'vitest';
import { jobSpec, JOB, MINUTE, nodes, rig, SECOND } from './support/engineFixture.js';

const D1 = `${JOB}#1`;

/** One node, rolled out with a 5m deadline and 30s min_healthy_time; failures tolerated so each rule is seen alone. */
function oneNode(overrides: Parameters<typeof jobSpec>[0] = {}) {
  const r = rig({ fleet: nodes(1) });
  r.engine.submit(jobSpec({ ...overrides, deployment: { max_failed_nodes: 100, max_failed_nodes_percent: 100, ...overrides.deployment } }));
  return r;
}

describe('§4 pipeline nodes under rolling and canary', () => {
  it('§4 a node is stable exactly min_healthy_time after the first report of its passing streak (a timer, not the next report)', () => {
    const r = oneNode();
    r.advance(10 * SECOND);
    r.healthy('n-01');
    r.advance(30 * SECOND - 1);
    expect(r.engine.nodeState(D1, 'n-01')).toBe('updating');
    r.advance(1);
    expect(r.of('node.stable')).toEqual([expect.objectContaining({ at: 40 * SECOND, node: 'n-01', version: 1 })]);
  });

  it('§4 passing reports within the streak do not move the stable time', () => {
    const r = oneNode();
    r.healthy('n-01');
    for (let t = 0; t < 3; t++) {
      r.advance(10 * SECOND - 1);
      r.healthy('n-01');
    }
    r.advance(3);
    expect(r.of('node.stable')[0]?.at).toBe(30 * SECOND);
  });

  it('§4 any non-passing report ends the streak; the next passing report starts a new one', () => {
    const r = oneNode();
    r.healthy('n-01');
    r.advance(20 * SECOND);
    r.unhealthy('n-01');
    r.advance(5 * SECOND);
    r.healthy('n-01');
    r.advance(30 * SECOND - 1);
    expect(r.engine.nodeState(D1, 'n-01')).toBe('updating');
    r.advance(1);
    expect(r.of('node.stable')[0]?.at).toBe(55 * SECOND);
  });

  it('§4 a report above max_error_rate is not passing and ends the streak', () => {
    const r = oneNode();
    r.healthy('n-01', 1, 0.05);
    r.advance(10 * SECOND);
    r.healthy('n-01', 1, 0.5);
    r.advance(30 * SECOND);
    expect(r.engine.nodeState(D1, 'n-01')).toBe('updating');
  });

  it('§4 with min_healthy_time 0 the first passing report makes the node stable', () => {
    const r = oneNode({ deployment: { health_check: { deadline: '5m', min_healthy_time: '0s', max_error_rate: 0.1 } } });
    r.advance(7 * SECOND);
    r.healthy('n-01');
    expect(r.of('node.stable')).toEqual([expect.objectContaining({ at: 7 * SECOND })]);
  });

  it('§4 a node not stable by deadline after its update started fails with deadline_exceeded', () => {
    const r = oneNode();
    r.advance(5 * MINUTE - 1);
    expect(r.engine.nodeState(D1, 'n-01')).toBe('updating');
    r.advance(1);
    expect(r.of('node.failed')).toEqual([expect.objectContaining({ at: 5 * MINUTE, node: 'n-01', reason: 'deadline_exceeded' })]);
  });

  it('§4 a streak that would end exactly at the deadline loses: the deadline was scheduled first', () => {
    const r = oneNode();
    r.advance(4 * MINUTE + 30 * SECOND);
    r.healthy('n-01'); // stable would be due at 5m, the deadline's instant
    r.advance(30 * SECOND);
    expect(r.engine.nodeState(D1, 'n-01')).toBe('failed');
    expect(r.of('node.stable')).toEqual([]);
  });

  it('§4 the executor reporting the execution failed fails the node at once (execution_failed)', () => {
    const r = oneNode();
    r.advance(3 * SECOND);
    r.exec('n-01', 'failed');
    expect(r.of('node.failed')).toEqual([expect.objectContaining({ at: 3 * SECOND, reason: 'execution_failed' })]);
  });

  it('§4 a disconnected node keeps its deadline running', () => {
    const r = oneNode();
    r.advance(10 * SECOND);
    r.engine.setConnected('n-01', false);
    r.advance(5 * MINUTE);
    expect(r.of('node.failed')).toEqual([expect.objectContaining({ at: 5 * MINUTE, reason: 'deadline_exceeded' })]);
  });

  it('§4 disconnection ends a passing streak (decided): a version that cuts nodes off fails', () => {
    const r = oneNode();
    r.healthy('n-01');
    r.advance(10 * SECOND);
    r.engine.setConnected('n-01', false);
    r.advance(5 * MINUTE);
    expect(r.of('node.stable')).toEqual([]);
    expect(r.of('node.failed')).toEqual([expect.objectContaining({ reason: 'deadline_exceeded' })]);
  });

  it('§4 a disconnected node whose reports still arrive is judged by them', () => {
    const r = oneNode();
    r.engine.setConnected('n-01', false);
    r.healthy('n-01');
    r.advance(30 * SECOND);
    expect(r.engine.nodeState(D1, 'n-01')).toBe('stable');
  });

  it('§4 once stable, later trouble is reported as degraded and never fails the deployment', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec({ deployment: { max_failed_nodes: 0 } }));
    r.healthy('n-01');
    r.advance(30 * SECOND);
    r.unhealthy('n-01');
    r.exec('n-01', 'failed');
    expect(r.of('node.degraded')).toEqual([expect.objectContaining({ node: 'n-01', version: 1 })]);
    expect(r.engine.nodeState(D1, 'n-01')).toBe('degraded');
    r.healthy('n-02');
    r.advance(30 * SECOND);
    expect(r.state()).toBe('completed');
    expect(r.of('node.failed')).toEqual([]);
  });

  it('§4 a degraded node that passes again is stable again (no second stable event)', () => {
    const r = oneNode();
    r.healthy('n-01');
    r.advance(30 * SECOND);
    r.unhealthy('n-01');
    r.healthy('n-01');
    expect(r.engine.nodeState(D1, 'n-01')).toBe('stable');
    expect(r.of('node.stable')).toHaveLength(1);
  });

  it('§4 health reports count only once the update started; started/succeeded reports do not make a pipeline stable', () => {
    const r = oneNode();
    r.exec('n-01', 'started');
    r.exec('n-01', 'succeeded');
    r.advance(MINUTE);
    expect(r.engine.nodeState(D1, 'n-01')).toBe('updating');
  });
});

describe('§4 run-to-completion jobs (query, update, config)', () => {
  for (const type of ['query', 'update', 'config'] as const) {
    it(`§4 ${type}: stable when the execution reports success`, () => {
      const r = oneNode({ type });
      r.exec('n-01', 'started');
      expect(r.engine.nodeState(D1, 'n-01')).toBe('updating');
      r.exec('n-01', 'succeeded');
      expect(r.engine.nodeState(D1, 'n-01')).toBe('stable');
    });
  }

  it('§4 fails on a failed completion', () => {
    const r = oneNode({ type: 'update' });
    r.exec('n-01', 'failed');
    expect(r.of('node.failed')).toEqual([expect.objectContaining({ reason: 'execution_failed' })]);
  });

  it('§4 fails on execution_timeout (> 0), measured from the update start', () => {
    const r = oneNode({ type: 'config', timeouts: { execution_timeout: 20 } });
    r.exec('n-01', 'started');
    r.advance(20 * SECOND);
    expect(r.of('node.failed')).toEqual([expect.objectContaining({ at: 20 * SECOND, reason: 'execution_timeout' })]);
  });

  it('§4 fails on the health-check deadline', () => {
    const r = oneNode({ type: 'query' });
    r.advance(5 * MINUTE);
    expect(r.of('node.failed')).toEqual([expect.objectContaining({ reason: 'deadline_exceeded' })]);
  });

  it('§4 health reports do not judge a run-to-completion job', () => {
    const r = oneNode({ type: 'query', deployment: { health_check: { deadline: '5m', min_healthy_time: '0s', max_error_rate: 0.1 } } });
    r.healthy('n-01');
    expect(r.engine.nodeState(D1, 'n-01')).toBe('updating');
  });

  it('§4 under immediate a run-to-completion job still needs its success (decided: the job type wins)', () => {
    const r = oneNode({ type: 'query', deployment: { strategy: 'immediate', health_check: undefined } });
    r.exec('n-01', 'started');
    expect(r.engine.nodeState(D1, 'n-01')).toBe('updating');
    r.exec('n-01', 'succeeded');
    expect(r.engine.nodeState(D1, 'n-01')).toBe('stable');
  });
});

describe('§4 immediate', () => {
  const immediate = { strategy: 'immediate' as const, health_check: undefined, max_parallel: 2 };

  it('§4 §5 every targeted node starts at once, max_parallel ignored', () => {
    const r = rig({ fleet: nodes(5) });
    r.engine.submit(jobSpec({ deployment: immediate }));
    expect(r.of('node.started').map((e) => e.node)).toEqual(['n-01', 'n-02', 'n-03', 'n-04', 'n-05']);
  });

  it('§4 a node is stable as soon as its execution reports started; health is ignored', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec({ deployment: immediate }));
    r.unhealthy('n-01');
    r.exec('n-01', 'started');
    expect(r.engine.nodeState(D1, 'n-01')).toBe('stable');
    r.advance(60 * MINUTE);
    expect(r.engine.nodeState(D1, 'n-02')).toBe('updating'); // no deadline under immediate
  });

  it('§4 a node fails when its execution fails', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec({ deployment: immediate }));
    r.exec('n-02', 'failed');
    expect(r.of('node.failed')).toEqual([expect.objectContaining({ node: 'n-02', reason: 'execution_failed' })]);
  });
});

describe('§4 reports that change nothing are counted', () => {
  function started() {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec());
    return r;
  }

  it('§4 a report for another version is stale', () => {
    const r = started();
    r.healthy('n-01', 7);
    r.exec('n-01', 'failed', 0);
    expect(r.engine.ignoredReports.stale_version).toBe(2);
    expect(r.engine.nodeState(D1, 'n-01')).toBe('updating');
    expect(r.of('report.ignored')).toEqual([
      expect.objectContaining({ node: 'n-01', job: JOB, reason: 'stale_version' }),
      expect.objectContaining({ reason: 'stale_version' }),
    ]);
  });

  it('§4 a report from a node not in the fleet is unknown_node', () => {
    const r = started();
    r.healthy('ghost');
    expect(r.engine.ignoredReports.unknown_node).toBe(1);
  });

  it('§4 a report for a job never submitted is unknown_job', () => {
    const r = started();
    r.engine.reportHealth({ node: 'n-01', job: 'default/other', version: 1, healthy: true });
    expect(r.engine.ignoredReports.unknown_job).toBe(1);
  });

  it('§4 an execution status reported twice is a duplicate', () => {
    const r = started();
    r.exec('n-01', 'started');
    r.exec('n-01', 'started');
    expect(r.engine.ignoredReports.duplicate).toBe(1);
  });

  it('§4 a report for a node that is not updating (not yet started) changes nothing', () => {
    const r = started();
    r.exec('n-02', 'failed');
    r.healthy('n-02');
    expect(r.engine.ignoredReports.not_updating).toBe(2);
    expect(r.engine.nodeState(D1, 'n-02')).toBe('pending');
    expect(r.of('node.failed')).toEqual([]);
  });
});
