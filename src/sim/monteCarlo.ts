/**
 * Monte Carlo: N runs of one scenario, run `i` with seed `seed + i`, spread
 * over the machine's cores with worker_threads. Workers take chunks of run
 * indexes from a shared queue and send back one small summary per run; the
 * aggregate is computed from the summaries in index order, so it is the same
 * whatever the number of threads or the split (aggregate.ts).
 *
 * The workers run the compiled JavaScript (`dist/.../monteCarloWorker.js`).
 * When that file is missing, as when the sources run under vitest, the runs
 * happen in this thread, with the same results.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { aggregate, summarizeRun, type Aggregate, type RunSummary } from './aggregate.js';
import { runScenario, ScenarioRunError } from './run.js';
import type { Scenario } from './scenario.js';
import { machineCapacity } from './capacity.js';

export interface MonteCarloOptions {
  runs: number;
  /** Base seed (default: the scenario's). */
  seed?: number;
  /** Worker threads; default: one per core (at most one per run); 0 runs in this thread. */
  threads?: number;
  /** Called after each run. */
  onProgress?: (done: number, total: number) => void;
  /** A label to break the failures down by (`Aggregate.by_label`). */
  by?: string;
  /** Called with each run's summary (in completion order), for those who need more than the aggregate (the HTML report's histograms). */
  onRun?: (index: number, summary: RunSummary) => void;
}

/**
 * Most runs of one series: each run keeps a small summary until the
 * aggregate is made (a few hundred bytes), and at a thousand runs a second
 * of a small fleet a million runs already take hours.
 */
export const MAX_RUNS = 1_000_000;

/** What a worker receives once. */
export interface WorkerSetup {
  scenario: Scenario;
  seed: number;
  by: string | undefined;
}

/** A chunk of run indexes [from, to), sent to a worker. */
export interface WorkerChunk {
  from: number;
  to: number;
}

/** What a worker sends back: one run's summary, the end of a chunk, or a failure. */
export type WorkerReply =
  | { kind: 'run'; index: number; summary: RunSummary }
  | { kind: 'chunk-done' }
  | { kind: 'failed'; path: string | null; message: string };

const WORKER_FILE = new URL('./monteCarloWorker.js', import.meta.url);

/** Run `index` of a Monte Carlo series, summarized. */
export function runOne(setup: WorkerSetup, index: number): RunSummary {
  const by = setup.by === undefined ? {} : { by: setup.by };
  return summarizeRun(runScenario(setup.scenario, { seed: setup.seed + index, ...by }).result);
}

export async function monteCarlo(scenario: Scenario, options: MonteCarloOptions): Promise<Aggregate> {
  const seed = options.seed ?? scenario.seed;
  const { runs } = options;
  if (!Number.isSafeInteger(runs) || runs < 1 || runs > MAX_RUNS) throw new RangeError(`runs must be an integer from 1 to ${MAX_RUNS}, found ${runs}`);
  const threads = Math.min(runs, options.threads ?? availableParallelism(), threadsThatFit(scenario));
  const summaries: RunSummary[] = new Array(runs);
  const setup: WorkerSetup = { scenario, seed, by: options.by };
  if (threads === 0 || !existsSync(fileURLToPath(WORKER_FILE))) {
    for (let index = 0; index < runs; index += 1) {
      const summary = runOne(setup, index);
      summaries[index] = summary;
      options.onRun?.(index, summary);
      options.onProgress?.(index + 1, runs);
    }
  } else {
    await runInWorkers(setup, runs, threads, summaries, options);
  }
  return aggregate(seed, summaries);
}

/** Each worker holds a copy of the fleet and a run of it: no more workers than the machine's memory holds at once. */
function threadsThatFit(scenario: Scenario): number {
  return Math.max(1, Math.floor(machineCapacity().machineNodes / Math.max(1, scenario.fleet.length)));
}

/** Chunks small enough to balance the threads, large enough that messaging stays cheap. */
function chunkSize(runs: number, threads: number): number {
  return Math.max(1, Math.min(64, Math.ceil(runs / (threads * 8))));
}

function runInWorkers(
  setup: WorkerSetup,
  runs: number,
  threads: number,
  summaries: RunSummary[],
  { onProgress, onRun }: Pick<MonteCarloOptions, 'onProgress' | 'onRun'>,
): Promise<void> {
  const size = chunkSize(runs, threads);
  let next = 0;
  let done = 0;
  const workers: Worker[] = [];
  const retired = new Set<Worker>();
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    const finish = (error?: Error): void => {
      if (finished) return;
      finished = true;
      for (const worker of workers) void worker.terminate();
      if (error === undefined) resolve();
      else reject(error);
    };
    const feed = (worker: Worker): void => {
      if (next >= runs) {
        retired.add(worker);
        void worker.terminate();
        return;
      }
      const chunk: WorkerChunk = { from: next, to: Math.min(runs, next + size) };
      next = chunk.to;
      worker.postMessage(chunk);
    };
    for (let t = 0; t < threads; t += 1) {
      const worker = new Worker(WORKER_FILE, { workerData: setup });
      workers.push(worker);
      worker.on('message', (reply: WorkerReply) => {
        if (reply.kind === 'run') {
          summaries[reply.index] = reply.summary;
          onRun?.(reply.index, reply.summary);
          done += 1;
          onProgress?.(done, runs);
          if (done === runs) finish();
        } else if (reply.kind === 'chunk-done') {
          feed(worker);
        } else {
          finish(reply.path === null ? new Error(reply.message) : new ScenarioRunError(reply.path, reply.message));
        }
      });
      worker.on('error', (error) => finish(error));
      worker.on('exit', (code) => {
        if (code !== 0 && !finished && !retired.has(worker)) finish(new Error(`a Monte Carlo worker stopped with exit code ${code}`));
      });
      feed(worker);
    }
  });
}
