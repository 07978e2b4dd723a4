/**
 * The engine semantics contract v1.1 adds (§1 resubmission, §5 canary
 * evidence, §6 supersede then rollback, §7 rollback default and bounded
 * history), each decision as docs/engine-decisions.md states it.
 */
import { describe, expect, it } from 'vitest';
import { CommandError, DEFAULT_HISTORY_LIMIT, Engine, isAtRest, MemoryStore, openEngine } from '../src/engine/index.js';
import { VirtualClock } from '../src/engine/clocks/virtualClock.js';
import { jobSpec, JOB, MINUTE, nodes, RecordingExecutor, rig, SECOND, type Rig } from './support/engineFixture.js';

const immediate = { strategy: 'immediate' as const, health_check: undefined };
const v = (n: number) => ({ labels: { v: String(n) } });
const settle = (r: Rig, node: string, version: number) => {
  r.healthy(node, version);
  r.advance(30 * SECOND);
};
/** Version `version` completed on every node given (immediate: started is stable). */
const completeImmediate = (r: Rig, version: number, ids: string[]) => ids.forEach((id) => r.exec(id, 'started', version));

describe('§1 v1.1 resubmitting a rejected version', () => {
  function rolledBackV2(): Rig {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec({ deployment: immediate }));
    completeImmediate(r, 1, ['n-01', 'n-02']);
    r.engine.submit(jobSpec({ ...v(2), deployment: immediate }));
    r.exec('n-01', 'failed', 2);
    return r;
  }

  it('§1 v1.1: a spec equal to the latest submitted version whose deployment rolled back is unchanged, says what became of it, starts nothing', () => {
    const r = rolledBackV2();
    expect(r.engine.status(JOB)).toMatchObject({ state: 'rolling_back', to_version: 2 });
    const starts = r.executor.starts.length;
    const again = r.engine.submit(jobSpec({ ...v(2), deployment: immediate }));
    expect(again).toEqual({
      job: JOB,
      version: 2,
      unchanged: true,
      deployment: null,
      rejected: { version: 2, deployment: `${JOB}#2`, state: 'rolling_back', reason: 'failure_rule' },
    });
    // The rollback it would have canceled goes on.
    r.exec('n-01', 'started', 1);
    r.exec('n-02', 'started', 1);
    expect(r.engine.status(JOB)).toMatchObject({ id: `${JOB}#2`, state: 'rolled_back' });
    expect(r.engine.submit(jobSpec({ ...v(2), deployment: immediate })).rejected).toMatchObject({ version: 2, state: 'rolled_back' });
    expect(r.executor.starts.length).toBe(starts); // the reverts began with the failure: nothing new
  });

  it('§1 v1.1: retry deploys the rejected spec again as a new version', () => {
    const r = rolledBackV2();
    r.exec('n-01', 'started', 1);
    r.exec('n-02', 'started', 1);
    const retried = r.engine.submit(jobSpec({ ...v(2), deployment: immediate }), { retry: true });
    expect(retried).toEqual({ job: JOB, version: 3, unchanged: false, deployment: `${JOB}#3` });
    expect(r.of('deployment.created').at(-1)).toMatchObject({ kind: 'update', from_version: 1, to_version: 3 });
  });

  it('§1 v1.1: a failed deployment without rollback and a canceled one count as rejected too; the current version stays plainly unchanged', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec({ deployment: { ...immediate, no_auto_rollback: true } }));
    r.exec('n-01', 'failed', 1);
    expect(r.engine.submit(jobSpec({ deployment: { ...immediate, no_auto_rollback: true } })).rejected).toEqual({
      version: 1,
      deployment: `${JOB}#1`,
      state: 'failed',
      reason: 'failure_rule',
    });

    const s = rig({ fleet: nodes(2) });
    s.engine.submit(jobSpec({ deployment: immediate }));
    completeImmediate(s, 1, ['n-01', 'n-02']);
    s.engine.submit(jobSpec(v(2)));
    s.engine.rollback(JOB, 1); // cancels v2's deployment
    expect(s.engine.submit(jobSpec(v(2))).rejected).toMatchObject({ version: 2, state: 'canceled', reason: 'superseded' });
    expect(s.engine.submit(jobSpec({ deployment: immediate }))).toEqual({ job: JOB, version: 1, unchanged: true, deployment: null });
  });

  it('§1 v1.1: once an explicit rollback deployed the rejected version successfully, its spec is plainly unchanged', () => {
    const r = rolledBackV2();
    r.exec('n-01', 'started', 1);
    r.exec('n-02', 'started', 1);
    expect(r.engine.rollback(JOB, 2)).toMatchObject({ version: 2, unchanged: false });
    completeImmediate(r, 2, ['n-01', 'n-02']);
    expect(r.engine.submit(jobSpec({ ...v(2), deployment: immediate }))).toEqual({ job: JOB, version: 2, unchanged: true, deployment: null });
  });

  it('§1 v1.1: the decision survives a restart (journal replay and snapshot)', () => {
    const store = new MemoryStore();
    const clock = new VirtualClock();
    const engine = openEngine({ executor: new RecordingExecutor(), clock, store });
    for (const node of nodes(1)) engine.upsertNode(node);
    engine.submit(jobSpec({ deployment: immediate }));
    engine.reportExecution({ node: 'n-01', job: JOB, version: 1, status: 'started' });
    engine.submit(jobSpec({ ...v(2), deployment: immediate }));
    engine.reportExecution({ node: 'n-01', job: JOB, version: 2, status: 'failed' });
    engine.dispose();
    const reopened = openEngine({ executor: new RecordingExecutor(), clock, store });
    expect(reopened.submit(jobSpec({ ...v(2), deployment: immediate })).rejected).toMatchObject({ version: 2, state: 'rolling_back' });
    const restored = Engine.restore(JSON.parse(JSON.stringify(reopened.snapshot())), { executor: new RecordingExecutor(), clock });
    expect(restored.submit(jobSpec({ ...v(2), deployment: immediate }), { retry: true })).toMatchObject({ version: 3, unchanged: false });
  });
});

describe('§7 v1.1 rollback default', () => {
  it('§7 v1.1: rollback(job) after a successful v2 goes to v1, and after that back to v2 (kubectl rollout undo)', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec({ deployment: immediate }));
    completeImmediate(r, 1, ['n-01', 'n-02']);
    r.engine.submit(jobSpec({ ...v(2), deployment: immediate }));
    completeImmediate(r, 2, ['n-01', 'n-02']);
    expect(r.engine.rollback(JOB)).toEqual({ job: JOB, version: 1, unchanged: false, deployment: `${JOB}#3` });
    expect(r.of('deployment.created').at(-1)).toMatchObject({ kind: 'rollback', from_version: 2, to_version: 1 });
    completeImmediate(r, 1, ['n-01', 'n-02']);
    expect(r.engine.status(JOB)).toMatchObject({ state: 'completed', to_version: 1 });
    expect(r.engine.rollback(JOB)).toMatchObject({ version: 2, unchanged: false, deployment: `${JOB}#4` });
  });

  it('§7 v1.1: with only the current version ever completed there is nothing to roll back to: a clear error', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec({ deployment: immediate }));
    r.exec('n-01', 'started', 1);
    expect(() => r.engine.rollback(JOB)).toThrow(CommandError);
    try {
      r.engine.rollback(JOB);
    } catch (error) {
      expect((error as CommandError).code).toBe('no_completed_version');
      expect((error as CommandError).message).toContain('name a version');
    }
  });

  it('§7 v1.1: while v3 rolls out, rollback(job) goes to the last completed version', () => {
    const r = rig({ fleet: nodes(2) });
    r.engine.submit(jobSpec({ deployment: immediate }));
    completeImmediate(r, 1, ['n-01', 'n-02']);
    r.engine.submit(jobSpec({ ...v(2), deployment: immediate }));
    completeImmediate(r, 2, ['n-01', 'n-02']);
    r.engine.submit(jobSpec(v(3)));
    expect(r.engine.rollback(JOB)).toMatchObject({ version: 2, unchanged: false });
  });
});

describe('§5 v1.1 canary evidence', () => {
  const canary = (count: number) => ({ strategy: 'canary' as const, canary_count: count, max_parallel: 0, max_failed_nodes: 100, max_failed_nodes_percent: 100 });

  it('§5 v1.1: removing the only canary replaces it by the next node of the rollout order; promotion waits for its evidence', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { ...canary(1), auto_promote: true } }));
    expect(r.of('node.started').map((e) => [e.node, e.canary])).toEqual([['n-01', true]]);
    r.engine.removeNode('n-01');
    expect(r.of('deployment.promoted')).toEqual([]);
    expect(r.of('node.started').map((e) => [e.node, e.canary])).toEqual([['n-01', true], ['n-02', true]]);
    settle(r, 'n-02', 1);
    expect(r.of('deployment.promoted')).toHaveLength(1);
    expect(r.engine.status(JOB)!.canary_nodes).toEqual(['n-01', 'n-02']);
  });

  it('§5 v1.1: a canary passed over (not eligible when its turn came) is replaced, so c canaries are judged', () => {
    const r = rig({ fleet: nodes(4) });
    r.engine.submit(jobSpec({ deployment: { ...canary(2), max_parallel: 1 } }));
    r.engine.setConnected('n-02', false);
    settle(r, 'n-01', 1); // n-02's turn: passed over; n-03 replaces it
    const started = r.of('node.started').map((e) => [e.node, e.canary]);
    expect(started).toEqual([['n-01', true], ['n-03', true]]);
    expect(r.state()).toBe('in_progress');
    settle(r, 'n-03', 1);
    expect(r.state()).toBe('awaiting_promotion');
    expect(r.engine.status(JOB)!.counts).toMatchObject({ stable: 2, untouched: 1, pending: 1 });
  });

  it('§5 v1.1: with no stable canary the deployment is never promoted; a node that joins becomes the owed canary', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec({ deployment: { ...canary(1), auto_promote: true } }));
    r.engine.removeNode('n-01');
    expect(r.state()).toBe('in_progress');
    expect(r.of('deployment.promoted')).toEqual([]);
    expect(() => r.engine.promote(JOB)).toThrow(CommandError);
    r.advance(60 * MINUTE);
    expect(r.of('deployment.promoted')).toEqual([]);
    expect(r.engine.status(JOB)!.reason).toBe('no_canary_evidence');
    r.engine.upsertNode({ id: 'n-09', labels: {}, connected: true });
    expect(r.of('node.started').at(-1)).toMatchObject({ node: 'n-09', canary: true });
    expect(r.engine.status(JOB)!.reason).toBeNull();
    settle(r, 'n-09', 1);
    expect(r.of('deployment.promoted')).toHaveLength(1);
  });

  it('§5 v1.1: canaries that all failed within the budget give no evidence: not promoted', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { ...canary(1), auto_promote: true } }));
    r.exec('n-01', 'failed', 1);
    // At rest like `pending`: it waits for an operator (abort) or a new version.
    expect(r.engine.status(JOB)).toMatchObject({ state: 'in_progress', reason: 'no_canary_evidence', promoted: false });
    expect(isAtRest(r.engine.status(JOB)!)).toBe(true);
    expect(r.of('node.started').map((e) => e.node)).toEqual(['n-01']);
  });
});

describe('§6 v1.1 supersede then rollback', () => {
  it('§6 v1.1: nodes a superseded deployment exposed are reverted by the rollback that follows: no mixed fleet', () => {
    const r = rig({ fleet: nodes(4) });
    r.engine.submit(jobSpec({ deployment: immediate }));
    completeImmediate(r, 1, ['n-01', 'n-02', 'n-03', 'n-04']);
    r.engine.submit(jobSpec({ ...v(2), deployment: { max_parallel: 1, max_failed_nodes: 0 } }));
    settle(r, 'n-01', 2); // n-01 runs v2, n-02 updating to v2
    r.engine.submit(jobSpec({ ...v(3), deployment: { max_parallel: 1, max_failed_nodes: 0 } })); // v3 starts on n-01
    r.exec('n-01', 'failed', 3);
    expect(r.engine.status(JOB)).toMatchObject({ state: 'rolling_back', rollback_target: 1 });
    const reverts = r.of('node.reverting').map((e) => [e.node, e.version]);
    expect(reverts).toEqual([['n-01', 1], ['n-02', 1]]);
    r.exec('n-01', 'started', 1);
    r.advance(10 * MINUTE); // n-02's revert is never confirmed
    expect(r.engine.status(JOB)).toMatchObject({ state: 'rolled_back' });
    expect(r.engine.nodeState(`${JOB}#3`, 'n-01')).toBe('reverted');
    expect(r.engine.nodeState(`${JOB}#3`, 'n-02')).toBe('revert_failed');
  });

  it('§6 v1.1: a failed deployment without rollback leaves its nodes to the next rollback, across a changed selector', () => {
    const r = rig({ fleet: [...nodes(2, { tier: 'a' }), { id: 'n-03', labels: { tier: 'b' }, connected: true }] });
    r.engine.submit(jobSpec({ deployment: immediate }));
    completeImmediate(r, 1, ['n-01', 'n-02', 'n-03']);
    r.engine.submit(jobSpec({ ...v(2), deployment: { ...immediate, no_auto_rollback: true, max_failed_nodes: 0 } }));
    r.exec('n-03', 'started', 2);
    r.exec('n-01', 'failed', 2);
    expect(r.engine.status(JOB)).toMatchObject({ state: 'failed' });
    r.engine.submit(jobSpec({ ...v(3), selector: { match_labels: { tier: 'a' }, match_expressions: [], match_ids: [] }, deployment: { ...immediate, max_failed_nodes: 0 } }));
    r.exec('n-01', 'failed', 3);
    const reverted = r.of('node.reverting').map((e) => e.node).sort();
    expect(reverted).toEqual(['n-01', 'n-02', 'n-03']);
    for (const id of ['n-01', 'n-02', 'n-03']) r.exec(id, 'started', 1);
    expect(r.engine.status(JOB)).toMatchObject({ state: 'rolled_back', counts: { reverted: 3 } });
  });
});

describe('§7 v1.1 bounded history', () => {
  it(`§7 v1.1: ended deployments beyond the most recent historyLimit (default ${DEFAULT_HISTORY_LIMIT}) are forgotten, never the rollback target`, () => {
    const r = rig({ fleet: nodes(1), engine: { historyLimit: 3 } });
    r.engine.submit(jobSpec({ deployment: immediate }));
    r.exec('n-01', 'started', 1);
    for (let i = 2; i <= 8; i++) {
      r.engine.submit(jobSpec({ ...v(i), deployment: { ...immediate, max_failed_nodes: 0 } }));
      r.exec('n-01', 'failed', i); // each rolls back to v1
      r.exec('n-01', 'started', 1);
    }
    const kept = r.engine.deployments().map((d) => d.id);
    expect(kept).toEqual([`${JOB}#1`, `${JOB}#6`, `${JOB}#7`, `${JOB}#8`]);
    const snapshot = r.engine.snapshot() as unknown as { deployments: unknown[]; jobs: { versions: Record<string, unknown> }[] };
    expect(snapshot.deployments).toHaveLength(4);
    expect(Object.keys(snapshot.jobs[0]!.versions)).toEqual(['1', '6', '7', '8']);
    // The kept target still works; a forgotten version is a clear error.
    expect(r.engine.rollback(JOB, 1)).toMatchObject({ unchanged: true });
    try {
      r.engine.rollback(JOB, 3);
      throw new Error('not refused');
    } catch (error) {
      expect((error as CommandError).code).toBe('forgotten_version');
    }
  });

  it('§7 v1.1: an active deployment is never forgotten; historyLimit is validated', () => {
    const r = rig({ fleet: nodes(1), engine: { historyLimit: 1 } });
    r.engine.submit(jobSpec({ deployment: immediate }));
    r.engine.submit(jobSpec({ ...v(2), deployment: immediate }));
    expect(r.engine.deployments().map((d) => d.id)).toEqual([`${JOB}#2`]);
    expect(() => rig({ engine: { historyLimit: 0 } })).toThrow(/historyLimit must be an integer >= 1/);
    expect(() => rig({ engine: { historyLimit: 2.5 } })).toThrow(/historyLimit/);
  });
});
