/** Output of `replay`: the JSON (`format`), or the recorded and the replayed outcome side by side, with what the replay assumed. */
import type { BehaviorCounts, Figures } from '../../sim/counterfactual.js';
import type { ReplayOutcome } from '../commands/replay.js';
import type { Colors } from './colors.js';
import { jsonOutput } from './json.js';
import { count } from './problems.js';
import { safeText } from './safeText.js';
import { compact } from './simulate.js';

export function replayJson(outcome: ReplayOutcome): string {
  const c = outcome.comparison;
  return jsonOutput({
    recording: outcome.recording,
    policy: outcome.policy,
    deployment: c.deployment,
    job: c.job,
    seed: c.seed,
    recorded: c.recorded,
    counterfactual: c.counterfactual,
    own_policy: { ...c.own, reproduces_recording: c.own_differences.length === 0, differences: c.own_differences, behaviors: c.own_behaviors },
    behaviors: c.behaviors,
    recorded_timers: c.recorded_timers,
    not_replayed: c.not_replayed,
  });
}

const ROWS: Array<[string, (f: Figures) => string]> = [
  ['outcome', (f) => (f.reason === null ? f.outcome : `${f.outcome} (${f.reason})`)],
  ['duration', (f) => compact(f.duration_s)],
  ['exposed', (f) => `${f.exposed} of ${f.targeted}`],
  ['detected after', (f) => seconds(f.time_to_detect_s)],
  ['rolled back in', (f) => seconds(f.time_to_rollback_s)],
  ['stable', (f) => String(f.stable)],
  ['failed', (f) => (f.failed === 0 ? '0' : `${f.failed} (${Object.entries(f.failed_by_reason).map(([reason, n]) => `${reason} ${n}`).join(', ')})`)],
  ['stopped', (f) => String(f.stopped)],
  ['untouched', (f) => String(f.untouched)],
  ['reverted', (f) => (f.revert_failed === 0 ? String(f.reverted) : `${f.reverted}, ${f.revert_failed} revert_failed`)],
  ['most in flight', (f) => String(f.max_in_flight)],
];

export function replayReport(outcome: ReplayOutcome, colors: Colors): string {
  const c = outcome.comparison;
  const header = ['', 'recorded', `replayed under ${safeText(outcome.policy)}`];
  const body = ROWS.map(([label, show]) => [label, show(c.recorded), show(c.counterfactual)]);
  const widths = header.map((_, column) => Math.max(...[header, ...body].map((cells) => cells[column]!.length)));
  const render = (cells: string[]): string => `  ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}`.trimEnd();
  const lines = [colors.bold(`${safeText(outcome.recording)} · ${safeText(c.deployment)} (${safeText(c.job)})`), '', colors.bold(render(header)), ...body.map(render), ''];
  lines.push(
    c.own_differences.length === 0
      ? colors.green('The recording\'s own policy, replayed with these behaviors, reproduces the recorded outcome exactly.')
      : colors.yellow(`The recording's own policy, replayed with these behaviors, differs from the recording in ${c.own_differences.map((key) => `${key} (${show(c.recorded[key])} recorded, ${show(c.own[key])} replayed)`).join(', ')}.`),
  );
  if (c.own_differences.length > 0 && c.recorded_timers.late > 0) {
    const t = c.recorded_timers;
    lines.push(colors.dim(`  ${t.late} of the recording's ${count(t.fired, 'timer')} fired late (up to ${t.max_late_ms} ms, a real clock); the replay fires them on time.`));
  }
  lines.push(behaviorLine(c.behaviors, c.seed));
  for (const skipped of c.not_replayed) lines.push(colors.dim(`Not replayed: ${safeText(skipped.what)} at ${compact(skipped.t)} (a scenario cannot play it).`));
  return `${lines.join('\n')}\n`;
}

function behaviorLine(b: BehaviorCounts, seed: number): string {
  const parts = [`Behaviors: ${count(b.nodes, 'node')}, ${b.observed} as recorded`];
  if (b.drawn > 0) parts.push(`${b.drawn} drawn (seed ${seed}) from the behaviors of ${count(b.observed, 'recorded node')}: the recording never started them, or stopped them before they reported`);
  if (b.irregular > 0) parts.push(`${b.irregular} reported at irregular intervals and replay on their median interval (a change of health up to one interval late)`);
  return `${parts.join('; ')}.`;
}

function show(value: unknown): string {
  return typeof value === 'string' ? safeText(value) : JSON.stringify(value);
}

function seconds(value: number | null): string {
  return value === null ? '-' : compact(value);
}
