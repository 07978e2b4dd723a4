/**
 * What a deployment that has not ended waits for, in words: the reason
 * `advanceUntil` gives when nothing can happen any more without the test.
 */
import type { DeploymentStatus } from '../engine/types.js';

const ENDED = new Set(['completed', 'failed', 'rolled_back', 'canceled']);

/**
 * §7 and docs/engine-decisions.md: `immediate` has no deadline, so it waits
 * for every updating node to report; a pipeline node updated after completion
 * (a late joiner) too.
 */
export function waitsForReports(status: Pick<DeploymentStatus, 'strategy' | 'state' | 'counts'>): boolean {
  return status.strategy === 'immediate' && status.counts.updating > 0 && status.counts.reverting === 0 && ['in_progress', 'paused', 'completed'].includes(status.state);
}

export function waitingFor(statuses: readonly DeploymentStatus[]): string[] {
  const out: string[] = [];
  for (const s of statuses) {
    const head = `${s.id} ${s.state}`;
    if (waitsForReports(s)) out.push(`${head}: waits for reports from ${s.counts.updating} updating node(s) (immediate has no deadline; total_timeout or abort ends it)`);
    else if (s.counts.updating > 0 || s.counts.reverting > 0) out.push(`${head}: ${s.counts.updating} updating, ${s.counts.reverting} reverting`);
    else if (ENDED.has(s.state)) continue;
    else if (s.state === 'awaiting_promotion') out.push(`${head}: waits for promote`);
    else if (s.state === 'paused') out.push(`${head}: waits for resume`);
    else if (s.state === 'pending') out.push(`${head}: waits for an eligible node${s.reason === null ? '' : ` (${s.reason})`}`);
    else out.push(`${head}: ${s.reason ?? 'no timer left'}`);
  }
  return out;
}
