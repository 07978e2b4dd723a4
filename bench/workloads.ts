/**
 * The workloads of the bench, written once so the engine case, the simulator
 * cases and the yardstick loop all do the same thing (issue "What-if
 * simulator" item 6): healthy nodes, a rolling window of 1% of the fleet,
 * first report 10 s after start, a report every 10 s, min_healthy_time 30 s.
 */
import type { RollingModel } from './baseline.js';

export const START_DELAY_MS = 10_000;
export const REPORT_INTERVAL_MS = 10_000;
export const MIN_HEALTHY_MS = 30_000;
/** Long enough that a healthy node never hits it; the timer is still armed and cancelled per node. */
export const DEADLINE_MS = 300_000;
export const MAX_ERROR_RATE = 0.1;

/** 1% of the fleet, at least one node. */
export function rollingWindow(nodes: number): number {
  return Math.max(1, Math.floor(nodes / 100));
}

export function rollingModel(nodes: number): RollingModel {
  return {
    window: rollingWindow(nodes),
    startDelayMs: START_DELAY_MS,
    reportIntervalMs: REPORT_INTERVAL_MS,
    minHealthyMs: MIN_HEALTHY_MS,
    deadlineMs: DEADLINE_MS,
    maxErrorRate: MAX_ERROR_RATE,
  };
}

/** A raw JobSpec (validated by the package before use): a pipeline rolled out to every node. */
export function rollingJob(nodes: number, version: string): Record<string, unknown> {
  return {
    name: 'bench-pipeline',
    type: 'pipeline',
    config: { version },
    deployment: {
      strategy: 'rolling',
      max_parallel: rollingWindow(nodes),
      max_failed_nodes: 0,
      health_check: { deadline: `${DEADLINE_MS / 1000}s`, min_healthy_time: `${MIN_HEALTHY_MS / 1000}s`, max_error_rate: MAX_ERROR_RATE },
    },
  };
}

/** Node ids as the scenario's fleet groups make them: prefix + 1-based index, zero-padded. */
export function nodeId(index: number, nodes: number): string {
  return `edge-${String(index + 1).padStart(Math.max(3, String(nodes).length), '0')}`;
}

/** A scenario (contract §9) of a healthy rolling create on `nodes` nodes. */
export function rollingScenario(nodes: number): string {
  return JSON.stringify({
    seed: 1,
    fleet: { groups: [{ count: nodes, prefix: 'edge-', labels: { env: 'production' }, spread: { region: ['us-west', 'us-east', 'eu-central', 'ap-south'] } }] },
    job: rollingJob(nodes, '2.0.0'),
    behavior: { start_delay: `${START_DELAY_MS / 1000}s`, report_interval: `${REPORT_INTERVAL_MS / 1000}s`, fail_probability: 0, crash_probability: 0, error_rate: 0 },
  });
}

/**
 * The Monte Carlo workload: an auto-promoted canary (10% of 1,000 nodes,
 * window 1%) of an update over a running version, with the small failure
 * rates of simulations/canary-production.yaml, so runs differ and a few roll back.
 */
export function canaryScenario(nodes: number): string {
  const job = (version: string, deployment: Record<string, unknown>): Record<string, unknown> => ({
    name: 'bench-canary',
    type: 'pipeline',
    config: { version },
    deployment,
  });
  return JSON.stringify({
    seed: 1,
    fleet: { groups: [{ count: nodes, prefix: 'edge-', labels: { env: 'production' }, spread: { region: ['us-west', 'us-east', 'eu-central', 'ap-south'] } }] },
    previous: job('1.0.0', { strategy: 'immediate' }),
    job: job('2.0.0', {
      strategy: 'canary',
      canary_percent: 10,
      auto_promote: true,
      max_parallel: rollingWindow(nodes),
      health_check: { deadline: '5m', min_healthy_time: '30s', max_error_rate: 0.05 },
    }),
    behavior: { start_delay: { min: '2s', max: '20s' }, report_interval: '10s', fail_probability: 0.002, crash_probability: 0.001, error_rate: { min: 0, max: 0.03 } },
  });
}
