/** Output of `targets`: the §8 JSON, or a numbered list for a terminal. */
import type { FleetNode } from '../../selector/index.js';
import type { TargetsOutcome } from '../commands/targets.js';
import type { Colors } from './colors.js';
import { jsonOutput } from './json.js';
import { count, warningLines } from './problems.js';
import { safeText } from './safeText.js';

export function targetsJson({ spec, targets, canaries }: TargetsOutcome): string {
  return jsonOutput({ job: `${spec.namespace}/${spec.name}`, targets: targets.map((node) => node.id), canaries });
}

export function targetsReport(outcome: TargetsOutcome, colors: Colors): string {
  const { jobSource, fleetSource, fleetSize, targets, canaries, disconnected } = outcome;
  const heading = `${safeText(jobSource)} on ${safeText(fleetSource)}: ${targets.length} of ${count(fleetSize, 'node')} targeted`;
  const order = canaries > 0 ? `, in rollout order; the first ${canaries} are the canaries` : ', in rollout order';
  const lines = [colors.bold(targets.length > 0 ? `${heading}${order}` : heading)];
  const numberWidth = String(targets.length).length;
  const ids = targets.map((node) => safeText(node.id));
  const idWidth = Math.min(40, ids.reduce((widest, id) => Math.max(widest, id.length), 0));
  targets.forEach((node, index) => {
    const number = colors.dim(String(index + 1).padStart(numberWidth));
    const tag = canaries === 0 ? '' : index < canaries ? `${colors.cyan('canary')}  ` : ' '.repeat(8);
    lines.push(`  ${number}  ${(ids[index] ?? '').padEnd(idWidth)}  ${tag}${colors.dim(labelText(node))}`.trimEnd());
  });
  if (disconnected.length > 0) {
    const shown = disconnected.slice(0, 10).map((node) => safeText(node.id)).join(', ');
    const more = disconnected.length > 10 ? `, ... (${disconnected.length - 10} more)` : '';
    const verb = disconnected.length === 1 ? 'matches but is' : 'match but are';
    lines.push(colors.yellow(`${count(disconnected.length, 'node')} ${verb} disconnected, so not targeted: ${shown}${more}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The JobSpec's warnings, for standard error. */
export function targetsWarnings({ jobSource, warnings }: TargetsOutcome, colors: Colors): string {
  const lines = warningLines(jobSource, warnings, colors);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function labelText({ labels }: FleetNode): string {
  return safeText(Object.keys(labels).sort().map((key) => `${key}=${labels[key] ?? ''}`).join(' '));
}
