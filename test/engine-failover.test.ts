/**
 * §7a "One leader", the failover torture test: three replica processes
 * (examples/replicas/replica.ts, the example's own replica) on one real
 * PostgreSQL database, fake agents in this process (examples/replicas/
 * agents.ts), and the leader SIGKILLed or frozen (SIGSTOP, then SIGCONT once
 * a standby took over) at random moments while an operator rolls out one
 * version after another. What the replicas did is read back from the
 * database itself: audit triggers (installed here, beside the store's
 * tables) copy every lease grant, journal row and snapshot write with the
 * database's time, and every executor call and acknowledgement is heard on
 * the replicas' IPC channels.
 *
 * Bounded by default (FAULTS below, seed random); FLEET_ROLLOUT_FAILOVER_FAULTS=200
 * runs a long one, FLEET_ROLLOUT_FAILOVER_SEED=N repeats one. No assertion on timing.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgents } from '../examples/replicas/agents.js';
import { wallNow, type FromReplica, type ToReplica } from '../examples/replicas/protocol.js';
import { ReplicaSet, type ReplicaProcess } from '../examples/replicas/replicaSet.js';
import { isAtRest, MemoryStore, openEngine, RealClock, type DeploymentStatus, type ExecutionRequest } from '../src/engine/index.js';
import { PostgresObserver } from '../src/engine/store/postgresObserver.js';
import { PostgresStore } from '../src/engine/store/postgresStore.js';
import { JOB, jobSpec, nodes } from './support/engineFixture.js';
import { compileForChildren, POSTGRES_INSTALLED, startPostgresCluster, type PostgresCluster } from './support/postgres.js';

const FAULTS = Number(process.env.FLEET_ROLLOUT_FAILOVER_FAULTS ?? 6);
const SEED = Number(process.env.FLEET_ROLLOUT_FAILOVER_SEED ?? Math.floor(Math.random() * 2 ** 31));
const LEASE_MS = 1000;
const RENEW_MS = 250;
const SCHEMA = 'torture';
const FLEET = nodes(8).map((node) => ({ ...node, labels: { role: 'web' } }));
/** Every third version never passes a health check on n-05: that deployment fails and rolls back (§6). */
const broken = (node: string, version: number): boolean => node === 'n-05' && version % 3 === 0;

function specOf(version: number) {
  return jobSpec({
    config: { image: `registry.example/web:${version}` },
    selector: { match_labels: { role: 'web' }, match_expressions: [], match_ids: [] },
    deployment: { strategy: 'rolling', max_parallel: 2, max_failed_nodes: 0, max_failed_nodes_percent: 10, health_check: { deadline: '20s', min_healthy_time: '300ms', max_error_rate: 0.1 } },
  });
}

/** mulberry32: the fault schedule repeats with its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | undefined | null | false, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${ms} ms (seed ${SEED})`);
    await sleep(20);
  }
}

let cluster: PostgresCluster;
let url: string;
let admin: pg.Client;
let compiled: string;

/** Copies of what the store writes, with the database's time: nothing the replicas do can skip them. */
async function installAudit(): Promise<void> {
  await admin.query(`
    CREATE SCHEMA audit;
    CREATE TABLE audit.grants (epoch bigint, holder text, at timestamptz DEFAULT clock_timestamp());
    CREATE TABLE audit.journal (epoch bigint, input json, at timestamptz DEFAULT clock_timestamp());
    CREATE TABLE audit.snapshots (epoch bigint, at timestamptz DEFAULT clock_timestamp());
    CREATE FUNCTION audit.grant() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit.grants (epoch, holder) VALUES (NEW.epoch, NEW.holder); RETURN NULL; END $$;
    CREATE FUNCTION audit.journal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit.journal (epoch, input) VALUES (NEW.epoch, NEW.input); RETURN NULL; END $$;
    CREATE FUNCTION audit.snapshot() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit.snapshots (epoch) VALUES (NEW.epoch); RETURN NULL; END $$;
    CREATE TRIGGER audit_grant AFTER UPDATE ON ${SCHEMA}.lease FOR EACH ROW WHEN (NEW.epoch <> OLD.epoch) EXECUTE FUNCTION audit.grant();
    CREATE TRIGGER audit_journal AFTER INSERT ON ${SCHEMA}.journal FOR EACH ROW EXECUTE FUNCTION audit.journal();
    CREATE TRIGGER audit_snapshot AFTER INSERT OR UPDATE ON ${SCHEMA}.snapshot FOR EACH ROW EXECUTE FUNCTION audit.snapshot();
  `);
}

interface Call {
  replica: string;
  kind: 'start' | 'stop';
  epoch: number | undefined;
  at: number;
}

describe.skipIf(!POSTGRES_INSTALLED)('§7a failover torture: three replica processes, the leader killed or frozen at random', () => {
  beforeAll(async () => {
    cluster = await startPostgresCluster();
    url = await cluster.createDatabase('failover');
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await (await PostgresStore.open({ connectionString: url, schema: SCHEMA })).close(); // the tables, for the audit triggers
    await installAudit();
    compiled = compileForChildren(['examples/replicas/replica.ts']);
  }, 120_000);
  afterAll(async () => {
    await admin?.end();
    cluster?.stop();
    if (compiled !== undefined) rmSync(compiled, { recursive: true, force: true });
  });

  it(`§7a: ${FAULTS} kills and freezes of the leader; one replica per epoch, a woken leader writes and calls nothing, no acknowledged input lost, every deployment at rest and every node on the version the status says`, async () => {
    const rand = random(SEED);
    const set = new ReplicaSet(join(compiled, 'examples/replicas/replica.js'), { DATABASE_URL: url, FLEET_ROLLOUT_SCHEMA: SCHEMA, LEASE_MS: String(LEASE_MS), RENEW_MS: String(RENEW_MS) }, 1500);
    let healthTag = 0;
    const agents = new FakeAgents(
      FLEET.map((node) => node.id),
      async (call, report) => (await set.input(call, report)) !== null,
      // A distinct error rate per report (far below max_error_rate) names each one in the journal.
      { startDelayMs: 30, reportEveryMs: 50, broken, errorRate: () => ++healthTag * 1e-7 },
    );

    // ---- what the replicas say, as it happens ----
    const sent = new Map<number, Extract<ToReplica, { type: 'input' }>>();
    set.onSend((message) => message.type === 'input' && sent.set(message.id, message));
    const calls: Call[] = [];
    const leading: { replica: string; epoch: number; at: number }[] = [];
    const lost: { replica: string; epoch: number; reason: string; at: number }[] = [];
    const ackedBy = new Map<number, string[]>();
    let onAck: ((replica: ReplicaProcess) => void) | null = null;
    const nacks: { replica: string; reason: string; at: number }[] = [];
    set.onMessage((replica: ReplicaProcess, message: FromReplica) => {
      switch (message.type) {
        case 'start':
        case 'stop':
          calls.push({ replica: replica.name, kind: message.type, epoch: message.request.epoch, at: message.at });
          if (message.type === 'start') agents.start(message.request as ExecutionRequest);
          else agents.stop(message.request);
          return;
        case 'leading':
          return void leading.push({ replica: replica.name, epoch: message.epoch, at: message.at });
        case 'lost':
          return void lost.push({ replica: replica.name, epoch: message.epoch, reason: message.reason, at: message.at });
        case 'ack':
          onAck?.(replica);
          return void ackedBy.set(message.id, [...(ackedBy.get(message.id) ?? []), replica.name]);
        case 'nack':
          return void nacks.push({ replica: replica.name, reason: message.reason, at: message.at });
      }
    });

    let spawned = 0;
    const spawn = (): ReplicaProcess => set.spawn(`replica-${++spawned}`);
    spawn();
    spawn();
    spawn();

    try {
      await until('a first leader', () => set.leader);
      while ((await set.input('upsertNodes', FLEET)) === null) await sleep(100);

      // ---- the operator: one version after another, each once the last is at rest ----
      let faultsDone = false;
      const completedOrRolledBack: DeploymentStatus[] = [];
      const operator = (async () => {
        for (let version = 1; ; version++) {
          while ((await set.input('submit', specOf(version))) === null) await sleep(100);
          for (;;) {
            const state = await set.query();
            const latest = state?.deployments.filter((d) => d.job === JOB).at(-1);
            if (latest !== undefined && latest.to_version === version && isAtRest(latest)) {
              completedOrRolledBack.push(latest);
              break;
            }
            await sleep(150);
          }
          if (faultsDone && version >= 3) return version;
        }
      })();

      // ---- the faults: at a random moment of each leader's reign ----
      const schedule = Array.from({ length: FAULTS }, (_, i): 'kill' | 'freeze' => (i % 2 === 0 ? 'kill' : 'freeze')).sort(() => rand() - 0.5);
      const freezes: { replica: ReplicaProcess; epoch: number; continuedAt: number }[] = [];
      let lastEpoch = 0;
      for (const fault of schedule) {
        const leader = await until('a new leader', () => set.leader !== undefined && set.leader.epoch! > lastEpoch && set.leader);
        lastEpoch = leader.epoch!;
        await sleep(200 + rand() * 1000);
        // Right after an acknowledgement, when the next inputs are being committed: an input acknowledged before it was durable would be lost here.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          onAck = (replica) => replica === leader && (clearTimeout(timer), resolve());
        });
        onAck = null;
        if (!leader.alive || leader.epoch !== lastEpoch) continue; // it lost the lease by itself meanwhile (a loaded machine): the next leader's turn
        if (fault === 'kill') {
          leader.child.kill('SIGKILL');
          spawn();
          continue;
        }
        leader.child.kill('SIGSTOP');
        await until('a standby to take over from the frozen leader', () => set.live.some((r) => r !== leader && r.epoch !== null && r.epoch > lastEpoch));
        await sleep(rand() * 500); // the new leader acts meanwhile
        const continuedAt = wallNow();
        leader.child.kill('SIGCONT');
        freezes.push({ replica: leader, epoch: lastEpoch, continuedAt });
        await until('the woken leader to notice it lost the lease', () => lost.some((l) => l.replica === leader.name && l.epoch === lastEpoch));
      }
      faultsDone = true;
      const versions = await operator;
      await set.stopAll();
      agents.dispose();

      // ---- read back what was written, with the database's time ----
      const ms = (column: string) => `extract(epoch FROM ${column}) * 1000 AS at`;
      const grants = (await admin.query<{ epoch: string; holder: string; at: number }>(`SELECT epoch, holder, ${ms('at')} FROM audit.grants ORDER BY epoch`)).rows.map((r) => ({ epoch: Number(r.epoch), holder: r.holder, at: r.at }));
      const journal = (await admin.query<{ epoch: string; input: Record<string, any>; at: number }>(`SELECT epoch, input, ${ms('at')} FROM audit.journal`)).rows.map((r) => ({ epoch: Number(r.epoch), input: r.input, at: r.at }));
      const snapshots = (await admin.query<{ epoch: string; at: number }>(`SELECT epoch, ${ms('at')} FROM audit.snapshots`)).rows.map((r) => ({ epoch: Number(r.epoch), at: r.at }));
      const context = `seed ${SEED}`;

      // One replica per epoch: the database granted each epoch once, and every act of an epoch came from its holder.
      expect(grants.map((g) => g.epoch), context).toEqual(grants.map((_, i) => i + 1));
      const holderOf = new Map(grants.map((g) => [g.epoch, g.holder]));
      const actors = new Map<number, Set<string>>();
      const acted = (epoch: number | undefined, replica: string) => {
        expect(epoch, `${context}: an act without an epoch by ${replica}`).toBeTypeOf('number');
        actors.set(epoch!, (actors.get(epoch!) ?? new Set()).add(replica));
      };
      for (const call of calls) acted(call.epoch, call.replica);
      for (const lead of leading) acted(lead.epoch, lead.replica);
      for (const [epoch, replicas] of actors) expect([...replicas], `${context}: epoch ${epoch}`).toEqual([holderOf.get(epoch)]);
      // The database took no write of an epoch once the next one was granted.
      const grantedAt = new Map(grants.map((g) => [g.epoch, g.at]));
      const lateWrites = [...journal, ...snapshots].filter((w) => w.at >= (grantedAt.get(w.epoch + 1) ?? Infinity));
      expect(lateWrites, context).toEqual([]);
      expect(journal.every((row) => holderOf.has(row.epoch)) && snapshots.every((row) => holderOf.has(row.epoch)), context).toBe(true);

      // A frozen leader that woke wrote nothing and called nothing in its old epoch, and said it lost the lease.
      for (const freeze of freezes) {
        const after = (at: number) => at >= freeze.continuedAt;
        expect(calls.filter((c) => c.replica === freeze.replica.name && c.epoch === freeze.epoch && after(c.at)), context).toEqual([]);
        expect(journal.filter((row) => row.epoch === freeze.epoch && after(row.at)), context).toEqual([]);
        expect(lost.find((l) => l.replica === freeze.replica.name && l.epoch === freeze.epoch)?.reason, context).toMatch(/^(not_leader|expired|superseded)$/);
      }

      // No acknowledged input lost: each is in the journal (health reports by their distinct error rate).
      const acked = [...ackedBy].map(([id, replicas]) => ({ input: sent.get(id)!, replicas }));
      expect(acked.filter((a) => a.replicas.length > 1), `${context}: an input acknowledged by two replicas`).toEqual([]);
      const journaledHealth = new Set(journal.filter((row) => row.input.type === 'report.health').map((row) => row.input.report.error_rate));
      const lostHealth = acked.filter((a) => a.input.call === 'reportHealth').filter((a) => !journaledHealth.has((a.input.args[0] as { error_rate: number }).error_rate));
      expect(lostHealth, context).toEqual([]);
      const key = (report: Record<string, unknown>) => `${report.node} v${report.version} ${report.status}`;
      const journaledExecutions = countBy(journal.filter((row) => row.input.type === 'report.execution').map((row) => key(row.input.report)));
      const ackedExecutions = countBy(acked.filter((a) => a.input.call === 'reportExecution').map((a) => key(a.input.args[0] as Record<string, unknown>)));
      for (const [report, n] of ackedExecutions) expect(journaledExecutions.get(report) ?? 0, `${context}: ${report}`).toBeGreaterThanOrEqual(n);
      const journaledImages = new Set(journal.filter((row) => row.input.type === 'submit').map((row) => row.input.spec.config.image));
      for (const version of Array.from({ length: versions }, (_, i) => i + 1)) expect(journaledImages.has(`registry.example/web:${version}`), `${context}: v${version}`).toBe(true);

      // The final state, as a new engine reads it from the store: every deployment at rest, every node on the version it says.
      const observer = await PostgresObserver.open({ connectionString: url, schema: SCHEMA });
      const final = openEngine({ executor: { start: () => undefined, stop: () => undefined }, clock: new RealClock(), store: MemoryStore.from(await observer.load()) });
      await observer.close();
      const deployments = final.deployments();
      expect(deployments.filter((d) => !isAtRest(d)), context).toEqual([]);
      expect(deployments.filter((d) => d.state === 'completed').length, context).toBeGreaterThanOrEqual(2);
      expect(deployments.some((d) => d.state === 'rolled_back'), `${context}: v3 rolls back`).toBe(true);
      const expected = new Map(final.nodes().map((node) => [node.id, node.versions[JOB] ?? null]));
      expect(agents.versions, context).toEqual(expected);
      final.dispose();

      const kills = spawned - 3;
      // Between SIGCONT and its `lost`: inputs queued while it was frozen reach it first (its timers fire after its I/O).
      const refusedAwake = freezes
        .map((f) => {
          const noticed = lost.find((l) => l.replica === f.replica.name && l.epoch === f.epoch)!.at;
          return nacks.filter((n) => n.replica === f.replica.name && n.at >= f.continuedAt && n.at <= noticed && n.reason !== 'not_leader').length;
        })
        .reduce((a, b) => a + b, 0);
      console.log(
        `failover torture (seed ${SEED}): ${kills} kills, ${freezes.length} freezes, ${grants.length} epochs, ${versions} versions (${deployments.map((d) => `v${d.to_version} ${d.state}`).join(', ')}); ` +
          `${calls.length} executor calls, ${acked.length} inputs acknowledged, ${journal.length} journal rows; ` +
          `leases lost ${lost.length} (${lost.length - freezes.length} without a freeze); stale calls agents ignored: ${agents.staleIgnored.start + agents.staleIgnored.stop}; ` +
          `starts re-delivered to an agent: ${agents.repeatedStarts}; inputs a woken leader took in before it noticed, all refused: ${refusedAwake}; violations 0`,
      );
      expect(kills + freezes.length, context).toBeGreaterThanOrEqual(Math.min(FAULTS, 2));
      expect(completedOrRolledBack.length).toBe(versions);
    } finally {
      agents.dispose();
      for (const replica of set.live) replica.child.kill('SIGKILL');
      await Promise.all(set.replicas.map((replica) => replica.exited));
    }
  }, 300_000);
});

function countBy(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}
