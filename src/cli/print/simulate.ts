/** Output of `simulate`: the §8 JSON, or a summary for a terminal (outcome, timings, counts, a timeline of phases). */
import { formatDuration, intervalToDuration } from 'date-fns';
import type { Aggregate, Stats } from '../../sim/aggregate.js';
import type { LabelBreakdown } from '../../sim/breakdown.js';
import type { Phase, SimResult } from '../../sim/result.js';
import type { SourcedProblem } from '../../sim/scenario.js';
import type { Colors } from './colors.js';
import { jsonOutput } from './json.js';
import { count, formatProblem } from './problems.js';
import { safeText } from './safeText.js';

export function resultJson(result: SimResult): string {
  return jsonOutput({ ...result });
}

export function aggregateJson(aggregate: Aggregate): string {
  return jsonOutput({ ...aggregate });
}

/** Problems of the scenario and the JobSpecs it names, one `file: path: message` line each (a parse error already names its file and position). */
export function problemsText(problems: readonly SourcedProblem[]): string {
  if (problems.length === 0) return '';
  const lines = problems.map((problem) =>
    problem.path === '' && problem.message.startsWith(`${problem.source}:`) ? problem.message : formatProblem(problem.source, problem),
  );
  return `${lines.join('\n')}\n`;
}

/** One run: what happened to the job's deployment. */
export function resultReport(source: string, description: string | null, result: SimResult, colors: Colors): string {
  const versions = result.from_version === null ? `v${result.to_version}` : `v${result.from_version} → v${result.to_version}`;
  const canaries = result.strategy === 'canary' ? `, ${result.canaries} ${result.canaries === 1 ? 'canary' : 'canaries'}` : '';
  const rows: Array<[string, string]> = [
    ['outcome', `${paintOutcome(result.outcome, colors)}${result.reason === null ? '' : ` (${result.reason})`} ${result.ended_by === 'settled' ? 'after' : 'still, at the horizon, after'} ${spoken(result.duration_s)}`],
    ['timeline', timeline(result.phases)],
    ['nodes', nodesText(result)],
    ['window', `at most ${count(result.max_in_flight, 'node')} updating at once`],
  ];
  if (result.exposed > 0 && result.from_version !== null && (result.reverted > 0 || result.revert_failed > 0)) {
    rows.push(['reverts', `${result.reverted} of ${result.exposed} exposed reverted to v${result.from_version}, ${result.revert_failed} revert failed`]);
  }
  if (result.failed > 0) rows.push(['failures', reasonsText(result.failed_by_reason)]);
  if (result.time_to_fail_s !== null) {
    const rollback = result.time_to_rollback_s === null ? 'no rollback completed' : `rolled back in ${spoken(result.time_to_rollback_s)}`;
    const how = result.time_to_detect_s === null ? 'aborted by the operator after' : 'detected after';
    rows.push(['failure', `${how} ${spoken(result.time_to_fail_s)}; ${rollback}`]);
  }
  if (result.by_label !== null) rows.push(...labelRows(result.by_label));
  for (const refusal of result.refused) rows.push(['refused', `${compact(refusal.t)} ${refusal.action}: ${refusal.message}`]);
  for (const later of result.later_deployments) {
    rows.push(['then', `${later.deployment} (${later.kind} to v${later.to_version}) created at ${compact(later.created_s)}: ${paintOutcome(later.outcome, colors)} at ${compact(later.end_s)}`]);
  }
  rows.push(['run', result.ended_by === 'settled' ? `stopped at ${compact(result.end_s)}, nothing left to happen` : `stopped at the horizon, ${compact(result.end_s)}`]);
  const heading = `${source} · seed ${result.seed} · ${result.job} ${versions} (${result.strategy}${canaries})`;
  return `${[colors.bold(heading), ...about(description, colors), ...table(rows, colors)].join('\n')}\n`;
}

/** Many runs: outcomes and distributions. */
export function aggregateReport(source: string, description: string | null, aggregate: Aggregate, colors: Colors): string {
  const last = aggregate.seed + aggregate.runs - 1;
  const outcomes = Object.entries(aggregate.outcomes)
    .map(([outcome, runs]) => `${paintOutcome(outcome, colors)} ${runs} (${percent(runs / aggregate.runs)})`)
    .join(', ');
  const rows: Array<[string, string]> = [
    ['outcomes', outcomes],
    ['duration', statsText(aggregate.duration_s, compact)],
    ['exposed', statsText(aggregate.exposed, (n) => `${n}`)],
    ['nodes', `per run, mean: ${aggregateNodesText(aggregate)}`],
    ['rollbacks', `${percent(aggregate.rollback_rate)} of runs`],
  ];
  const reasons = Object.entries(aggregate.reasons);
  if (reasons.length > 0) rows.splice(1, 0, ['reasons', reasons.map(([reason, runs]) => `${reason} ${runs}`).join(', ')]);
  const detect = aggregate.time_to_detect_s;
  const aborted = aggregate.reasons.aborted ?? 0;
  const abortNote = aborted === 0 ? '' : `; ${count(aborted, 'run')} aborted by the operator (not a detection)`;
  rows.push(['detected', `${detect === null ? 'no failure detected' : `in ${count(detect.runs, 'run')}: ${statsText(detect, compact)}`}${abortNote}`]);
  if (aggregate.nodes.failed.total > 0) rows.push(['failures', `${reasonsText(aggregate.failed_by_reason)} (over all runs)`]);
  if (aggregate.by_label !== null) {
    const { label, values } = aggregate.by_label;
    for (const group of values) {
      const failed = group.failed === 0 ? 'no failure' : `${group.failed} failed in ${count(group.runs_with_failures, 'run')} (${reasonsText(group.failed_by_reason)})`;
      rows.push([labelName(label, group.value), `${group.exposed} exposed over all runs: ${group.stable} stable, ${failed}, ${group.stopped} stopped`]);
    }
  }
  const heading = `${source} · ${count(aggregate.runs, 'run')} · seeds ${aggregate.seed}..${last}`;
  return `${[colors.bold(heading), ...about(description, colors), ...table(rows, colors)].join('\n')}\n`;
}

/** `2400 targeted = 2000 stable + 3 failed + ...`: the partition of §8 v1.1, every bucket shown. */
function nodesText(result: SimResult): string {
  return `${result.targeted} targeted = ${result.stable} stable + ${result.failed} failed + ${result.stopped} stopped + ${result.removed} removed + ${result.updating} updating + ${result.untouched} untouched (${result.exposed} exposed)`;
}

function aggregateNodesText(aggregate: Aggregate): string {
  const { nodes } = aggregate;
  return `${nodes.targeted.mean} targeted = ${nodes.stable.mean} stable + ${nodes.failed.mean} failed + ${nodes.stopped.mean} stopped + ${nodes.removed.mean} removed + ${nodes.updating.mean} updating + ${nodes.untouched.mean} untouched`;
}

function reasonsText(byReason: Record<string, number>): string {
  return Object.entries(byReason)
    .map(([reason, nodes]) => `${nodes} ${reason}`)
    .join(', ');
}

/** Label keys and values are the fleet file's text: escaped before they reach a terminal. */
function labelName(label: string, value: string | null): string {
  return safeText(value === null ? `no ${label}` : `${label}=${value}`);
}

/** One row per value of the `--by` label. */
function labelRows(breakdown: LabelBreakdown): Array<[string, string]> {
  return breakdown.values.map((group) => {
    const failed = group.failed === 0 ? '0 failed' : `${group.failed} failed (${reasonsText(group.failed_by_reason)})`;
    return [labelName(breakdown.label, group.value), `${group.exposed} exposed: ${group.stable} stable, ${failed}, ${group.stopped} stopped, ${group.updating} updating`];
  });
}

/** `0s in_progress ─ 4m10s awaiting_promotion ─ 15m promoted (operator) ─ 31m completed`; a reason is shown where it changes. */
export function timeline(phases: readonly Phase[]): string {
  return phases
    .map((phase, i) => {
      const reason = phase.reason === undefined || phase.reason === phases[i - 1]?.reason ? '' : ` (${phase.reason})`;
      return `${compact(phase.t)} ${phase.phase}${reason}`;
    })
    .join(' ─ ');
}

/**
 * Seconds as `1h0m3s`, to the second (to the millisecond under a minute),
 * trailing zero parts left out: `15m`, not `15m0s`.
 */
export function compact(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 1000) / 1000}s`;
  const total = Math.round(seconds);
  const parts = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const units = ['h', 'm', 's'];
  const first = parts.findIndex((part) => part > 0);
  let last = parts.length - 1;
  while (parts[last] === 0) last -= 1;
  return parts.slice(first, last + 1).map((part, i) => `${part}${units[first + i]}`).join('');
}

/** Seconds in words (date-fns): `1 hour 2 minutes 3 seconds`; under a second, milliseconds. */
export function spoken(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  return formatDuration(intervalToDuration({ start: 0, end: Math.round(seconds) * 1000 }), { delimiter: ' ' });
}

/** The scenario's own one-line description, dimmed under the heading. */
function about(description: string | null, colors: Colors): string[] {
  return description === null ? [] : [colors.dim(description)];
}

function statsText(stats: Stats, show: (value: number) => string): string {
  return `p50 ${show(stats.p50)} · p90 ${show(stats.p90)} · p99 ${show(stats.p99)} · mean ${show(stats.mean)} · max ${show(stats.max)}`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function paintOutcome(outcome: string, colors: Colors): string {
  if (outcome === 'completed') return colors.green(outcome);
  if (outcome === 'failed' || outcome === 'rolled_back' || outcome === 'rolling_back') return colors.red(outcome);
  return colors.yellow(outcome);
}

function table(rows: Array<[string, string]>, colors: Colors): string[] {
  const width = Math.max(9, ...rows.map(([label]) => label.length));
  return rows.map(([label, text]) => `  ${colors.dim(label.padEnd(width))} ${text}`);
}
