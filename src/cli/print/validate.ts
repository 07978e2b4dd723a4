/** Output of `validate`: the §8 JSON, or a report for a terminal. */
import type { PhaseTolerance, PolicyExplanation } from '../../spec/index.js';
import type { DeploymentPolicy, JobSpec, Problem, Selector, Timeouts } from '../../spec/types.js';
import type { ValidateOutcome } from '../commands/validate.js';
import type { Colors } from './colors.js';
import { jsonOutput } from './json.js';
import { count, problemLines, warningLines } from './problems.js';
import { safeText } from './safeText.js';

/** §8's fields, plus `policy` (added): how nodes are judged and what each phase tolerates; its warnings join `warnings`. */
export function validateJson(outcome: ValidateOutcome): string {
  const { result, policy } = outcome;
  if (!result.valid) return jsonOutput({ valid: false, errors: result.errors, warnings: result.warnings });
  if (policy === undefined) return jsonOutput({ valid: true, spec: result.spec, warnings: result.warnings });
  const { warnings: policyWarnings, ...explanation } = policy;
  return jsonOutput({ valid: true, spec: result.spec, warnings: [...result.warnings, ...policyWarnings], policy: explanation });
}

/** A valid spec's summary, or an invalid spec's errors; then warnings. */
export function validateReport(outcome: ValidateOutcome, colors: Colors): string {
  const { source, result, policy } = outcome;
  const lines = result.valid
    ? [`${colors.green(`${safeText(source)}: valid JobSpec`)}`, ...summaryLines(result.spec, outcome, colors)]
    : [colors.red(`${safeText(source)}: invalid JobSpec (${count(result.errors.length, 'error')})`), ...problemLines(source, result.errors, colors.red)];
  const warnings: Problem[] = [...result.warnings, ...(policy?.warnings ?? [])];
  lines.push(...warningLines(source, warnings, colors));
  return `${lines.join('\n')}\n`;
}

/** One line for `validate --json` on standard error, so a failing pipeline says why. */
export function invalidSummary({ source, result }: ValidateOutcome): string {
  return result.valid ? '' : `${safeText(source)}: invalid JobSpec (${count(result.errors.length, 'error')}; see the JSON output)\n`;
}

function summaryLines(spec: JobSpec, { policy, fleetSource }: ValidateOutcome, colors: Colors): string[] {
  const rows: Array<[string, string]> = [
    ['job', `${spec.namespace}/${spec.name} (${spec.type}, priority ${spec.priority})`],
    ['selects', describeSelector(spec.selector)],
  ];
  if (policy !== undefined && fleetSource !== undefined) rows.push(['fleet', `${fleetSource}: ${count(policy.targeted ?? 0, 'node')} targeted`]);
  rows.push(['strategy', describeStrategy(spec.deployment)]);
  if (policy !== undefined) rows.push(['judging', policy.judging]);
  rows.push(['failure', describeFailure(spec)]);
  for (const phase of policy?.phases ?? []) rows.push(['tolerance', describeTolerance(phase, policy!, spec.deployment)]);
  const timeouts = describeTimeouts(spec.timeouts);
  if (timeouts !== '') rows.push(['timeouts', timeouts]);
  // Names, labels and selector text are the user's: escaped before they reach the terminal.
  return rows.map(([label, text]) => `  ${colors.dim(label.padEnd(9))} ${safeText(text)}`);
}

/** `canary group of 5: tolerates no failed node; the first fails the deployment (max_failed_nodes_percent 10 of 5 nodes)`. */
function describeTolerance(phase: PhaseTolerance, policy: PolicyExplanation, d: DeploymentPolicy): string {
  const N = d.max_failed_nodes;
  const P = d.max_failed_nodes_percent;
  if (phase.group === null || phase.tolerated_failures === null) {
    if (phase.phase === 'canary') {
      return `canary group (${d.canary_percent}% of the targeted nodes, rounded up): tolerates ${P}% of it (rounded down), at most ${count(N, 'node')}; add --fleet FLEET for the numbers`;
    }
    const binds = policy.count_binds_from === null ? '' : `; max_failed_nodes binds from ${count(policy.count_binds_from, 'targeted node')}, below that the percent is stricter`;
    return `whole fleet: tolerates ${P}% of the targeted nodes (rounded down), at most ${count(N, 'node')}${binds}`;
  }
  const where = phase.phase === 'canary' ? `canary group of ${phase.group}` : `whole fleet of ${phase.group}`;
  if (phase.group === 0) return `${where}: no node targeted`;
  if (phase.limited_by === 'never') return `${where}: tolerates every failure (no number of failed nodes fails this phase)`;
  const why = phase.limited_by === 'max_failed_nodes'
    ? `max_failed_nodes ${N}`
    : phase.limited_by === 'max_failed_nodes_percent'
      ? `max_failed_nodes_percent ${P} of ${phase.group} nodes`
      : `max_failed_nodes ${N} and max_failed_nodes_percent ${P}`;
  const t = phase.tolerated_failures;
  const tolerates = t === 0 ? 'tolerates no failed node; the first fails the deployment' : `tolerates ${count(t, 'failed node')}; one more fails the deployment`;
  return `${where}: ${tolerates} (${why})`;
}

function describeSelector({ match_labels, match_expressions, match_ids }: Selector): string {
  const parts = [...Object.entries(match_labels).map(([key, value]) => `${key}=${value}`), ...match_expressions];
  if (match_ids.length > 0) {
    const shown = match_ids.slice(0, 5).join(', ');
    parts.push(`id in (${shown}${match_ids.length > 5 ? `, ... ${match_ids.length} ids` : ''})`);
  }
  return parts.length === 0 ? 'every connected node' : `connected nodes with ${parts.join(' and ')}`;
}

function describeStrategy(policy: DeploymentPolicy): string {
  const window = policy.max_parallel === 0 ? 'no bound on nodes updating at once' : `at most ${policy.max_parallel} updating at a time`;
  switch (policy.strategy) {
    case 'immediate':
      return 'immediate: every targeted node at once';
    case 'rolling':
      return `rolling: ${window}`;
    case 'canary': {
      const canaries = policy.canary_count > 0
        ? `the first ${count(policy.canary_count, 'node')}`
        : `the first ${policy.canary_percent}% of targeted nodes (rounded up)`;
      const then = policy.auto_promote ? 'promotes itself' : "waits for an operator's promote";
      return `canary: ${canaries} as canaries, ${window}; then ${then}`;
    }
  }
}

function describeFailure({ type, deployment }: JobSpec): string {
  const nodes = deployment.max_failed_nodes === 0 ? 'at the first failed node' : `when more than ${count(deployment.max_failed_nodes, 'node')}`;
  const rule = `fails ${nodes} or when more than ${deployment.max_failed_nodes_percent}% fail`;
  const rollback = type === 'query'
    ? 'query jobs are never rolled back'
    : deployment.no_auto_rollback
      ? 'no automatic rollback'
      : 'then rolls back to the last completed version';
  return `${rule}; ${rollback}`;
}

function describeTimeouts(timeouts: Timeouts): string {
  return (['execution_timeout', 'queue_timeout', 'total_timeout'] as const)
    .filter((key) => timeouts[key] > 0)
    .map((key) => `${key.replace('_timeout', '')} ${timeouts[key]}s`)
    .join(', ');
}
