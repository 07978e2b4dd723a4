/**
 * One replica of an orchestrator on a PostgreSQL store shared with its peers
 * (contract §7a "One leader"). Run as a child process by ../replicas.ts (and
 * by the failover test and bench); its IPC channel to the parent stands for
 * the network to the edge agents (protocol.ts).
 *
 * It stands by until it holds the lease (`openReplica` waits), then leads:
 * executor calls go to the agents stamped with its epoch, and each agent's
 * input is acknowledged only once `engine.committed()` says it is durable,
 * so an acknowledged input survives any crash. A replica that loses the
 * lease stops acting (the engine refuses input, `not_leader`) and stands by
 * again with a fresh store. SIGTERM stops it cleanly: a snapshot, then the
 * lease is released so a standby takes over at once.
 *
 * Environment: DATABASE_URL (required), FLEET_ROLLOUT_SCHEMA, LEASE_MS,
 * RENEW_MS (the store's defaults when unset), REPLICA_NAME (the lease holder).
 */
import { CommandError, openReplica, RealClock, type Engine, type EngineEvents, type Executor } from '../../src/engine/index.js';
import type { Leadership } from '../../src/engine/store/asyncStore.js';
import { PostgresStore } from '../../src/engine/store/postgresStore.js';
import { wallNow, type FromReplica, type ToReplica } from './protocol.js';

const connectionString = process.env.DATABASE_URL;
if (connectionString === undefined || connectionString === '' || process.send === undefined) {
  console.error('replica.js: run by examples/replicas.js (an IPC channel to the agents) with DATABASE_URL set');
  process.exit(2);
}
const name = process.env.REPLICA_NAME ?? `replica-${process.pid}`;
const options = {
  connectionString,
  holder: name,
  ...(process.env.FLEET_ROLLOUT_SCHEMA ? { schema: process.env.FLEET_ROLLOUT_SCHEMA } : {}),
  ...(process.env.LEASE_MS ? { leaseMs: Number(process.env.LEASE_MS) } : {}),
  ...(process.env.RENEW_MS ? { renewMs: Number(process.env.RENEW_MS) } : {}),
};
const FORWARDED: (keyof EngineEvents)[] = ['deployment.created', 'deployment.state', 'deployment.promoted', 'node.started', 'node.stable', 'node.failed', 'node.reverting', 'node.reverted', 'node.revert_failed'];

const send = (message: FromReplica): void => void process.send!(message);
const executor: Executor = {
  start: (request) => send({ type: 'start', request, at: wallNow() }),
  stop: (request) => send({ type: 'stop', request, at: wallNow() }),
};

let store: PostgresStore | null = null;
let engine: Engine | null = null;
let stopping = false;

process.on('message', (message: ToReplica) => {
  const leader = engine;
  if (leader === null || leader.leadership?.lost != null) return send({ type: 'nack', id: message.id, reason: 'not_leader', at: wallNow() });
  const epoch = leader.leadership!.epoch;
  if (message.type === 'query') return send({ type: 'state', id: message.id, epoch, deployments: leader.deployments(), nodes: leader.nodes() });
  let result: unknown;
  try {
    result = (leader[message.call] as (...args: unknown[]) => unknown)(...message.args);
  } catch (error) {
    // A refused command is the sender's to hear; anything else (not_leader) means: try the next leader.
    const reason = error instanceof CommandError ? error.code : (error as Error).message;
    return send({ type: 'nack', id: message.id, reason, at: wallNow() });
  }
  leader.committed().then(
    () => send({ type: 'ack', id: message.id, epoch, result: result ?? null, at: wallNow() }),
    (error: Error) => send({ type: 'nack', id: message.id, reason: error.message, at: wallNow() }),
  );
});

function stop(): void {
  if (stopping) return;
  stopping = true;
  void (async () => {
    await engine?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    process.exit(0);
  })();
}
process.on('SIGTERM', stop);
// The parent (the agents' side) is gone: nobody to act for.
process.on('disconnect', stop);

// A replica's life: stand by, lead until the lease is lost, stand by again.
while (!stopping) {
  store = await PostgresStore.open(options);
  send({ type: 'standby', holder: name, at: wallNow() });
  let grantedAt = 0;
  const leadership = noting(store.leadership, (at) => (grantedAt = at));
  const current = await openReplica({ executor, clock: new RealClock(), store, leadership });
  // Right after it resolved: the events re-delivered after the takeover go out on the next turn.
  for (const event of FORWARDED) {
    current.on(event, ((payload: object) => send({ type: 'event', name: event, event: payload as unknown as Record<string, unknown>, epoch: current.leadership!.epoch, at: wallNow() })) as never);
  }
  engine = current;
  const epoch = current.leadership!.epoch;
  send({ type: 'leading', holder: name, epoch, grantedAt, at: wallNow() });
  const reason = await new Promise<string>((resolve) => {
    current.on('leadership.lost', (e) => resolve(e.reason));
    // The store failed otherwise (connection lost): the outcome of its last write is unknown, so start over.
    current.on('error', (e) => e.source === 'store' && resolve(`store: ${e.message}`));
  });
  if (stopping) break;
  send({ type: 'lost', holder: name, epoch, reason, at: wallNow() });
  engine = null;
  current.dispose();
  await store.close().catch(() => undefined);
}

/** The store's leadership, telling when the lease was granted: `leading` then says how long the restore took. */
function noting(leadership: Leadership, granted: (at: number) => void): Leadership {
  return {
    acquire: () => leadership.acquire(),
    waitForLease: async (signal) => {
      const grant = await leadership.waitForLease(signal);
      granted(wallNow());
      return grant;
    },
    isLeader: () => leadership.isLeader(),
    onLost: (listener) => leadership.onLost(listener),
    release: () => leadership.release(),
  };
}
