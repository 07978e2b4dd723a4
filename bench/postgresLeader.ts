/**
 * A leader for the failover bench (cases/postgresStore.ts): takes the lease,
 * prints `leader EPOCH`, and renews until it is killed.
 * Usage: node dist/bench/postgresLeader.js URL SCHEMA LEASE_MS RENEW_MS
 */
import { PostgresStore } from '../src/engine/store/postgresStore.js';

const [connectionString, schema, leaseMs, renewMs] = process.argv.slice(2);
const store = await PostgresStore.open({ connectionString: connectionString!, schema: schema!, leaseMs: Number(leaseMs), renewMs: Number(renewMs), holder: `leader-${process.pid}` });
const grant = await store.leadership.waitForLease();
process.stdout.write(`leader ${grant.epoch}\n`);
// The lease timers are unref'd: this keeps the process (and its renewals) alive until the SIGKILL.
setInterval(() => undefined, 60_000);
