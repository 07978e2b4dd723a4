/**
 * Runs of several policies over the scenario's release cases, on common
 * random numbers: run `i` of every policy and every case uses seed
 * `seed + i`, so the same nodes are bad and the same start delays are drawn
 * whatever the policy (prng.ts keys every draw by seed, node, version and
 * draw number). A scenario without release cases has one case, its behavior.
 *
 * Tasks (policy, case, runs from..to) go to worker threads, one per core, as
 * in monteCarlo.ts; each worker receives the scenario and the policies once.
 * Without the compiled worker (the sources under vitest) tasks run in this
 * thread, with the same records.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { JobSpec } from '../spec/types.js';
import type { BehaviorModel } from './behavior.js';
import type { ReleaseName } from './releaseCases.js';
import type { Phase, SimResult } from './result.js';
import { runScenario, ScenarioRunError } from './run.js';
import type { Scenario } from './scenario.js';

/** One release case as played: `name` null for a scenario without release cases. */
export interface PlayedCase {
  name: ReleaseName | null;
  probability: number | null;
  behavior: BehaviorModel;
}

/** What the figures need of one run (small, to cross thread boundaries cheaply). */
export interface RunRecord {
  outcome: SimResult['outcome'];
  duration_s: number;
  /** Time spent in awaiting_promotion. */
  waiting_s: number;
  exposed: number;
  targeted: number;
  time_to_detect_s: number | null;
  /** The deployment failed (it may have rolled back since). */
  failed: boolean;
  rolled_back: boolean;
  revert_failed: number;
}

export interface RunTask {
  policy: number;
  /** Index into `playedCases(scenario)`. */
  release: number;
  from: number;
  to: number;
}

export interface PolicyRunnerSetup {
  scenario: Scenario;
  jobs: JobSpec[];
  seed: number;
}

export interface PolicyRunnerOptions {
  /** Worker threads; default one per core; 0 runs in this thread. */
  threads?: number;
  /** Called with the number of runs each finished task added. */
  onRuns?: (runs: number) => void;
}

type WorkerReply = { kind: 'done'; id: number; records: RunRecord[] } | { kind: 'failed'; path: string | null; message: string };

const WORKER_FILE = new URL('./policyRunsWorker.js', import.meta.url);
const FAILED_STATES: ReadonlySet<string> = new Set(['failed', 'rolling_back', 'rolled_back']);

export function playedCases(scenario: Scenario): PlayedCase[] {
  return scenario.releases ?? [{ name: null, probability: null, behavior: scenario.behavior }];
}

/** Runs tasks in this thread: one scenario per case, the policy's job swapped in. */
export function taskRunner(setup: PolicyRunnerSetup): (task: RunTask) => RunRecord[] {
  const cases = playedCases(setup.scenario).map((played): Scenario => ({ ...setup.scenario, behavior: played.behavior, releases: null }));
  return ({ policy, release, from, to }) => {
    const scenario: Scenario = { ...cases[release]!, job: setup.jobs[policy]! };
    const records: RunRecord[] = [];
    for (let index = from; index < to; index += 1) records.push(recordOf(runScenario(scenario, { seed: setup.seed + index }).result));
    return records;
  };
}

export function recordOf(result: SimResult): RunRecord {
  return {
    outcome: result.outcome,
    duration_s: result.duration_s,
    waiting_s: waitingForPromotion(result.phases, result.duration_s),
    exposed: result.exposed,
    targeted: result.targeted,
    time_to_detect_s: result.time_to_detect_s,
    failed: FAILED_STATES.has(result.outcome),
    rolled_back: result.outcome === 'rolling_back' || result.outcome === 'rolled_back',
    revert_failed: result.revert_failed,
  };
}

/** Seconds in awaiting_promotion: from entering it to the next phase, or to the end of the deployment's duration. */
export function waitingForPromotion(phases: readonly Phase[], duration: number): number {
  let waiting = 0;
  const start = phases[0]?.t ?? 0;
  for (let i = 0; i < phases.length; i += 1) {
    if (phases[i]!.phase !== 'awaiting_promotion') continue;
    const until = phases[i + 1]?.t ?? start + duration;
    waiting += until - phases[i]!.t;
  }
  return Math.round(waiting * 1000) / 1000;
}

/** A pool that runs tasks, many at a time; `close` ends its threads. */
export interface PolicyRunner {
  run(tasks: readonly RunTask[]): Promise<RunRecord[][]>;
  close(): Promise<void>;
}

export function createPolicyRunner(setup: PolicyRunnerSetup, options: PolicyRunnerOptions = {}): PolicyRunner {
  const threads = options.threads ?? availableParallelism();
  if (threads === 0 || !existsSync(fileURLToPath(WORKER_FILE))) return inThread(setup, options);
  return inWorkers(setup, threads, options);
}

function inThread(setup: PolicyRunnerSetup, options: PolicyRunnerOptions): PolicyRunner {
  const runTask = taskRunner(setup);
  return {
    run: async (tasks) =>
      tasks.map((task) => {
        const records = runTask(task);
        options.onRuns?.(records.length);
        return records;
      }),
    close: async () => {},
  };
}

interface Pending {
  task: RunTask;
  settle: (records: RunRecord[]) => void;
}

function inWorkers(setup: PolicyRunnerSetup, threads: number, options: PolicyRunnerOptions): PolicyRunner {
  const queue: Pending[] = [];
  const busy = new Map<Worker, Pending>();
  const idle: Worker[] = [];
  let broken: Error | null = null;
  const failures: Array<(error: Error) => void> = [];
  const fail = (error: Error): void => {
    if (broken !== null) return;
    broken = error;
    for (const reject of failures.splice(0)) reject(error);
  };
  const dispatch = (): void => {
    while (idle.length > 0 && queue.length > 0) {
      const worker = idle.pop()!;
      const pending = queue.shift()!;
      busy.set(worker, pending);
      worker.postMessage({ id: 0, task: pending.task });
    }
  };
  const workers: Worker[] = [];
  let closing = false;
  for (let t = 0; t < threads; t += 1) {
    const worker = new Worker(WORKER_FILE, { workerData: setup });
    workers.push(worker);
    idle.push(worker);
    worker.on('message', (reply: WorkerReply) => {
      if (reply.kind === 'failed') {
        fail(reply.path === null ? new Error(reply.message) : new ScenarioRunError(reply.path, reply.message));
        return;
      }
      const pending = busy.get(worker)!;
      busy.delete(worker);
      idle.push(worker);
      options.onRuns?.(reply.records.length);
      pending.settle(reply.records);
      dispatch();
    });
    worker.on('error', (error) => fail(error));
    worker.on('exit', (code) => {
      if (!closing) fail(new Error(`a simulation worker stopped with exit code ${code}`));
    });
  }
  return {
    run: (tasks) =>
      new Promise<RunRecord[][]>((resolve, reject) => {
        if (broken !== null) return reject(broken);
        failures.push(reject);
        const results: RunRecord[][] = new Array(tasks.length);
        let left = tasks.length;
        if (left === 0) return resolve(results);
        tasks.forEach((task, index) => {
          queue.push({
            task,
            settle: (records) => {
              results[index] = records;
              left -= 1;
              if (left === 0) {
                failures.splice(failures.indexOf(reject), 1);
                resolve(results);
              }
            },
          });
        });
        dispatch();
      }),
    close: async () => {
      closing = true;
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
