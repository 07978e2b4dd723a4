import { describe, expect, it } from 'vitest';
import { jobSpec, JOB, nodes, rig, SECOND } from './support/engineFixture.js';

describe('§8 trace events', () => {
  it('§8 a canary rollout that fails and rolls back emits every trace type with its fields', () => {
    const r = rig({ fleet: nodes(4) });
    r.engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
    for (const n of nodes(4)) r.exec(n.id, 'started');
    r.engine.submit(jobSpec({ labels: { v: '2' }, deployment: { strategy: 'canary', canary_count: 1, auto_promote: true, max_parallel: 2, max_failed_nodes: 0 } }));
    r.healthy('n-01', 2);
    r.advance(30 * SECOND);
    r.unhealthy('n-01', 2);
    r.exec('n-02', 'failed', 2);
    r.exec('n-01', 'started', 1);
    r.clock.runUntilIdle();

    const d2 = `${JOB}#2`;
    const numbered = r.events.filter((e) => e.deployment === d2);
    // §7a: every event but a decision carries a growing seq; the fields of §8 are checked without it.
    const seqs = numbered.filter((e) => e.type !== 'decision').map((e) => e.seq as number);
    expect(seqs.every((seq, i) => Number.isInteger(seq) && (i === 0 || seq > seqs[i - 1]!))).toBe(true);
    const mine = numbered.map(({ seq: _seq, ...e }) => e as typeof e & { type: string });
    expect(mine.find((e) => e.type === 'deployment.created')).toEqual({
      type: 'deployment.created', at: 0, deployment: d2, job: JOB, kind: 'update', from_version: 1, to_version: 2, strategy: 'canary', targeted: 4, canaries: 1,
    });
    expect(mine.filter((e) => e.type === 'deployment.state').map((e) => e.state)).toEqual(['in_progress', 'failed', 'rolling_back', 'rolled_back']);
    expect(mine.find((e) => e.type === 'deployment.promoted')).toEqual({ type: 'deployment.promoted', at: 30 * SECOND, deployment: d2, auto: true });
    expect(mine.find((e) => e.type === 'node.started')).toEqual({ type: 'node.started', at: 0, deployment: d2, node: 'n-01', version: 2, canary: true });
    expect(mine.find((e) => e.type === 'node.stable')).toEqual({ type: 'node.stable', at: 30 * SECOND, deployment: d2, node: 'n-01', version: 2 });
    expect(mine.find((e) => e.type === 'node.degraded')).toEqual({ type: 'node.degraded', at: 30 * SECOND, deployment: d2, node: 'n-01', version: 2 });
    expect(mine.find((e) => e.type === 'node.failed')).toEqual({ type: 'node.failed', at: 30 * SECOND, deployment: d2, node: 'n-02', version: 2, reason: 'execution_failed' });
    expect(mine.find((e) => e.type === 'node.reverting')).toEqual({ type: 'node.reverting', at: 30 * SECOND, deployment: d2, node: 'n-01', version: 1 });
    expect(mine.find((e) => e.type === 'node.reverted')).toEqual({ type: 'node.reverted', at: 30 * SECOND, deployment: d2, node: 'n-01', version: 1 });
    expect(mine.find((e) => e.type === 'node.revert_failed')).toMatchObject({ deployment: d2, node: 'n-02', version: 1 });
    const decisions = mine.filter((e) => e.type === 'decision').map((e) => e.action);
    for (const action of ['start', 'promote', 'fail', 'rollback']) expect(decisions).toContain(action);
    for (const e of mine.filter((e) => e.type === 'decision')) expect(String(e.reason).length).toBeGreaterThan(5);
  });

  it('§8 events come in time order and a deployment is created before its other events', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { max_parallel: 1 } }));
    for (const n of nodes(3)) {
      r.healthy(n.id);
      r.advance(30 * SECOND);
    }
    const times = r.events.map((e) => e.at as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(r.events[0]?.type).toBe('deployment.created');
  });
});
