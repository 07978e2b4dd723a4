/** Output of `validate`: the §8 JSON, or a report for a terminal. */
import type { DeploymentPolicy, JobSpec, Selector, Timeouts } from '../../spec/types.js';
import type { ValidateOutcome } from '../commands/validate.js';
import type { Colors } from './colors.js';
import { jsonOutput } from './json.js';
import { count, problemLines, warningLines } from './problems.js';
import { safeText } from './safeText.js';

export function validateJson({ result }: ValidateOutcome): string {
  return result.valid
    ? jsonOutput({ valid: true, spec: result.spec, warnings: result.warnings })
    : jsonOutput({ valid: false, errors: result.errors, warnings: result.warnings });
}

/** A valid spec's summary, or an invalid spec's errors; then warnings. */
export function validateReport({ source, result }: ValidateOutcome, colors: Colors): string {
  const lines = result.valid
    ? [`${colors.green(`${safeText(source)}: valid JobSpec`)}`, ...summaryLines(result.spec, colors)]
    : [colors.red(`${safeText(source)}: invalid JobSpec (${count(result.errors.length, 'error')})`), ...problemLines(source, result.errors, colors.red)];
  lines.push(...warningLines(source, result.warnings, colors));
  return `${lines.join('\n')}\n`;
}

/** One line for `validate --json` on standard error, so a failing pipeline says why. */
export function invalidSummary({ source, result }: ValidateOutcome): string {
  return result.valid ? '' : `${safeText(source)}: invalid JobSpec (${count(result.errors.length, 'error')}; see the JSON output)\n`;
}

function summaryLines(spec: JobSpec, colors: Colors): string[] {
  const rows: Array<[string, string]> = [
    ['job', `${spec.namespace}/${spec.name} (${spec.type}, priority ${spec.priority})`],
    ['selects', describeSelector(spec.selector)],
    ['strategy', describeStrategy(spec.deployment)],
    ['health', describeHealth(spec.deployment)],
    ['failure', describeFailure(spec)],
  ];
  const timeouts = describeTimeouts(spec.timeouts);
  if (timeouts !== '') rows.push(['timeouts', timeouts]);
  // Names, labels and selector text are the user's: escaped before they reach the terminal.
  return rows.map(([label, text]) => `  ${colors.dim(label.padEnd(9))} ${safeText(text)}`);
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

function describeHealth({ strategy, health_check }: DeploymentPolicy): string {
  if (health_check === undefined) return 'none (nodes are stable once their execution starts)';
  const { deadline, min_healthy_time, max_error_rate } = health_check;
  const text = `stable after ${min_healthy_time} of passing reports, within ${deadline}; error rate <= ${max_error_rate}`;
  return strategy === 'immediate' ? `${text} (ignored under immediate)` : text;
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
