/**
 * The yardstick: a minimal hand-written event loop doing the simulator's
 * rolling work with no framework (no engine, no state machine, no events,
 * no ports): its own binary heap and one record per node.
 *
 * Same work as `runScenario` on a healthy rolling scenario, timer for timer:
 * each started node arms a health-check deadline and its first report
 * `startDelayMs` later; every report is judged passing or not; the first
 * passing report arms the stability timer (`minHealthyMs`), and the node
 * keeps reporting every `reportIntervalMs` until that timer fires; then the
 * node is stable, its deadline and pending report are cancelled and the next
 * node in rollout order (ascending id) starts. At most `window` nodes update
 * at once. A report travels as the engine's input does, a small object
 * naming the node by id, and is routed to the node's record through a Map.
 * It counts fired timers the way the bench counts the simulator's clock
 * steps, so both counts must agree (the bench checks it).
 *
 * It leaves out what the simulator also does (random draws per node, the
 * journal-free engine bookkeeping, events): that is the overhead measured.
 */
import type { FleetNode } from '../src/selector/types.js';
import { TimerHeap, type Timer } from './binaryHeap.js';

export interface RollingModel {
  /** Most nodes updating at once (the spec's max_parallel). */
  window: number;
  startDelayMs: number;
  reportIntervalMs: number;
  minHealthyMs: number;
  deadlineMs: number;
  maxErrorRate: number;
}

export interface BaselineResult {
  /** Timers fired. */
  events: number;
  executionReports: number;
  healthReports: number;
  stable: number;
  failed: number;
  /** Virtual time of the last event (the rollout's duration). */
  endMs: number;
}

interface Report {
  node: string;
  healthy: boolean;
  error_rate: number;
}

const REPORT = 0;
const STABLE = 1;
const DEADLINE = 2;

interface NodeRun {
  id: string;
  /** The first report (execution started) has been sent. */
  running: boolean;
  streakStart: number;
  report: Timer | null;
  stableTimer: Timer | null;
  deadline: Timer | null;
}

/** A healthy node's report: healthy, error rate 0. */
const HEALTHY = true;
const ERROR_RATE = 0;

export function runBaseline(fleet: readonly FleetNode[], model: RollingModel): BaselineResult {
  const order = fleet.map((node) => node.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const nodes: NodeRun[] = order.map((id) => ({
    id,
    running: false,
    streakStart: -1,
    report: null,
    stableTimer: null,
    deadline: null,
  }));
  const byId = new Map<string, NodeRun>();
  for (const node of nodes) byId.set(node.id, node);
  const heap = new TimerHeap();
  const result: BaselineResult = { events: 0, executionReports: 0, healthReports: 0, stable: 0, failed: 0, endMs: 0 };
  let now = 0;
  let next = 0;
  let inFlight = 0;

  const fillWindow = (): void => {
    while (next < nodes.length && (model.window === 0 || inFlight < model.window)) {
      const node = nodes[next++]!;
      inFlight += 1;
      node.deadline = heap.push(now + model.deadlineMs, DEADLINE, next - 1);
      node.report = heap.push(now + model.startDelayMs, REPORT, next - 1);
    }
  };
  const resolve = (node: NodeRun, stable: boolean): void => {
    if (node.report !== null) node.report.live = false;
    if (node.stableTimer !== null) node.stableTimer.live = false;
    if (node.deadline !== null) node.deadline.live = false;
    node.report = node.stableTimer = node.deadline = null;
    if (stable) result.stable += 1;
    else result.failed += 1;
    inFlight -= 1;
    fillWindow();
  };
  const onReport = (report: Report, index: number): void => {
    const node = byId.get(report.node)!;
    node.report = null;
    if (!node.running) {
      node.running = true;
      result.executionReports += 1;
    }
    result.healthReports += 1;
    const passing = report.healthy && report.error_rate <= model.maxErrorRate;
    if (!passing) {
      node.streakStart = -1;
      if (node.stableTimer !== null) node.stableTimer.live = false;
      node.stableTimer = null;
    } else if (node.streakStart < 0) {
      node.streakStart = now;
      if (model.minHealthyMs === 0) return resolve(node, true);
      node.stableTimer = heap.push(now + model.minHealthyMs, STABLE, index);
    }
    node.report = heap.push(now + model.reportIntervalMs, REPORT, index);
  };

  fillWindow();
  for (let timer = heap.pop(); timer !== undefined; timer = heap.pop()) {
    now = timer.at;
    result.events += 1;
    const node = nodes[timer.node]!;
    if (timer.kind === REPORT) onReport({ node: node.id, healthy: HEALTHY, error_rate: ERROR_RATE }, timer.node);
    else if (timer.kind === STABLE) resolve(node, true);
    else resolve(node, false);
  }
  result.endMs = now;
  return result;
}
