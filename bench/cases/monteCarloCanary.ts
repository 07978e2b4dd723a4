/**
 * Monte Carlo through src/sim/monteCarlo.ts: `runs` runs of an auto-promoted
 * canary on `nodes` nodes, spread over worker threads (one per core, the
 * module's default). Events per second are an estimate: the mean events of
 * a few runs replayed in this thread (where the clock's steps are counted),
 * times the runs, over the Monte Carlo wall time.
 */
import { availableParallelism } from 'node:os';
import { monteCarlo } from '../../src/sim/monteCarlo.js';
import { runScenario } from '../../src/sim/run.js';
import { heapFigures, peakRss, type HeapFigures } from '../memory.js';
import { StepCounter } from '../stepCounter.js';
import { startWatch } from '../stopwatch.js';
import { canaryScenario } from '../workloads.js';
import { loadBenchScenario } from './loadBenchScenario.js';

const COUNTED_RUNS = 10;

export interface MonteCarloResult {
  case: 'monte-carlo';
  nodes: number;
  runs: number;
  threads: number;
  wall_ms: number;
  /** CPU time of the whole process, worker threads included. */
  cpu_ms: number;
  runs_per_s: number;
  /** Estimated (see the module comment). */
  events_per_s: number;
  events_per_run: number;
  outcomes: Record<string, number>;
  duration_s_p50: number;
  rollback_rate: number;
  peak_rss: number;
  memory: HeapFigures;
}

export async function runMonteCarloCanary(nodes: number, runs: number): Promise<MonteCarloResult> {
  const scenario = await loadBenchScenario(canaryScenario(nodes), `canary-${nodes}`);
  const threads = availableParallelism();
  const watch = startWatch();
  const aggregate = await monteCarlo(scenario, { runs });
  const elapsed = watch();
  const wallMs = elapsed.wall_ms;
  const peak = peakRss();

  const counter = new StepCounter();
  let counted = 0;
  for (let i = 0; i < COUNTED_RUNS; i += 1) {
    counter.reset();
    runScenario(scenario, { seed: scenario.seed + i });
    counted += counter.count;
  }
  const eventsPerRun = counted / COUNTED_RUNS;
  return {
    case: 'monte-carlo',
    nodes,
    runs,
    threads,
    wall_ms: wallMs,
    cpu_ms: elapsed.cpu_ms,
    runs_per_s: runs / (wallMs / 1000),
    events_per_s: (eventsPerRun * runs) / (wallMs / 1000),
    events_per_run: eventsPerRun,
    outcomes: aggregate.outcomes,
    duration_s_p50: aggregate.duration_s.p50,
    rollback_rate: aggregate.rollback_rate,
    peak_rss: peak,
    memory: heapFigures(),
  };
}
