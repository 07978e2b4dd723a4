/**
 * Phase bands: the deployment's states (contract §7) as spans of time, named
 * as an operator says them. A canary deployment is `canary` until promoted,
 * then `rolling out`; a terminal state has no span (the time axis ends there).
 */
import type { DeploymentState } from '../engine/types.js';
import type { SimResult } from '../sim/result.js';
import type { PhaseBand, PhaseName } from './model.js';

const NAMES: Record<Exclude<DeploymentState, 'in_progress'>, PhaseName> = {
  pending: 'pending',
  awaiting_promotion: 'awaiting promotion',
  paused: 'paused',
  rolling_back: 'rolling back',
  completed: 'completed',
  failed: 'failed',
  rolled_back: 'rolled back',
  canceled: 'canceled',
};

/** `createdAt` in seconds of virtual time, like the phases' `t`; bands are in seconds from it. */
export function phaseBands(result: SimResult, createdAt: number): PhaseBand[] {
  const bands: PhaseBand[] = [];
  let promoted = false;
  let state: DeploymentState = 'pending';
  let open: PhaseBand = { phase: 'pending', from: 0, to: 0, reason: null };
  const enter = (phase: PhaseName, at: number, reason: string | null): void => {
    open.to = at;
    if (open.to > open.from) bands.push(open);
    open = { phase, from: at, to: at, reason };
  };
  const name = (of: DeploymentState): PhaseName => (of === 'in_progress' ? (result.strategy === 'canary' && !promoted ? 'canary' : 'rolling out') : NAMES[of]);
  for (const phase of result.phases) {
    const at = round(phase.t - createdAt);
    if (phase.phase === 'promoted') {
      promoted = true;
      if (state === 'in_progress') enter(name(state), at, null);
      continue;
    }
    state = phase.phase;
    enter(name(state), at, phase.reason ?? null);
  }
  enter(open.phase, result.duration_s, null);
  return bands;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
