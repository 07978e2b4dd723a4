/**
 * Replicas of an orchestrator on one PostgreSQL database (contract §7a "One
 * leader"): this process starts N replica processes (replicas/replica.ts)
 * and plays the fleet, 12 fake edge agents (replicas/agents.ts) that outlive
 * any replica. One replica leads at a time; the others stand by.
 *
 *   DATABASE_URL=postgresql:///fleet_rollout?host=/run/postgresql node dist/examples/replicas.js [N] [--chaos] [IMAGE_TAG]
 *
 * N defaults to 3. Kill any replica (`kill -9 PID`, the PIDs are printed) and
 * the rollout goes on: a standby takes over within the lease (2 s here) plus
 * its restore, re-delivers the starts in flight, and this process starts a
 * new replica to stand by. `--chaos` kills the leader every 5 s. Run it again
 * after it completed: the same spec is `unchanged`; another IMAGE_TAG rolls
 * out a new version.
 */
import { fileURLToPath } from 'node:url';
import { format } from 'date-fns';
import pc from 'picocolors';
import { isAtRest, isTerminal, type DeploymentStatus } from '../src/engine/index.js';
import { loadJobSpec } from '../src/spec/index.js';
import { FakeAgents } from './replicas/agents.js';
import { ReplicaSet, type ReplicaProcess } from './replicas/replicaSet.js';

const args = process.argv.slice(2);
const chaos = args.includes('--chaos');
const [count = '3', imageTag = '2'] = args.filter((arg) => arg !== '--chaos');
const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl === undefined || databaseUrl === '') {
  console.error('replicas.js: set DATABASE_URL to an empty PostgreSQL database, e.g. DATABASE_URL=postgresql:///fleet_rollout?host=/run/postgresql (createdb fleet_rollout)');
  process.exit(2);
}
const replicaCount = Number(count);
if (!Number.isInteger(replicaCount) || replicaCount < 1 || replicaCount > 9) {
  console.error(`replicas.js: N (the number of replicas) must be 1 to 9, got ${JSON.stringify(count)}`);
  process.exit(2);
}

const loaded = loadJobSpec(
  `
name: telemetry
namespace: edge
type: pipeline
config: { image: "registry.example/telemetry:${imageTag}" }
selector: { match_labels: { env: production } }
deployment:
  strategy: rolling
  max_parallel: 3
  health_check: { deadline: 30s, min_healthy_time: 2s, max_error_rate: 0.05 }
`,
  'telemetry.yaml',
);
if (!loaded.valid) {
  for (const problem of loaded.errors) console.error(`telemetry.yaml: ${problem.path}: ${problem.message}`);
  process.exit(2);
}
const spec = loaded.spec;
const JOB = `${spec.namespace}/${spec.name}`;
const fleet = Array.from({ length: 12 }, (_, i) => ({ id: `edge-${String(i + 1).padStart(2, '0')}`, labels: { env: 'production' }, connected: true }));

const log = (text: string): void => console.log(`${pc.dim(format(Date.now(), 'HH:mm:ss.SSS'))}  ${text}`);

// A short lease for the demo (the store's default is 15 s): a standby takes over 2 s after the leader dies.
const replicas = new ReplicaSet(fileURLToPath(new URL('./replicas/replica.js', import.meta.url)), { DATABASE_URL: databaseUrl, LEASE_MS: '2000', RENEW_MS: '500' });
const agents = new FakeAgents(
  fleet.map((node) => node.id),
  async (call, report) => (await replicas.input(call, report)) !== null,
  { startDelayMs: 300, reportEveryMs: 250, errorRate: () => Math.random() * 0.02 },
);

let stopping = false;
let spawned = 0;
function spawn(): ReplicaProcess {
  const replica = replicas.spawn(`replica-${++spawned}`);
  void replica.exited.then(() => {
    if (stopping) return;
    log(`${pc.bold(replica.name)} (pid ${replica.pid}) ${pc.red(`died (${replica.child.signalCode ?? `exit ${replica.child.exitCode}`})`)}; starting another to stand by`);
    spawn();
  });
  return replica;
}

// Events are delivered at least once: a new leader may repeat the last ones; their `seq` tells.
let lastSeq = 0;
replicas.onMessage((replica, message) => {
  switch (message.type) {
    case 'standby':
      return log(`${pc.bold(replica.name)} (pid ${replica.pid}) stands by`);
    case 'leading':
      return log(`${pc.bold(replica.name)} (pid ${replica.pid}) ${pc.green(`leads, epoch ${message.epoch}`)} (restored in ${Math.round(message.at - message.grantedAt)} ms)`);
    case 'lost':
      return log(`${pc.bold(replica.name)} ${pc.yellow(`lost the lease of epoch ${message.epoch} (${message.reason})`)}; stands by again`);
    case 'start':
      return agents.start(message.request);
    case 'stop':
      return agents.stop(message.request);
    case 'event': {
      const e = message.event as { seq: number; deployment: string; node?: string; state?: string; version?: number; to_version?: number; targeted?: number };
      if (e.seq <= lastSeq) return;
      lastSeq = e.seq;
      const what =
        message.name === 'deployment.state' ? pc.cyan(e.state!)
        : message.name === 'deployment.created' ? `created: v${e.to_version} to ${e.targeted} nodes`
        : message.name === 'deployment.promoted' ? 'promoted'
        : `${e.node} ${message.name.slice('node.'.length)} v${e.version}`;
      return log(`  [epoch ${message.epoch}] ${e.deployment} ${what}`);
    }
  }
});

for (let i = 0; i < replicaCount; i++) spawn();

async function deliver(send: () => ReturnType<ReplicaSet['input']>): Promise<unknown> {
  for (;;) {
    const ack = await send();
    if (ack !== null) return ack.result;
    await new Promise((resolve) => setTimeout(resolve, 200)); // no leader yet (or it just died): try again
  }
}

async function stop(code: number): Promise<never> {
  stopping = true;
  agents.dispose();
  await replicas.stopAll(); // the leader writes a snapshot and releases the lease
  process.exit(code);
}
process.on('SIGINT', () => void stop(130));

// What a real orchestrator does on every start: sync the inventory, submit the spec (unchanged when it is).
await deliver(() => replicas.input('upsertNodes', fleet));
const submitted = (await deliver(() => replicas.input('submit', spec))) as { version: number; unchanged: boolean };
log(`${JOB} v${submitted.version}${submitted.unchanged ? ' unchanged: nothing new to roll out' : ' submitted'}`);

if (chaos) {
  setInterval(() => {
    const leader = replicas.leader;
    if (leader === undefined) return;
    log(`${pc.red('chaos')}: kill -9 ${leader.pid} (${leader.name}, the leader)`);
    leader.child.kill('SIGKILL');
  }, 5000).unref();
}

for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const latest: DeploymentStatus | undefined = (await replicas.query())?.deployments.filter((d) => d.job === JOB).at(-1);
  if (latest === undefined || !isAtRest(latest)) continue;
  const { stable, failed, reverted } = latest.counts;
  log(`${pc.bold(latest.id)} ${pc.cyan(latest.state)}: ${stable} stable, ${failed} failed, ${reverted} reverted; ${spawned - replicaCount} replicas replaced on the way`);
  await stop(isTerminal(latest.state) && latest.state !== 'completed' ? 1 : 0);
}
