/**
 * An orchestrator embedding the rollout engine: real time, a durable SQLite
 * store, and in-process fake agents standing in for 20 edge nodes.
 *
 *   node dist/examples/orchestrator.js [DB] [IMAGE_TAG]
 *
 * DB defaults to ./rollout.db; IMAGE_TAG (default 2) goes into the job's config,
 * so a new tag is a new version. Kill it (Ctrl-C, or kill -9) mid-rollout and run
 * it again: it resumes where the journal left off. Run it again after it completed:
 * the same spec is `unchanged` and nothing starts.
 */
import { format } from 'date-fns';
import pc from 'picocolors';
import {
  openEngine,
  RealClock,
  type DeploymentState,
  type DeploymentStatus,
  type ExecutionRequest,
  type Executor,
  type TimerHandle,
} from '../src/engine/index.js';
import { SqliteStore, StoreFileError } from '../src/engine/store/sqliteStore.js';
import { loadJobSpec } from '../src/spec/index.js';

const dbFile = process.argv[2] ?? 'rollout.db';
const imageTag = process.argv[3] ?? '2';
const TERMINAL: ReadonlySet<DeploymentState> = new Set(['completed', 'failed', 'rolled_back', 'canceled']);

// The same JobSpec an operator would write; validated and normalized as by `fleet-rollout validate`.
const JOB_YAML = `
name: telemetry
namespace: edge
type: pipeline
config:
  image: registry.example/telemetry:${imageTag}
selector:
  match_labels: { env: production }
deployment:
  strategy: canary
  canary_percent: 20
  auto_promote: true
  max_parallel: 4
  health_check: { deadline: 20s, min_healthy_time: 2s, max_error_rate: 0.05 }
`;
const loaded = loadJobSpec(JOB_YAML, 'telemetry.yaml');
if (!loaded.valid) {
  for (const problem of loaded.errors) console.error(`telemetry.yaml: ${problem.path}: ${problem.message}`);
  process.exit(2);
}
const spec = loaded.spec;
const JOB = `${spec.namespace}/${spec.name}`;

const regions = ['us-west', 'us-east', 'eu-central'];
const fleet = Array.from({ length: 20 }, (_, i) => ({
  id: `edge-${String(i + 1).padStart(2, '0')}`,
  labels: { env: 'production', region: regions[i % regions.length]! },
  connected: true,
}));
// Flaky nodes now and then send a failing report, which restarts their passing streak.
const flaky = new Set(['edge-03', 'edge-11', 'edge-17']);

const clock = new RealClock();
const store = openStore(dbFile);

function openStore(file: string): SqliteStore {
  try {
    return new SqliteStore(file);
  } catch (error) {
    if (!(error instanceof StoreFileError)) throw error;
    console.error(error.message); // names the file and what to do, e.g. another process holds it
    process.exit(2);
  }
}

/**
 * The fake agents. A real executor would send `request` to the node's agent; the
 * engine may repeat a start after a restart, so a start with an execution id the
 * node already runs is not run twice: the agent re-sends the execution's current
 * status instead, which the engine may not have heard before the restart.
 */
const running = new Map<string, { executionId: string; timer: TimerHandle; started: boolean }>();
const executor: Executor = {
  start(request) {
    const current = running.get(request.node);
    if (current?.executionId === request.executionId) {
      const { node, job, version } = request;
      if (current.started) clock.schedule(clock.now(), () => engine.reportExecution({ node, job, version, status: 'started' }));
      return;
    }
    stopAgent(request.node);
    const agent = { executionId: request.executionId, timer: null as TimerHandle, started: false };
    running.set(request.node, agent);
    agent.timer = clock.schedule(clock.now() + 200 + Math.random() * 800, () => agentStarted(request, agent));
  },
  stop(request) {
    if (running.get(request.node)?.executionId === request.executionId) stopAgent(request.node);
  },
};

function agentStarted(request: ExecutionRequest, agent: { executionId: string; timer: TimerHandle; started: boolean }): void {
  const { node, job, version } = request;
  agent.started = true;
  engine.reportExecution({ node, job, version, status: 'started' });
  const report = (): void => {
    const blip = flaky.has(node) && Math.random() < 0.15;
    engine.reportHealth({ node, job, version, healthy: !blip, error_rate: blip ? 0.2 : Math.random() * 0.02 });
    agent.timer = clock.schedule(clock.now() + 250, report);
  };
  report();
}

function stopAgent(node: string): void {
  const agent = running.get(node);
  if (agent !== undefined) clock.cancel(agent.timer);
  running.delete(node);
}

// Opening restores the snapshot and replays the journal when the store has state.
const engine = openEngine({ executor, clock, store });

const time = (at: number): string => pc.dim(format(at, 'HH:mm:ss.SSS'));
const log = (at: number, text: string): void => console.log(`${time(at)}  ${text}`);
engine.on('deployment.created', (e) => log(e.at, `${pc.bold(e.deployment)} ${e.kind} v${e.from_version ?? '-'} -> v${e.to_version}, ${e.strategy}, ${e.targeted} nodes, ${e.canaries} canaries`));
engine.on('deployment.state', (e) => log(e.at, `${pc.bold(e.deployment)} ${pc.cyan(e.state)}${e.reason ? ` (${e.reason})` : ''}`));
engine.on('deployment.promoted', (e) => log(e.at, `${pc.bold(e.deployment)} ${pc.cyan('promoted')}${e.auto ? ' automatically' : ''}`));
engine.on('node.started', (e) => log(e.at, `  ${e.node} started v${e.version}${e.canary ? pc.yellow(' (canary)') : ''}`));
engine.on('node.stable', (e) => log(e.at, `  ${e.node} ${pc.green('stable')} on v${e.version}`));
engine.on('node.failed', (e) => log(e.at, `  ${e.node} ${pc.red('failed')} on v${e.version}: ${e.reason}`));
engine.on('node.reverting', (e) => log(e.at, `  ${e.node} reverting to v${e.version}`));
engine.on('node.reverted', (e) => log(e.at, `  ${e.node} reverted to v${e.version}`));
engine.on('node.revert_failed', (e) => log(e.at, `  ${e.node} ${pc.red('revert failed')} (v${e.version})`));
// A stable flaky node reports `degraded` on every blip; one line a node is enough here.
const degraded = new Set<string>();
engine.on('node.degraded', (e) => {
  if (degraded.has(`${e.deployment} ${e.node}`)) return;
  degraded.add(`${e.deployment} ${e.node}`);
  log(e.at, `  ${e.node} ${pc.yellow('degraded')} on v${e.version} (stays stable; later blips not shown)`);
});

/** The job's latest deployment: there is one once the job was submitted. */
function latest(): DeploymentStatus {
  const status = engine.status(JOB);
  if (status === undefined) throw new Error(`${JOB} has no deployment`);
  return status;
}

function exitIfEnded(): void {
  const status = latest();
  if (!TERMINAL.has(status.state)) return; // e.g. `failed`, then at once `rolling_back`
  const { stable, degraded, failed, reverted } = status.counts;
  log(clock.now(), `${pc.bold(status.id)} ended ${pc.cyan(status.state)}: ${stable} stable, ${degraded} degraded, ${failed} failed, ${reverted} reverted; at most ${status.max_in_flight} updating at once`);
  engine.dispose();
  store.close();
  process.exit(status.state === 'completed' ? 0 : 1);
}
// Deferred: the engine delivers the whole step's events before we look at the outcome.
engine.on('deployment.state', () => setImmediate(exitIfEnded));

const live = engine.deployments().filter((d) => !TERMINAL.has(d.state));
log(clock.now(), `${dbFile}: ${live.length > 0 ? `resuming ${live.map((d) => `${d.id} (${d.state})`).join(', ')}` : 'no rollout in progress'}`);

// On every start, sync the inventory and submit: an unchanged node or spec is not even journaled, so a restart resumes.
for (const node of fleet) engine.upsertNode(node);
const submitted = engine.submit(spec);
if (submitted.rejected !== undefined) log(clock.now(), `${JOB} v${submitted.version} was ${submitted.rejected.state}: not deployed again (submit with { retry: true } to retry)`);
else if (submitted.unchanged) log(clock.now(), `${JOB} v${submitted.version} unchanged: nothing new to roll out`);
exitIfEnded(); // an unchanged spec whose rollout already ended

process.on('SIGINT', () => {
  console.log(); // past the terminal's ^C
  log(clock.now(), `interrupted; run again to resume from ${dbFile}`);
  engine.dispose();
  store.close();
  process.exit(130);
});
