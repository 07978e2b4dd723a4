/**
 * The simulator's real path (scenario loader, simulated agents, engine,
 * virtual clock) on a healthy rolling scenario of `nodes` nodes, and the
 * yardstick loop (baseline.ts) on the same fleet in the same process.
 *
 * 1. Warm-up (JIT) of both on a WARMUP_NODES fleet, unmeasured, so that
 *    sizes compare warm code with warm code.
 * 2. A memory run of the simulator: its peak RSS is read before the
 *    yardstick ever runs, and its live heap is sampled at a few points
 *    (after a full GC). Its time is not used.
 * 3. `repeats` timed rounds, simulator then yardstick, with no forced GC in
 *    between (a forced full GC shrinks the heap and doubles the time of the
 *    next run of either); the figures are medians.
 */
import { runScenario } from '../../src/sim/run.js';
import { runBaseline, type BaselineResult } from '../baseline.js';
import { HeapProbe, heapFigures, peakRss, type HeapFigures } from '../memory.js';
import { StepCounter } from '../stepCounter.js';
import { startWatch, type Elapsed } from '../stopwatch.js';
import { rollingModel, rollingScenario } from '../workloads.js';
import { loadBenchScenario } from './loadBenchScenario.js';

const WARMUP_NODES = 10_000;
const WARMUP_RUNS = 3;

export interface SimRollingResult {
  case: 'sim-rolling';
  nodes: number;
  repeats: number;
  /** Loading the scenario and generating the fleet (not in wall times). */
  setup_ms: number;
  /** Median of runScenario's wall time. */
  wall_ms: number;
  baseline_ms: number;
  /** wall_ms / baseline_ms. */
  ratio: number;
  /** Median CPU time of a simulator run, and its ratio to the yardstick's (steadier on a shared machine). */
  cpu_ms: number;
  cpu_ratio: number;
  sim_runs: Elapsed[];
  baseline_runs: Elapsed[];
  /** Timers the simulator's clock fired in one run. */
  events: number;
  events_per_s: number;
  baseline_events_per_s: number;
  /** The simulator and the yardstick fired as many events and ended at the same virtual time. */
  same_work: boolean;
  baseline: BaselineResult;
  outcome: string;
  stable: number;
  virtual_end_s: number;
  /** Peak RSS of the process after the memory run (scenario and fleet included). */
  peak_rss: number;
  /** Live heap of one run over the loaded scenario, per node. */
  heap_per_node: number;
  /** Live heap of the loaded scenario (its fleet, mostly), per node: the run's input, in peak RSS but not in heap_per_node. */
  scenario_heap_per_node: number;
  memory: HeapFigures;
}

async function warmUp(): Promise<void> {
  const scenario = await loadBenchScenario(rollingScenario(WARMUP_NODES), 'warm-up');
  for (let i = 0; i < WARMUP_RUNS; i += 1) {
    runScenario(scenario);
    runBaseline(scenario.fleet.length, rollingModel(WARMUP_NODES));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function runSimRolling(nodes: number, repeats: number): Promise<SimRollingResult> {
  const counter = new StepCounter();
  const scenarioProbe = new HeapProbe();
  const setupStart = performance.now();
  const scenario = await loadBenchScenario(rollingScenario(nodes), `rolling-${nodes}`);
  const setupMs = performance.now() - setupStart;
  scenarioProbe.checkpoint();
  const model = rollingModel(nodes);
  await warmUp();

  // About 4 events a node (first report, two more reports, stability timer): sample the live heap through the run.
  const probe = new HeapProbe();
  counter.reset([nodes, 2 * nodes, 3 * nodes, 4 * nodes - 1], () => probe.checkpoint());
  runScenario(scenario);
  const peak = peakRss();
  const heapPerNode = probe.peak / nodes;

  const simRuns: Elapsed[] = [];
  const baseRuns: Elapsed[] = [];
  let events = 0;
  let result: ReturnType<typeof runScenario>['result'] | null = null;
  let baseline: BaselineResult | null = null;
  for (let rep = 0; rep < repeats; rep += 1) {
    counter.reset();
    let watch = startWatch();
    result = runScenario(scenario).result;
    simRuns.push(watch());
    events = counter.count;

    watch = startWatch();
    baseline = runBaseline(scenario.fleet.length, model);
    baseRuns.push(watch());
  }
  const wall = median(simRuns.map((r) => r.wall_ms));
  const base = median(baseRuns.map((r) => r.wall_ms));
  const cpu = median(simRuns.map((r) => r.cpu_ms));
  return {
    case: 'sim-rolling',
    nodes,
    repeats,
    setup_ms: setupMs,
    wall_ms: wall,
    baseline_ms: base,
    ratio: wall / base,
    cpu_ms: cpu,
    cpu_ratio: cpu / median(baseRuns.map((r) => r.cpu_ms)),
    sim_runs: simRuns,
    baseline_runs: baseRuns,
    events,
    events_per_s: events / (wall / 1000),
    baseline_events_per_s: baseline!.events / (base / 1000),
    same_work: events === baseline!.events && Math.round(result!.duration_s * 1000) === baseline!.endMs,
    baseline: baseline!,
    outcome: result!.outcome,
    stable: result!.stable,
    virtual_end_s: result!.duration_s,
    peak_rss: peak,
    heap_per_node: heapPerNode,
    scenario_heap_per_node: scenarioProbe.peak / nodes,
    memory: heapFigures(),
  };
}
