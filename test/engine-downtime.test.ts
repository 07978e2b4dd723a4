/**
 * Contract §4 v1.1, the engine's own downtime is nobody's time: node timers
 * resume with the time they had left, queue/total timeouts include the
 * downtime, and a start that may not have been delivered is delivered again
 * with its deadline running from the redelivery.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, MemoryStore, openEngine, VirtualClock, type Engine } from '../src/engine/index.js';
import { JOB, jobSpec, nodes, RecordingExecutor } from './support/engineFixture.js';

const S = 1000;
const HOUR = 3600 * S;

/** An engine on a store; `restart(after)` drops it as a crash would and opens the store `after` ms after its last heartbeat. */
function rig(spec = jobSpec(), count = 1) {
  const store = new MemoryStore();
  let clock = new VirtualClock();
  let executor = new RecordingExecutor();
  let engine: Engine = createEngine({ executor, clock, store }, { heartbeatMs: 0 });
  for (const node of nodes(count)) engine.upsertNode(node);
  const id = engine.submit(spec).deployment!;
  return {
    id,
    store,
    get clock() {
      return clock;
    },
    get engine() {
      return engine;
    },
    get executor() {
      return executor;
    },
    /** `beat`: the store heard a heartbeat after the last delivery (else it knows only what the journal says). */
    restart(after: number, beat = true) {
      const stoppedAt = clock.now();
      if (beat) store.heartbeat({ at: stoppedAt, delivered: (engine.snapshot() as unknown as { outbox: { delivered: number } }).outbox.delivered });
      engine.dispose();
      clock = new VirtualClock(stoppedAt + after);
      executor = new RecordingExecutor();
      engine = openEngine({ executor, clock, store }, { heartbeatMs: 0 });
    },
  };
}

describe('§4 v1.1: node timers resume with the time they had left', () => {
  it('§4 v1.1: the deadline of a node whose execution reported resumes with its remaining time after a 1h outage', () => {
    const r = rig();
    r.clock.advanceBy(1 * S);
    r.engine.reportExecution({ node: 'n-01', job: JOB, version: 1, status: 'started' });
    r.clock.advanceBy(59 * S); // 240 s of the 5 min deadline left
    r.restart(HOUR);
    expect(r.executor.starts).toHaveLength(1); // heard from: in flight, re-issued (idempotent id) as before
    r.clock.advanceBy(239 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('updating');
    r.clock.advanceBy(2 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('failed');
  });

  it('§4 v1.1: a passing streak resumes with its remaining min_healthy_time: neither stable by the outage nor reset by it', () => {
    const r = rig();
    r.clock.advanceBy(10 * S);
    r.engine.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: true }); // stable at 40 s without downtime
    r.clock.advanceBy(10 * S);
    r.restart(2 * HOUR);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('updating');
    r.clock.advanceBy(19 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('updating');
    r.clock.advanceBy(1 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('stable');
    expect(r.engine.status(r.id)!.state).toBe('completed');
  });

  it('§4 v1.1: a second outage adds to the first (the moved timers are what the store keeps)', () => {
    const r = rig();
    r.engine.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: true }); // 30 s streak
    r.clock.advanceBy(10 * S);
    r.restart(HOUR);
    r.clock.advanceBy(10 * S);
    r.restart(HOUR);
    r.clock.advanceBy(9 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('updating');
    r.clock.advanceBy(1 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('stable');
  });

  it('§4 v1.1: total_timeout is a wall-clock budget and includes the downtime', () => {
    const r = rig(jobSpec({ timeouts: { total_timeout: 600 } }));
    r.engine.reportExecution({ node: 'n-01', job: JOB, version: 1, status: 'started' });
    r.clock.advanceBy(60 * S);
    r.restart(HOUR);
    r.clock.advanceBy(0);
    const status = r.engine.status(r.id)!;
    expect(status.reason).toBe('total_timeout');
  });

  it('§4 v1.1: a start known delivered (heartbeat) but never heard from keeps the deadline it had left', () => {
    const r = rig();
    r.clock.advanceBy(290 * S);
    r.restart(HOUR);
    r.clock.advanceBy(9 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('updating');
    r.clock.advanceBy(1 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('failed');
  });

  it('§4 v1.1 §7a: a start decided but maybe not delivered is delivered again and its deadline runs from the redelivery', () => {
    const r = rig();
    const first = r.executor.starts[0]!;
    r.clock.advanceBy(290 * S); // 10 s of the deadline left, nothing heard, and no heartbeat since the start
    r.restart(HOUR, false);
    expect(r.executor.starts).toEqual([first]); // the same execution id: recognisable as a repeat
    const redelivered = r.clock.now();
    r.clock.advanceBy(299 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('updating');
    r.clock.advanceTo(redelivered + 300 * S);
    expect(r.engine.nodeState(r.id, 'n-01')).toBe('failed');
  });

  it('§4 v1.1: an outage longer than every deadline fails no healthy rollout', () => {
    const r = rig(jobSpec({ deployment: { max_parallel: 2 } }), 6);
    // Healthy agents: a started execution says so at once, and its health passes from 20 s after the start on.
    const seen = new Map<string, number>();
    const drive = (ms: number) => {
      for (let t = 0; t < ms; t += 5 * S) {
        for (const start of r.executor.starts) {
          if (r.engine.nodeState(r.id, start.node) !== 'updating') continue;
          if (!seen.has(start.node)) {
            seen.set(start.node, r.clock.now());
            r.engine.reportExecution({ node: start.node, job: JOB, version: 1, status: 'started' });
          } else if (r.clock.now() - seen.get(start.node)! >= 20 * S) r.engine.reportHealth({ node: start.node, job: JOB, version: 1, healthy: true });
        }
        r.clock.advanceBy(5 * S);
      }
    };
    drive(60 * S);
    // Two nodes stable, two started and heard from, not yet healthy: their deadlines would be long past after the outage.
    expect(r.engine.status(r.id)!.counts).toMatchObject({ stable: 2, updating: 2 });
    seen.clear();
    r.restart(3 * HOUR); // longer than the deadline (5 min), the streak (30 s) and everything else
    // The new process's agents report again after it restarted (re-issued starts reach the executor).
    drive(10 * 60 * S);
    const status = r.engine.status(r.id)!;
    expect(status.state).toBe('completed');
    expect(status.counts.stable).toBe(6);
    expect(status.counts.failed).toBe(0);
  });
});
