/**
 * The failure rule (contract §6): a deployment fails as soon as
 * `failed > max_failed_nodes` or `100 * failed / group > max_failed_nodes_percent`.
 */
export interface FailureLimits {
  maxFailedNodes: number;
  maxFailedNodesPercent: number;
}

export function breaksFailureRule(failed: number, group: number, limits: FailureLimits): boolean {
  if (failed > limits.maxFailedNodes) return true;
  return group > 0 && (100 * failed) / group > limits.maxFailedNodesPercent;
}

/**
 * The group the percentage is taken of: the canary group until promotion, every
 * targeted node after it (canary failures keep counting in `failed`).
 */
export function failureGroup(inCanaryPhase: boolean, canaries: number, targeted: number): number {
  return inCanaryPhase ? canaries : targeted;
}

/** One line saying which limit broke, for the `decision` event. */
export function describeBreak(failed: number, group: number, limits: FailureLimits): string {
  if (failed > limits.maxFailedNodes) return `${failed} failed > max_failed_nodes ${limits.maxFailedNodes}`;
  const percent = Math.round(((100 * failed) / group) * 100) / 100;
  return `${failed}/${group} failed = ${percent}% > max_failed_nodes_percent ${limits.maxFailedNodesPercent}`;
}
