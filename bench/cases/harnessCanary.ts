/**
 * The harness as a user calls it, through the package's `exports` map
 * (`fleet-rollout/testing`, the files `npm pack` ships): a canary rollout of
 * `nodes` nodes with version 1 already in place (put there by an `immediate`
 * rollout, not timed), from `submit` to `advanceUntil('completed')`.
 */
import { cpuUsage } from 'node:process';

const POLICY = {
  name: 'log-shipper',
  type: 'pipeline',
  deployment: { strategy: 'canary', canary_count: 10, max_parallel: 500, auto_promote: true, health_check: { deadline: '5m', min_healthy_time: '30s' } },
};

export interface HarnessCanaryResult {
  case: 'harness-canary';
  nodes: number;
  /** Creating the harness and putting version 1 in place (not in wall_ms). */
  setup_ms: number;
  /** submit of version 2 to advanceUntil('completed'). */
  wall_ms: number;
  cpu_ms: number;
  trace_events: number;
  virtual_end_s: number;
  outcome: string;
  peak_rss: number;
}

export async function runHarnessCanary(nodes: number): Promise<HarnessCanaryResult> {
  const { createHarness } = await import('fleet-rollout/testing');
  const t0 = performance.now();
  const h = createHarness({ fleet: { groups: [{ count: nodes, prefix: 'edge-', labels: { env: 'production' } }] } });
  h.submit({ ...POLICY, deployment: { strategy: 'immediate' }, config: { release: 1 } });
  h.settle();
  const t1 = performance.now();
  const cpu0 = cpuUsage();
  h.submit({ ...POLICY, config: { release: 2 } });
  h.advanceUntil('completed', { limit: '48h' });
  const cpu = cpuUsage(cpu0);
  const t2 = performance.now();
  return {
    case: 'harness-canary',
    nodes,
    setup_ms: t1 - t0,
    wall_ms: t2 - t1,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    trace_events: h.trace.length,
    virtual_end_s: h.now(),
    outcome: h.state(),
    peak_rss: process.resourceUsage().maxRSS * 1024,
  };
}
