/**
 * Durable health reports (issue 9): an engine on a `SqliteStore` with
 * `synchronous = FULL`, a rolling deployment over `nodes` nodes, and health
 * reports arriving in batches of `batch` (`engine.reportHealthBatch`: one
 * transaction, one fsync a batch). Latency is input to effects delivered:
 * the batch call returns after its entries are durable and its calls and
 * events went out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, RealClock } from '../../src/engine/index.js';
import type { HealthReport } from '../../src/engine/types.js';
import { SqliteStore } from '../../src/engine/store/sqliteStore.js';
import { latencyOf, type Latency } from '../percentiles.js';

export interface DurableReportsResult {
  case: 'durable-reports';
  nodes: number;
  batch: number;
  reports: number;
  wall_ms: number;
  per_s: number;
  latency: Latency;
}

export function runDurableReports(nodes: number, batch: number): DurableReportsResult {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-bench-'));
  const store = new SqliteStore(join(dir, 'bench.db'), { synchronous: 'full' });
  try {
    const engine = createEngine({ executor: { start() {}, stop() {} }, clock: new RealClock(), store }, { heartbeatMs: 0 });
    engine.upsertNodes(Array.from({ length: nodes }, (_, i) => ({ id: `n-${i}`, labels: {}, connected: true })));
    engine.submit({
      name: 'web', namespace: 'default', type: 'pipeline', priority: 50, labels: {}, meta: {},
      selector: { match_labels: {}, match_expressions: [], match_ids: [] },
      deployment: { strategy: 'rolling', max_parallel: nodes, canary_count: 0, canary_percent: 0, auto_promote: false, no_auto_rollback: false, max_failed_nodes: 0, max_failed_nodes_percent: 0, health_check: { deadline: '2h', min_healthy_time: '1h', max_error_rate: 0.1 } },
      timeouts: { execution_timeout: 0, queue_timeout: 0, total_timeout: 0 },
    });
    const rounds = Math.max(20, Math.ceil(200_000 / batch));
    const samples = new Float64Array(rounds);
    const reports: HealthReport[] = Array.from({ length: batch }, (_, i) => ({ node: `n-${i % nodes}`, job: 'default/web', version: 1, healthy: true, error_rate: 0.01 }));
    const started = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) {
      const t0 = process.hrtime.bigint();
      engine.reportHealthBatch(reports);
      samples[r] = Number(process.hrtime.bigint() - t0);
    }
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    engine.dispose();
    return { case: 'durable-reports', nodes, batch, reports: rounds * batch, wall_ms: wallMs, per_s: (rounds * batch) / (wallMs / 1000), latency: latencyOf(samples) };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
