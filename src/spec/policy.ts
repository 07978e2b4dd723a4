/**
 * What a JobSpec's deployment policy means for a given fleet, stated before
 * anything is deployed (contract §4, §5, §6): how each node is judged, and how
 * many failed nodes each phase tolerates. A pure function of the normalized
 * spec and the number of targeted nodes (unknown without a fleet), for
 * `validate` and for the simulator's summary.
 *
 * The room rules (`spec` uses nothing else of ours) keep the engine's
 * `canarySize` and `breaksFailureRule` out of reach, so the two formulas are
 * restated here; test/spec-policy.test.ts checks them against the engine's on
 * every small case.
 */
import { parseDurationMs } from './duration.js';
import type { JobSpec, Problem } from './types.js';

/** §4: `health_reports` (pipeline under rolling/canary), `execution_started` (pipeline under immediate), `completion` (query, update, config). */
export type JudgedBy = 'health_reports' | 'execution_started' | 'completion';

/** Which limit the first failure beyond the tolerated ones breaks; `never` when every node of the group may fail. */
export type BindingLimit = 'max_failed_nodes' | 'max_failed_nodes_percent' | 'both' | 'never';

export interface PhaseTolerance {
  /** `canary`: before promotion, the percent is of the canary group; `fleet`: of every targeted node (§6). */
  phase: 'canary' | 'fleet';
  /** The nodes the percent is taken of; null when it depends on a fleet not given. */
  group: number | null;
  /** Failed nodes the phase survives; one more fails the deployment. Null when the group is unknown. */
  tolerated_failures: number | null;
  limited_by: BindingLimit | null;
}

export interface PolicyExplanation {
  judged_by: JudgedBy;
  /** How one node becomes stable or failed, in a sentence. */
  judging: string;
  /** Targeted nodes of the fleet given (connected and matching); null without one. */
  targeted: number | null;
  /** The canary group (§5) when the strategy is canary and its size is known, else null. */
  canaries: number | null;
  phases: PhaseTolerance[];
  /**
   * Without a fleet: from how many targeted nodes on `max_failed_nodes` is the
   * binding limit of the whole-fleet phase (below, the percent is stricter).
   * Null when a fleet is given, or when the count never binds.
   */
  count_binds_from: number | null;
  /** Policy surprises: a percent stricter than the count, so one failure trips a phase. */
  warnings: Problem[];
}

/** §5: `canary_count` if > 0, else `ceil(targeted * canary_percent / 100)`, clamped to 1..targeted. */
export function canaryGroupSize(targeted: number, canaryCount: number, canaryPercent: number): number {
  if (targeted <= 0) return 0;
  const wanted = canaryCount > 0 ? canaryCount : Math.ceil((targeted * canaryPercent) / 100);
  return Math.min(targeted, Math.max(1, wanted));
}

/** §6: the deployment fails once `failed > max_failed_nodes` or `100 * failed / group > max_failed_nodes_percent`. */
export function tripsFailureRule(failed: number, group: number, maxFailedNodes: number, maxFailedPercent: number): boolean {
  return failed > maxFailedNodes || (group > 0 && (100 * failed) / group > maxFailedPercent);
}

/** The most failed nodes a group of `group` survives, and which limit the next failure breaks. */
export function toleratedFailures(group: number, maxFailedNodes: number, maxFailedPercent: number): { tolerated: number; limitedBy: BindingLimit } {
  const trips = (failed: number) => tripsFailureRule(failed, group, maxFailedNodes, maxFailedPercent);
  // Start near the closed form, then settle with the rule itself (no float surprises at the boundary).
  let tolerated = Math.max(0, Math.min(maxFailedNodes, group, Math.floor((maxFailedPercent * group) / 100)));
  while (tolerated < group && !trips(tolerated + 1)) tolerated += 1;
  while (tolerated > 0 && trips(tolerated)) tolerated -= 1;
  if (tolerated >= group) return { tolerated: group, limitedBy: 'never' };
  const next = tolerated + 1;
  const byCount = next > maxFailedNodes;
  const byPercent = group > 0 && (100 * next) / group > maxFailedPercent;
  return { tolerated, limitedBy: byCount && byPercent ? 'both' : byCount ? 'max_failed_nodes' : 'max_failed_nodes_percent' };
}

/** How `spec` judges nodes and what each phase tolerates on a fleet of `targeted` nodes (undefined: no fleet given). */
export function explainPolicy(spec: JobSpec, targeted?: number): PolicyExplanation {
  const d = spec.deployment;
  const judgedBy: JudgedBy = spec.type !== 'pipeline' ? 'completion' : d.strategy === 'immediate' ? 'execution_started' : 'health_reports';
  const known = targeted !== undefined;
  // Without a fleet a canary_count group is still known, provided the fleet has that many targeted nodes.
  const canaries = d.strategy !== 'canary' ? null : known ? canaryGroupSize(targeted, d.canary_count, d.canary_percent) : d.canary_count > 0 ? d.canary_count : null;
  const phases: PhaseTolerance[] = [];
  if (d.strategy === 'canary') phases.push(phase('canary', canaries, spec));
  phases.push(phase('fleet', known ? targeted : null, spec));
  return {
    judged_by: judgedBy,
    judging: judgingSentence(spec, judgedBy),
    targeted: known ? targeted : null,
    canaries,
    phases,
    count_binds_from: known ? null : countBindsFrom(d.max_failed_nodes, d.max_failed_nodes_percent),
    warnings: phases.flatMap((p) => policyWarnings(p, spec, known)),
  };
}

function phase(name: PhaseTolerance['phase'], group: number | null, spec: JobSpec): PhaseTolerance {
  if (group === null) return { phase: name, group: null, tolerated_failures: null, limited_by: null };
  const { tolerated, limitedBy } = toleratedFailures(group, spec.deployment.max_failed_nodes, spec.deployment.max_failed_nodes_percent);
  return { phase: name, group, tolerated_failures: tolerated, limited_by: limitedBy };
}

/** The smallest group whose percent tolerance reaches max_failed_nodes (searching up to 10,000,000 nodes, the fleet limit). */
function countBindsFrom(maxFailedNodes: number, maxFailedPercent: number): number | null {
  if (maxFailedNodes === 0) return 1;
  if (maxFailedPercent <= 0) return null;
  let group = Math.max(1, Math.floor((100 * maxFailedNodes) / maxFailedPercent) - 1);
  while (group <= 10_000_000 && toleratedFailures(group, maxFailedNodes, maxFailedPercent).tolerated < maxFailedNodes) group += 1;
  return group > 10_000_000 ? null : group;
}

function policyWarnings(p: PhaseTolerance, spec: JobSpec, fleetKnown: boolean): Problem[] {
  const d = spec.deployment;
  if (p.group === null || p.tolerated_failures === null || p.group === 0) return [];
  // An explicit max_failed_nodes: 0 asks for zero tolerance: nothing to warn about.
  if (p.limited_by !== 'max_failed_nodes_percent' || d.max_failed_nodes === 0) return [];
  const where = p.phase === 'canary'
    ? `in the canary group of ${p.group}${fleetKnown ? '' : ` (once at least ${p.group} nodes are targeted)`}`
    : `across the ${p.group} targeted nodes`;
  const first = p.tolerated_failures === 0 ? 'the first failed node' : `failed node number ${p.tolerated_failures + 1}`;
  const then = d.no_auto_rollback || spec.type === 'query' ? 'fails the deployment' : 'fails the deployment and rolls it back';
  // The smallest percent that lets one more failure pass (the count allows it: the percent binds).
  const more = p.tolerated_failures + 1;
  const needed = Math.ceil((100 * more) / p.group);
  return [
    {
      path: 'deployment.max_failed_nodes_percent',
      message:
        `${where}, max_failed_nodes_percent ${d.max_failed_nodes_percent} tolerates ${p.tolerated_failures} failed ` +
        `${p.tolerated_failures === 1 ? 'node' : 'nodes'}, fewer than max_failed_nodes ${d.max_failed_nodes}: ${first} ${then}` +
        ` (to tolerate ${more}, set max_failed_nodes_percent to at least ${needed}` +
        `${p.tolerated_failures === 0 ? '; if no failure should be tolerated, say so with max_failed_nodes: 0' : ''})`,
    },
  ];
}

function judgingSentence(spec: JobSpec, judgedBy: JudgedBy): string {
  const d = spec.deployment;
  const hc = d.health_check;
  switch (judgedBy) {
    case 'health_reports': {
      // §2 requires a health check for rolling and canary; without one a started execution is all there is to judge.
      if (hc === undefined) return 'a node is stable as soon as its execution reports that it started; it fails when its execution fails';
      const passing = `passing health reports (healthy, error rate <= ${hc.max_error_rate})`;
      const stable = parseDurationMs(hc.min_healthy_time) === 0
        ? `stable at its first ${passing.replace('reports', 'report')}`
        : `stable after ${hc.min_healthy_time} of ${passing} without a break`;
      return `a node is ${stable}; it fails if it is not stable within ${hc.deadline} of its start, or at once when its execution fails`;
    }
    case 'execution_started':
      return 'a node is stable as soon as its execution reports that it started (health checks are ignored under immediate); it fails when its execution fails';
    case 'completion': {
      const limits: string[] = ['a failed completion'];
      if (spec.timeouts.execution_timeout > 0) limits.push(`no completion within execution_timeout ${spec.timeouts.execution_timeout}s`);
      if (hc !== undefined && d.strategy !== 'immediate') limits.push(`no completion within the health-check deadline ${hc.deadline}`);
      const last = limits.pop();
      const fails = limits.length === 0 ? last : `${limits.join(', ')} or ${last}`;
      return `a node is stable when its ${spec.type} run completes successfully (health reports are not used for ${spec.type} jobs); it fails on ${fails}`;
    }
  }
}
