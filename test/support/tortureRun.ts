/**
 * The crash-torture driver: runs the orchestrator fixture as a child process,
 * SIGKILLs it as the plan says and starts it again on the same store, while
 * the agents (tortureAgents.ts) act on what its executor handed over and
 * report back over IPC, and an operator submits each job's next version once
 * the last one is at rest (now and then while it still rolls out) and
 * promotes canaries that wait. After the last kill it lets the orchestrator
 * settle and asks it for its final state. It judges nothing: see
 * tortureInvariants.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAtRest } from '../../src/engine/index.js';
import type { DeploymentStatus, NodeInventory } from '../../src/engine/types.js';
import { Agents } from './tortureAgents.js';
import { LogTail, type LogRecord } from './tortureLog.js';
import { fleetOf, JOBS, killsOf, VersionPlan, type Kill, type PlannedVersion, type TortureOptions } from './torturePlan.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'crash-torture-orchestrator.mjs');
const TICK_MS = 25;
const STATUS_EVERY_MS = 200;
/** Generous: a start on a loaded machine, or the final rollouts (unhealthy versions wait out their deadline). */
const READY_WITHIN_MS = 60_000;
const SETTLE_WITHIN_MS = 180_000;

export interface FinalState {
  deployments: DeploymentStatus[];
  nodes: NodeInventory[];
  nodeStates: Record<string, Record<string, string>>;
  ignoredReports: Record<string, number>;
  quarantined: number;
}

export interface Incarnation {
  records: LogRecord[];
  /** When the test sent SIGKILL (null: the last one, which exited by itself). */
  killedAt: number | null;
  kill: Kill | null;
}

export interface TortureRun {
  options: TortureOptions;
  incarnations: Incarnation[];
  /** job -> its versions, as submitted. */
  versions: Map<string, PlannedVersion[]>;
  final: FinalState;
  /** What the agents run at the end: node -> job -> version. */
  agentVersions: Map<string, Map<string, number>>;
  repeatedStarts: number;
  durationMs: number;
}

/** The operator: each job's desired version, in a file the orchestrator reads on every start. */
class Operator {
  readonly plans: VersionPlan[];
  readonly versions = new Map<string, PlannedVersion[]>();
  private readonly upcoming = new Map<string, PlannedVersion>();
  /** When each waiting deployment was last asked to promote: asked again if the request was lost with a killed orchestrator. */
  private readonly promoted = new Map<string, number>();
  /** New versions while true; after the last kill only until every job has reached version 2. */
  planning = true;

  constructor(
    seed: number,
    private readonly file: string,
    private readonly fleet: ReturnType<typeof fleetOf>,
  ) {
    this.plans = JOBS.map((job, i) => new VersionPlan(seed, job, i));
    for (const plan of this.plans) this.versions.set(plan.job.key, [plan.next()]);
    this.save();
  }

  /** Reacts to the orchestrator's status: the next version when the current one is at rest (or a hasty one early), promotion when a canary waits. */
  onStatus(deployments: DeploymentStatus[], send: (message: object) => void): void {
    for (const plan of this.plans) {
      const key = plan.job.key;
      const latest = deployments.filter((d) => d.job === key).at(-1);
      const current = this.versions.get(key)!.at(-1)!;
      if (latest === undefined || latest.to_version !== current.version || latest.kind === 'rollback') continue;
      if (latest.state === 'awaiting_promotion' && Date.now() - (this.promoted.get(latest.id) ?? 0) > 1000) {
        this.promoted.set(latest.id, Date.now());
        send({ t: 'promote', job: key });
      }
      if (!this.planning && this.versions.get(key)!.length >= 2) continue;
      let next = this.upcoming.get(key);
      if (next === undefined) this.upcoming.set(key, (next = plan.next()));
      const early = next.hasty && latest.state === 'in_progress' && latest.counts.stable >= 3;
      if (early || (isAtRest(latest) && latest.state !== 'awaiting_promotion')) {
        this.upcoming.delete(key);
        this.versions.get(key)!.push(next);
        this.save();
        send({ t: 'submit', spec: next.spec });
      }
    }
  }

  /** Every job's latest deployment is its desired version's, and at rest without an operator. */
  settled(deployments: DeploymentStatus[]): boolean {
    if (!deployments.every((d) => isAtRest(d))) return false;
    return this.plans.every((plan) => {
      const latest = deployments.filter((d) => d.job === plan.job.key).at(-1);
      return latest !== undefined && latest.to_version === this.versions.get(plan.job.key)!.at(-1)!.version && latest.state !== 'awaiting_promotion';
    });
  }

  private save(): void {
    const desired = { nodes: this.fleet, specs: [...this.versions.values()].map((versions) => versions.at(-1)!.spec) };
    writeFileSync(`${this.file}.tmp`, JSON.stringify(desired));
    renameSync(`${this.file}.tmp`, this.file); // a start never reads half a file
  }
}

/** One orchestrator process. */
class Orchestrator {
  readonly tail: LogTail;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: string[] = [];
  ready = false;
  private readonly child: ChildProcess;

  constructor(build: string, db: string, desired: string, log: string, onMessage: (message: { t: string } & Record<string, unknown>) => void) {
    this.tail = new LogTail(log);
    this.child = spawn(process.execPath, [FIXTURE, db, desired, log], {
      env: { ...process.env, FLEET_TORTURE_BUILD: build },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.child.on('message', onMessage);
    this.child.on('error', () => {}); // a send racing the kill: the message is lost, as on a network
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** As soon as it is connected: what arrives before it is ready waits in its inbox (crash-torture-orchestrator.mjs). */
  send(message: object): void {
    if (this.child.connected) this.child.send(message, () => {});
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Watches the log closely and returns as soon as the orchestrator hands over a call or an event (or after a while without one). */
async function firstDelivery(orchestrator: Orchestrator, deliver: (records: LogRecord[]) => void): Promise<void> {
  const limit = Date.now() + 5000;
  while (Date.now() < limit) {
    const fresh = orchestrator.tail.read();
    deliver(fresh);
    if (fresh.some((r) => r.k === 'event' || r.k === 'start' || r.k === 'stop')) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export async function runTorture(options: TortureOptions, dir: string, build: string): Promise<TortureRun> {
  const began = Date.now();
  const fleet = fleetOf(options.nodes);
  const operator = new Operator(options.seed, join(dir, 'desired.json'), fleet);
  const agents = new Agents(options.seed);
  const incarnations: Incarnation[] = [];
  let live: Orchestrator | null = null;
  let statuses: DeploymentStatus[] | null = null;
  let final: FinalState | null = null;

  const deliver = (records: LogRecord[]): void => {
    const now = Date.now();
    for (const r of records) {
      if (r.k === 'start') agents.start(r, now);
      else if (r.k === 'stop') agents.stop(r);
      else if (r.k === 'ready' && live !== null) live.ready = true;
    }
  };
  // The agents' loop: read what was handed over, act on it, report what is due.
  let lastStatus = 0;
  const ticker = setInterval(() => {
    if (live !== null) deliver(live.tail.read());
    const reports = agents.due(Date.now());
    if (live === null) return; // the orchestrator is down: reports are lost
    if (reports.length > 0) live.send({ t: 'reports', reports });
    if (Date.now() - lastStatus >= STATUS_EVERY_MS) {
      lastStatus = Date.now();
      live.send({ t: 'status' });
    }
  }, TICK_MS);

  const spawnOrchestrator = (n: number): Orchestrator => {
    const orchestrator: Orchestrator = new Orchestrator(build, join(dir, 'rollout.db'), join(dir, 'desired.json'), join(dir, `log-${n}.jsonl`), (message) => {
      if (message.t === 'status') {
        statuses = message.deployments as DeploymentStatus[];
        operator.onStatus(statuses, (m) => orchestrator.send(m));
      } else if (message.t === 'final') {
        final = message as unknown as FinalState;
      }
    });
    return orchestrator;
  };

  const until = async (holds: () => boolean, what: string, ms: number, orchestrator: Orchestrator): Promise<void> => {
    const state = () => `${orchestrator.stderr.join('')}\nlast status: ${JSON.stringify(statuses?.map((d) => [d.id, d.state, d.reason, d.counts]))}\nversions: ${JSON.stringify([...operator.versions].map(([job, versions]) => [job, versions.map((v) => [v.version, v.behavior, v.hasty])]))}\nfolder: ${dir}`;
    const limit = Date.now() + ms;
    let exited = false;
    void orchestrator.exited.then(() => (exited = true));
    while (!holds()) {
      if (exited) throw new Error(`the orchestrator exited while waiting for ${what}:\n${state()}`);
      if (Date.now() > limit) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${state()}`);
      await sleep(TICK_MS);
    }
  };

  try {
    const kills = killsOf(options);
    for (const [n, kill] of kills.entries()) {
      const orchestrator = (live = spawnOrchestrator(n));
      if (kill.when !== 'starting') await until(() => orchestrator.ready, 'the orchestrator to be ready', READY_WITHIN_MS, orchestrator);
      await sleep(kill.afterMs);
      if (kill.when === 'delivering') await firstDelivery(orchestrator, deliver);
      const killedAt = Date.now();
      orchestrator.kill();
      const { signal } = await orchestrator.exited;
      if (signal !== 'SIGKILL') throw new Error(`orchestrator ${n} ended by itself before its kill (${signal}):\n${orchestrator.stderr.join('')}`);
      live = null;
      deliver(orchestrator.tail.read()); // everything the executor handed over before it died reaches the agents
      incarnations.push({ records: orchestrator.tail.records, killedAt, kill });
      await sleep(kill.downMs);
    }

    // The last one: no new versions; it runs until every rollout is at rest, then reports its state.
    operator.planning = false;
    statuses = null;
    const last = (live = spawnOrchestrator(kills.length));
    await until(() => statuses !== null && operator.settled(statuses), 'every rollout to come to rest', SETTLE_WITHIN_MS, last);
    last.send({ t: 'final' });
    await until(() => final !== null, 'the final state', READY_WITHIN_MS, last);
    deliver(last.tail.read());
    const versions = agents.versions(); // nothing is in flight: no report or start can change them now
    last.send({ t: 'exit' });
    const { code } = await last.exited;
    live = null;
    if (code !== 0) throw new Error(`the last orchestrator exited with ${code}:\n${last.stderr.join('')}`);
    deliver(last.tail.read());
    incarnations.push({ records: last.tail.records, killedAt: null, kill: null });
    return {
      options,
      incarnations,
      versions: operator.versions,
      final: final!,
      agentVersions: versions,
      repeatedStarts: agents.repeatedStarts,
      durationMs: Date.now() - began,
    };
  } finally {
    clearInterval(ticker);
    if (live !== null) {
      live.kill();
      await live.exited;
    }
  }
}
