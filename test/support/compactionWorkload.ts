/**
 * A deterministic workload for the compaction tests: the same steps give the
 * same journal, in the test process (the reference, never compacted) and in
 * a child process on the compiled engine (compacted in the background, then
 * killed). A rolling deployment over `nodes` nodes that makes progress (nodes
 * turn stable, the next ones start, unhealthy reports fail a few, a new
 * version supersedes every `SUPERSEDE_EVERY` steps), so the replayed state
 * is not trivial. It imports nothing at run time: the caller passes the
 * engine and its virtual clock.
 */
import type { Engine } from '../../src/engine/index.js';
import type { VirtualClock } from '../../src/engine/clocks/virtualClock.js';

export const WORKLOAD_JOB = 'default/web';
const SUPERSEDE_EVERY = 4000;

function spec(version: number, nodes: number) {
  return {
    name: 'web', namespace: 'default', type: 'pipeline' as const, priority: 50, labels: {}, meta: { v: String(version) },
    selector: { match_labels: {}, match_expressions: [], match_ids: [] },
    deployment: {
      strategy: 'rolling' as const, max_parallel: Math.max(1, Math.floor(nodes / 10)), canary_count: 0, canary_percent: 0, auto_promote: false,
      no_auto_rollback: false, max_failed_nodes: nodes, max_failed_nodes_percent: 100,
      health_check: { deadline: '10m', min_healthy_time: '2s', max_error_rate: 0.1 },
    },
    timeouts: { execution_timeout: 0, queue_timeout: 0, total_timeout: 0 },
  };
}

export function workloadSetup(engine: Engine, nodes: number): void {
  engine.upsertNodes(Array.from({ length: nodes }, (_, i) => ({ id: `n-${i}`, labels: { zone: `z-${i % 7}` }, connected: true })));
  engine.submit(spec(1, nodes));
}

/** Step `i` (from 0): a little time, one health report (now and then a bad one), now and then a new version. */
export function workloadStep(engine: Engine, clock: VirtualClock, nodes: number, i: number): void {
  clock.advanceBy(3);
  if (i > 0 && i % SUPERSEDE_EVERY === 0) engine.submit(spec(1 + i / SUPERSEDE_EVERY, nodes));
  const version = engine.status(WORKLOAD_JOB)?.to_version ?? 1;
  engine.reportHealth({ node: `n-${(i * 7919) % nodes}`, job: WORKLOAD_JOB, version, healthy: i % 97 !== 0, error_rate: i % 97 === 0 ? 0.5 : 0.01 });
}
