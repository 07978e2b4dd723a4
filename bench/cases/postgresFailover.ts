/**
 * Failover of the engine's replicas (contract §7a "One leader"): from the
 * leader's death to the standby's first decision. Three replica processes
 * (the example's, dist/examples/replicas/replica.js) share a throwaway
 * PostgreSQL database while fake agents (examples/replicas/agents.ts) in this
 * process roll out one version after another; the leader is SIGKILLed at a
 * random moment of its renewal cycle, and once its successor decided, a fresh
 * replica is started to stand by (two standbys, so a successor that loses its
 * lease in turn, on a loaded machine, has one behind it). Per trial, on one wall clock:
 *
 * - kill to grant: the rest of the dead leader's lease, then the standby's acquire;
 * - grant to leading: the restore (load, replay, re-arm timers, re-deliver);
 * - kill to first decision: the standby's first executor call or event.
 *
 * The bound it is judged against is the lease length plus the restore (docs/replicas.md).
 */
import { fileURLToPath } from 'node:url';
import { FakeAgents } from '../../examples/replicas/agents.js';
import { wallNow, type FromReplica } from '../../examples/replicas/protocol.js';
import { ReplicaSet, type ReplicaProcess } from '../../examples/replicas/replicaSet.js';
import { isAtRest } from '../../src/engine/index.js';
import type { JobSpec } from '../../src/spec/types.js';
import { percentile } from '../percentiles.js';
import { startPostgresCluster } from '../postgresCluster.js';

const LEASE_MS = 500;
const RENEW_MS = 100;
const NODES = 24;
const REPLICA_FILE = fileURLToPath(new URL('../../examples/replicas/replica.js', import.meta.url));

export interface Figures {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export interface PostgresFailoverResult {
  case: 'postgres-failover';
  trials: number;
  lease_ms: number;
  renew_ms: number;
  nodes: number;
  deployments: number;
  kill_to_grant: Figures;
  restore: Figures;
  kill_to_first_decision: Figures;
  /** How the first decision was made: a re-delivered executor call, or an event. */
  first_decisions: Record<string, number>;
  /** Trials whose first successor lost the lease in turn before deciding (a loaded machine): the next one decided. */
  second_successor: number;
}

function spec(version: number): JobSpec {
  return {
    name: 'web',
    namespace: 'default',
    type: 'pipeline',
    priority: 50,
    labels: {},
    meta: {},
    config: { image: `registry.example/web:${version}` },
    selector: { match_labels: { role: 'web' }, match_expressions: [], match_ids: [] },
    deployment: {
      strategy: 'rolling',
      max_parallel: 4,
      canary_count: 0,
      canary_percent: 0,
      auto_promote: false,
      no_auto_rollback: false,
      max_failed_nodes: 0,
      max_failed_nodes_percent: 0,
      health_check: { deadline: '30s', min_healthy_time: '200ms', max_error_rate: 0.1 },
    },
    timeouts: { execution_timeout: 0, queue_timeout: 0, total_timeout: 0 },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`failover bench: gave up waiting for ${what}`);
    await sleep(5);
  }
}

function figures(values: number[]): Figures {
  const sorted = Float64Array.from(values).sort();
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return { p50_ms: round(percentile(sorted, 50)), p99_ms: round(percentile(sorted, 99)), max_ms: round(sorted[sorted.length - 1]!) };
}

export async function runPostgresFailover(trials: number): Promise<PostgresFailoverResult> {
  const cluster = await startPostgresCluster();
  const set = new ReplicaSet(REPLICA_FILE, { DATABASE_URL: await cluster.createDatabase('failover'), LEASE_MS: String(LEASE_MS), RENEW_MS: String(RENEW_MS) });
  const fleet = Array.from({ length: NODES }, (_, i) => ({ id: `edge-${String(i + 1).padStart(2, '0')}`, labels: { role: 'web' }, connected: true }));
  const agents = new FakeAgents(fleet.map((n) => n.id), async (call, report) => (await set.input(call, report)) !== null, { startDelayMs: 20, reportEveryMs: 100 });
  const standingBy = new Set<ReplicaProcess>();
  let trial: { epoch: number; first?: { at: number; kind: string; epoch: number } } | null = null;
  set.onMessage((replica, message: FromReplica) => {
    if (message.type === 'standby') standingBy.add(replica);
    if (message.type === 'leading') standingBy.delete(replica);
    if (message.type === 'start') agents.start(message.request);
    if (message.type === 'stop') agents.stop(message.request);
    // The successor's first act: its epoch is the dead leader's plus at least one.
    if (trial === null || trial.first !== undefined || (message.type !== 'start' && message.type !== 'stop' && message.type !== 'event')) return;
    const epoch = message.type === 'event' ? message.epoch : message.request.epoch;
    if (epoch !== undefined && epoch > trial.epoch) trial.first = { at: message.at, kind: message.type === 'event' ? message.name : message.type, epoch };
  });
  const leading: Extract<FromReplica, { type: 'leading' }>[] = [];
  set.onMessage((_, message) => message.type === 'leading' && leading.push(message));
  let spawned = 0;
  const spawn = (): ReplicaProcess => set.spawn(`replica-${++spawned}`);
  spawn();
  spawn();
  spawn();

  let running = true;
  let deployments = 0;
  try {
    await until('a first leader', () => set.leader);
    while ((await set.input('upsertNodes', fleet)) === null) await sleep(50);
    // The operator: a new version whenever the last one is at rest, so a rollout is always under way.
    const operator = (async () => {
      for (let version = 1; running; version++) {
        while (running && (await set.input('submit', spec(version))) === null) await sleep(50);
        deployments += 1;
        for (;;) {
          const latest = (await set.query())?.deployments.at(-1);
          if (!running || (latest?.to_version === version && isAtRest(latest))) break;
          await sleep(100);
        }
      }
    })();

    const killToGrant: number[] = [];
    const restore: number[] = [];
    const killToFirst: number[] = [];
    const kinds: Record<string, number> = {};
    let secondSuccessor = 0;
    while (killToFirst.length < trials) {
      const leader = await until('a leader and two standbys', () => standingBy.size >= 2 && set.leader);
      await sleep(300 + Math.random() * RENEW_MS * 2); // a random moment of its renewal cycle, a rollout under way
      if (set.leader !== leader) continue; // it lost the lease by itself meanwhile
      trial = { epoch: leader.epoch! };
      const killedAt = wallNow();
      leader.child.kill('SIGKILL');
      const current = trial;
      const next = await until('the successor', () => leading.find((l) => l.epoch > current.epoch));
      const first = await until("the successor's first decision", () => current.first).catch(async (error: Error) => {
        const state = await set.query();
        throw new Error(`${error.message}; trial ${killToFirst.length + 1}, killed epoch ${current.epoch}, successor ${JSON.stringify(next)}; the leader now: ${JSON.stringify(state?.deployments.map((d) => [d.id, d.state, d.counts]))}`);
      });
      killToGrant.push(next.grantedAt - killedAt);
      restore.push(next.at - next.grantedAt);
      killToFirst.push(first.at - killedAt);
      kinds[first.kind] = (kinds[first.kind] ?? 0) + 1;
      if (first.epoch > current.epoch + 1) secondSuccessor += 1;
      trial = null;
      spawn();
    }
    running = false;
    await operator;
    return {
      case: 'postgres-failover',
      trials: killToFirst.length,
      lease_ms: LEASE_MS,
      renew_ms: RENEW_MS,
      nodes: NODES,
      deployments,
      kill_to_grant: figures(killToGrant),
      restore: figures(restore),
      kill_to_first_decision: figures(killToFirst),
      first_decisions: kinds,
      second_successor: secondSuccessor,
    };
  } finally {
    running = false;
    agents.dispose();
    for (const replica of set.live) replica.child.kill('SIGKILL');
    await Promise.all(set.replicas.map((replica) => replica.exited));
    cluster.stop();
  }
}
