/**
 * What the crash-torture run does, drawn from its seed: the fleet, three jobs
 * (two rolling, one canary), the behaviour of each new version (healthy, one
 * whose executions crash, one that never passes a health check), and when the
 * orchestrator is killed and for how long it stays down. Times are real
 * milliseconds, chosen so that a loaded machine cannot turn a healthy node
 * into a failed one: a healthy node is stable within a second of engine time,
 * its deadline is several times that.
 */
import { BACKGROUND_FROM_CHARS } from '../../src/engine/store/sqliteCompactor.js';
import type { FleetNode } from '../../src/selector/types.js';
import type { JobSpec } from '../../src/spec/types.js';
import { seedKey, uniform } from '../../src/sim/prng.js';

export const BEHAVIORS = ['healthy', 'crash', 'unhealthy'] as const;
export type Behavior = (typeof BEHAVIORS)[number];

/** The agents' pace (test/support/tortureAgents.ts). */
export const AGENT = {
  /** Start request to the execution's `started` report. */
  startDelayMs: { min: 40, max: 160 },
  /** `started` to `failed` for a crashing version. */
  crashAfterMs: 100,
  /** Health reports of an execution this young (since its start, or a repeated start) come every `reportMs`... */
  youngMs: 4000,
  reportMs: 150,
  /** ...then every `settledReportMs`. */
  settledReportMs: 1000,
} as const;

export const MIN_HEALTHY_MS = 300;
/** A healthy version's deadline: stable takes about a second of engine time even on a loaded machine. */
export const HEALTHY_DEADLINE_MS = 6000;
/** A version that never passes fails on this deadline: short, so the run does not wait long for it. */
export const UNHEALTHY_DEADLINE_MS = 2000;
/** Longer than every deadline (§4 v1.1: such an outage must fail no healthy rollout). */
export const LONG_OUTAGE_MS = HEALTHY_DEADLINE_MS + 1500;

export interface TortureOptions {
  seed: number;
  kills: number;
  nodes: number;
}

/**
 * One kill, `afterMs` after the spawn (`starting`: while it imports, opens
 * the store or recovers) or after it is ready (`timed`), or at the first
 * delivery after that (`delivering`: in the middle of handing over an input's
 * calls and events, or just after, before the next input is journaled); then
 * the orchestrator stays down `downMs`.
 */
export interface Kill {
  when: 'starting' | 'timed' | 'delivering';
  afterMs: number;
  downMs: number;
}

export interface PlannedVersion {
  version: number;
  behavior: Behavior;
  /** Submitted while the previous version still rolls out (it supersedes it, §7). */
  hasty: boolean;
  spec: JobSpec;
}

export interface JobTemplate {
  key: string;
  strategy: 'rolling' | 'canary';
  selector: Record<string, string>;
  maxParallel: number;
}

export const JOBS: readonly JobTemplate[] = [
  { key: 'default/web', strategy: 'rolling', selector: { role: 'web' }, maxParallel: 40 },
  { key: 'default/cache', strategy: 'canary', selector: { role: 'cache' }, maxParallel: 25 },
  { key: 'ops/telemetry', strategy: 'rolling', selector: { tier: 'edge' }, maxParallel: 60 },
];

/** A seeded stream of draws in [0, 1), one per call. */
export class Draws {
  private n = 0;
  private readonly key: number;
  constructor(seed: number, stream: string) {
    this.key = seedKey(seed) ^ [...stream].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0, 0x811c9dc5);
  }
  next(): number {
    return uniform(this.key, this.n++);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/**
 * Each node carries a `site` label long enough that the fleet alone makes a
 * snapshot past `BACKGROUND_FROM_CHARS`: every run's compactions after the
 * first go to the store's worker, whatever the seed (with short labels a
 * seed's snapshots could all stay below it, and no kill landed in one).
 */
export function fleetOf(count: number): FleetNode[] {
  const site = 's'.repeat(Math.ceil(BACKGROUND_FROM_CHARS / Math.max(1, count)) + 16);
  return Array.from({ length: count }, (_, i) => ({
    id: `edge-${String(i + 1).padStart(3, '0')}`,
    labels: { role: i % 2 === 0 ? 'web' : 'cache', tier: 'edge', site },
    connected: true,
  }));
}

/** The kills, in order; with more than one, at least one outage is longer than every deadline. */
export function killsOf(options: TortureOptions): Kill[] {
  const draws = new Draws(options.seed, 'kills');
  const longAt = Math.floor(options.kills / 2);
  return Array.from({ length: options.kills }, (_, i) => {
    const pick = draws.next();
    const when = pick < 0.2 ? 'starting' : pick < 0.6 ? 'delivering' : 'timed';
    const afterMs = when === 'starting' ? draws.int(0, 600) : draws.int(150, 2000);
    const long = (options.kills > 1 && i === longAt) || draws.next() < 0.04;
    return { when, afterMs, downMs: long ? LONG_OUTAGE_MS : draws.int(0, 400) };
  });
}

/** Version 2 of the three jobs: one of each, so that every run sees a rollback after crashes and one after deadlines. */
const SECOND: readonly Behavior[] = ['crash', 'unhealthy', 'healthy'];

/**
 * The versions of one job, drawn one at a time. Version 1 is healthy and
 * never superseded (something to roll back to); version 2 is the job's share
 * of `SECOND`; later ones are drawn, a fifth of them submitted while the
 * previous one still rolls out.
 */
export class VersionPlan {
  private readonly draws: Draws;
  private planned = 0;
  constructor(
    private readonly seed: number,
    readonly job: JobTemplate,
    private readonly index: number,
  ) {
    this.draws = new Draws(seed, job.key);
  }

  next(): PlannedVersion {
    const version = ++this.planned;
    const pick = this.draws.next();
    const behavior: Behavior =
      version === 1 ? 'healthy' : version === 2 ? SECOND[(this.index + this.seed) % SECOND.length]! : pick < 0.5 ? 'healthy' : pick < 0.75 ? 'crash' : 'unhealthy';
    const hasty = version > 2 && this.draws.next() < 0.2;
    const autoPromote = this.draws.next() < 0.5;
    return { version, behavior, hasty, spec: specOf(this.job, version, behavior, autoPromote) };
  }
}

function specOf(job: JobTemplate, version: number, behavior: Behavior, autoPromote: boolean): JobSpec {
  const [namespace, name] = job.key.split('/') as [string, string];
  const deadline = behavior === 'unhealthy' ? UNHEALTHY_DEADLINE_MS : HEALTHY_DEADLINE_MS;
  return {
    name,
    namespace,
    type: 'pipeline',
    priority: 50,
    labels: {},
    meta: {},
    // The agents read `behavior`; the engine never interprets `config`.
    config: { image: `registry.example/${name}:${version}`, behavior },
    selector: { match_labels: { ...job.selector }, match_expressions: [], match_ids: [] },
    deployment: {
      strategy: job.strategy,
      max_parallel: job.maxParallel,
      canary_count: job.strategy === 'canary' ? 5 : 0,
      canary_percent: 0,
      auto_promote: job.strategy === 'canary' && autoPromote,
      no_auto_rollback: false,
      max_failed_nodes: 3,
      max_failed_nodes_percent: 10,
      health_check: { deadline: `${deadline}ms`, min_healthy_time: `${MIN_HEALTHY_MS}ms`, max_error_rate: 0.1 },
    },
    timeouts: { execution_timeout: 0, queue_timeout: 0, total_timeout: 0 },
  };
}
