/**
 * What one node did in a recorded rollout, as a scripted behavior (script.ts)
 * the simulated agents play: every time counts from the engine's start
 * request on the node (a crash and a run's end from its `started`), so the
 * node does the same under another policy that starts it at another time.
 *
 * - start delay: start request to the first execution report;
 * - health: one phase per change of the reports' verdict, judged against the
 *   policy's `max_error_rate` (the agents then report `error_rate` 0), so a
 *   policy with another threshold sees the same reports pass or fail as the
 *   engine would judge them;
 * - reports come on a regular grid from `started`: the largest interval that
 *   puts a report on every recorded change of verdict, so the engine sees each
 *   change at its recorded instant. Reports that would need a grid finer than
 *   the replay can afford (GRID_REPORT_BUDGET: a real clock's jitter on a
 *   large fleet) are replayed on their median interval, each change up to
 *   one interval late: `regular` is then false;
 * - crash, silence, the end of a run-to-completion job, and the revert (its
 *   delay and whether the old version came back) as recorded.
 * After the last recorded report the node is assumed to go on as it last did;
 * a revert the recording never saw comes back after the start delay (a
 * silent node's reports nothing, as a silent agent does).
 */
import type { Behavior } from './behavior.js';
import type { RecordedExecution, RecordedReport } from './recordingPlayback.js';
import type { ExecutionScript, HealthPhase } from './script.js';

/**
 * Reports a replay may spend on fine grids, over all its nodes (a few seconds
 * of engine time); each node may use its share, and at least
 * MIN_GRID_REPORTS, before its grid falls back to the median interval.
 */
export const GRID_REPORT_BUDGET = 1_000_000;
export const MIN_GRID_REPORTS = 1_000;

/** Used when a node sent a single health report: the interval is then never seen. */
const LONE_REPORT_INTERVAL_MS = 10_000;

export interface ObservedBehavior {
  behavior: Behavior;
  /** Every change of verdict is replayed at its recorded instant. */
  regular: boolean;
}

export interface JudgingContext {
  /** The job runs to completion (query, update, config) rather than as a pipeline. */
  runsToCompletion: boolean;
  maxErrorRate: number;
  /** How the recorded deployment judged the node (stable, or a failure reason); undefined when it did not. */
  judged: string | undefined;
  /** Reports this node's grid may cost (see GRID_REPORT_BUDGET). */
  gridReports: number;
}

/**
 * The behavior of a recorded update (and its revert, when there was one);
 * null when the execution says nothing about the node: the engine stopped or
 * replaced it before the node reported anything or was judged.
 */
export function observedBehavior(update: RecordedExecution, revert: RecordedExecution | null, context: JudgingContext): ObservedBehavior | null {
  const reports = update.reports;
  const revertFields = recordedRevert(revert);
  if (reports.length === 0) {
    // Silent is a behavior when the node said nothing for as long as it ran: until the engine judged it, or to the end of the recording.
    if (context.judged === undefined && update.endedAt !== null) return null;
    return { behavior: scripted(LONE_REPORT_INTERVAL_MS, 0, { ...NO_HEALTH, silent: true, ...revertFields }), regular: true };
  }
  const first = reports[0]!;
  const started = reports.find((r) => r.kind === 'execution' && r.status === 'started');
  const firstStatus = reports.find((r) => r.kind === 'execution');
  const crashAtStart = started === undefined && firstStatus?.kind === 'execution' && firstStatus.status === 'failed';
  const startDelay = (started ?? (crashAtStart ? firstStatus : first)).at - update.requestedAt;
  const startedAt = update.requestedAt + startDelay;
  const ended = started === undefined ? undefined : reports.find((r) => r.kind === 'execution' && r.at >= started.at && r !== started && r.status !== 'started');
  const end = ended?.kind === 'execution' ? ended : undefined;

  const health = reports.filter((r): r is Extract<RecordedReport, { kind: 'health' }> => r.kind === 'health');
  const passes = (r: Extract<RecordedReport, { kind: 'health' }>): boolean => r.healthy && (r.error_rate === undefined || r.error_rate <= context.maxErrorRate);
  const phases: HealthPhase[] = [];
  for (const report of health) {
    const healthy = passes(report);
    if (phases.length === 0 || phases.at(-1)!.healthy !== healthy) phases.push({ from: report.at - update.requestedAt, healthy });
  }
  const grid = reportGrid(
    phases.map((phase) => phase.from - startDelay),
    health.map((r) => r.at - startedAt),
    context.gridReports,
  );
  const script: ExecutionScript = {
    health: phases,
    crash: crashAtStart ? 'at_start' : !context.runsToCompletion && end?.status === 'failed' ? end.at - startedAt : 'never',
    silent: false,
    run_time: context.runsToCompletion && end !== undefined ? end.at - startedAt : Infinity,
    completion: end?.status === 'failed' ? 'failed' : 'succeeded',
    ...revertFields,
  };
  return { behavior: scripted(grid.interval, startDelay, script), regular: grid.regular };
}

const NO_HEALTH: Omit<ExecutionScript, 'revert' | 'revert_delay'> = { health: [], crash: 'never', silent: false, run_time: Infinity, completion: 'succeeded' };

function scripted(interval: number, startDelay: number, script: ExecutionScript): Behavior {
  return { start_delay: { min: startDelay, max: startDelay }, report_interval: interval, fail_probability: 0, crash_probability: 0, error_rate: { min: 0, max: 0 }, script };
}

/** What the recorded revert did; without one, the old version is assumed to come back after the update's start delay. */
export function recordedRevert(revert: RecordedExecution | null): Pick<ExecutionScript, 'revert' | 'revert_delay'> {
  if (revert === null) return { revert: 'confirms' };
  const report = revert.reports.find((r) => r.kind === 'execution');
  if (report?.kind === 'execution') return { revert: report.status === 'failed' ? 'fails' : 'confirms', revert_delay: report.at - revert.requestedAt };
  // No report for as long as it was watched (until the engine gave up on it, stopped it, or the recording ended): it goes on hanging.
  return { revert: 'hangs' };
}

/**
 * The report interval: the greatest common divisor of the changes' offsets
 * from `started`, so every change falls on a report (between changes the
 * verdict is constant, so fewer reports change nothing the engine judges),
 * unless that grid is too fine; then the median interval between reports.
 */
function reportGrid(changes: readonly number[], reportTimes: readonly number[], maxReports: number): { interval: number; regular: boolean } {
  const median = medianInterval(reportTimes);
  if (changes.some((offset) => offset < 0 || !Number.isInteger(offset))) return { interval: median, regular: false };
  const divisor = changes.reduce((g, offset) => gcd(g, offset), 0);
  if (divisor === 0) return { interval: median, regular: true };
  // The grid reports until the last recorded report at least (while the engine has not judged the node).
  if (Math.max(...changes, ...reportTimes) / divisor > maxReports) return { interval: median, regular: false };
  return { interval: divisor, regular: true };
}

function medianInterval(times: readonly number[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i += 1) if (times[i]! > times[i - 1]!) gaps.push(times[i]! - times[i - 1]!);
  if (gaps.length === 0) return LONE_REPORT_INTERVAL_MS;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1]!;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
