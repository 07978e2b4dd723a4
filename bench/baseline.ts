/**
 * The floor: the least work that does the simulator's rolling rollout, timer
 * for timer. No engine, no state machine, no events, no ports, no strings:
 * nodes are dense integer indexes (the rollout order of generated ids is
 * their index order), per-node state lives in typed arrays, and timers are
 * one binary min-heap of (due time, scheduling order) in typed arrays.
 *
 * Same work as `runScenario` on a healthy rolling scenario: each started node
 * arms a health-check deadline and its first report `startDelayMs` later;
 * every report is judged passing or not; the first passing report arms the
 * stability timer (`minHealthyMs`), and the node keeps reporting every
 * `reportIntervalMs` until that timer fires; then the node is stable, its
 * deadline and pending report are cancelled and the next node starts. At most
 * `window` nodes update at once. Cancelled timers are marked dead and dropped
 * when they reach the top, as the engine's virtual clock does. It counts
 * fired timers the way the bench counts the simulator's clock steps, so both
 * counts must agree (the bench checks it).
 */
import { TimerHeap } from './binaryHeap.js';

export interface RollingModel {
  /** Most nodes updating at once (the spec's max_parallel); 0 = no bound. */
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

const REPORT = 0;
const STABLE = 1;
const DEADLINE = 2;
const KINDS = 3;
const NONE = -1;

/** A healthy node's report: healthy, error rate 0. */
const HEALTHY = true;
const ERROR_RATE = 0;

export function runBaseline(nodes: number, model: RollingModel): BaselineResult {
  // Per node: its report state; its timers are the heap's slots node * KINDS + kind.
  const running = new Uint8Array(nodes);
  const streaking = new Uint8Array(nodes);
  const heap = new TimerHeap(nodes * KINDS);
  const result: BaselineResult = { events: 0, executionReports: 0, healthReports: 0, stable: 0, failed: 0, endMs: 0 };
  let now = 0;
  let next = 0;
  let inFlight = 0;

  const arm = (node: number, kind: number, at: number): void => heap.push(at, node * KINDS + kind);
  const disarm = (node: number, kind: number): void => heap.cancel(node * KINDS + kind);
  const fillWindow = (): void => {
    while (next < nodes && (model.window === 0 || inFlight < model.window)) {
      const node = next++;
      inFlight += 1;
      arm(node, DEADLINE, now + model.deadlineMs);
      arm(node, REPORT, now + model.startDelayMs);
    }
  };
  const resolve = (node: number, stable: boolean): void => {
    disarm(node, REPORT);
    disarm(node, STABLE);
    disarm(node, DEADLINE);
    if (stable) result.stable += 1;
    else result.failed += 1;
    inFlight -= 1;
    fillWindow();
  };
  const onReport = (node: number, healthy: boolean, errorRate: number): void => {
    if (running[node] === 0) {
      running[node] = 1;
      result.executionReports += 1;
    }
    result.healthReports += 1;
    if (!(healthy && errorRate <= model.maxErrorRate)) {
      streaking[node] = 0;
      disarm(node, STABLE);
    } else if (streaking[node] === 0) {
      streaking[node] = 1;
      if (model.minHealthyMs === 0) return resolve(node, true);
      arm(node, STABLE, now + model.minHealthyMs);
    }
    arm(node, REPORT, now + model.reportIntervalMs);
  };

  fillWindow();
  for (let slot = heap.pop(); slot !== NONE; slot = heap.pop()) {
    now = heap.lastAt;
    result.events += 1;
    const node = (slot / KINDS) | 0;
    const kind = slot - node * KINDS;
    if (kind === REPORT) onReport(node, HEALTHY, ERROR_RATE);
    else if (kind === STABLE) resolve(node, true);
    else resolve(node, false);
  }
  result.endMs = now;
  return result;
}
