/** The contract's invariants of §5: the window, the engine-wide cap, immediate, the canary group, promotion. */
import type { TraceEvent } from '../../sim/trace.js';
import type { JobSpec } from '../../spec/types.js';
import { isLive, createdDeployments, canaryGroupSize, violation, ids, type Violation, type Invariant } from './record.js';

/** §5: at most `max_parallel` nodes are updating at any moment, under rolling and canary. */
export const windowNeverExceedsMaxParallel: Invariant = (record) => {
  const created = createdDeployments(record);
  const updating = new Map<string, Set<string>>();
  const states = new Map<string, string>();
  const reported = new Set<string>();
  const out: Violation[] = [];
  for (const e of record.trace) {
    trackUpdating(updating, e, states);
    const d = created.get(e.deployment);
    const limit = d?.spec?.deployment.max_parallel ?? 0;
    if (d === undefined || d.strategy === 'immediate' || limit === 0 || reported.has(d.id)) continue;
    const window = updating.get(d.id)!;
    if (window.size > limit) {
      reported.add(d.id);
      out.push(violation('§5', 'windowNeverExceedsMaxParallel', d.id, e.t, `window exceeded max_parallel=${limit} at t=${e.t}: ${window.size} updating (${ids(window)}) in ${d.id}`));
    }
  }
  return out;
};

/** §7: the engine-wide cap bounds the nodes updating across all deployments. */
export const globalCapHolds: Invariant = (record) => {
  const cap = record.maxConcurrentUpdates ?? 0;
  if (cap <= 0) return [];
  const updating = new Map<string, Set<string>>();
  const states = new Map<string, string>();
  for (const e of record.trace) {
    trackUpdating(updating, e, states);
    let total = 0;
    for (const window of updating.values()) total += window.size;
    if (total > cap) return [violation('§7', 'globalCapHolds', null, e.t, `engine cap exceeded maxConcurrentUpdates=${cap} at t=${e.t}: ${total} updating`)];
  }
  return [];
};

/**
 * Updating = started, neither stable nor failed (nor stopped, nor removed
 * from the fleet), while the rollout runs. A
 * pipeline node joining after completion is updated directly, outside any
 * window (the engine's documented reading of §7), so it is not counted.
 */
function trackUpdating(updating: Map<string, Set<string>>, e: TraceEvent, states: Map<string, string>): void {
  let window = updating.get(e.deployment);
  if (window === undefined) updating.set(e.deployment, (window = new Set()));
  if (e.type === 'deployment.state') states.set(e.deployment, String(e.state));
  if (e.type === 'node.started' && isLive(states.get(e.deployment) ?? 'pending')) window.add(String(e.node));
  else if (e.type === 'node.stable' || e.type === 'node.failed' || e.type === 'node.removed' || e.type === 'node.stopped') window.delete(String(e.node));
  else if (e.type === 'deployment.state' && !isLive(String(e.state))) window.clear();
}

/** §5: immediate starts every targeted node at once (when no engine cap delays them). */
export const immediateStartsEveryTarget: Invariant = (record) => {
  if ((record.maxConcurrentUpdates ?? 0) > 0) return [];
  const out: Violation[] = [];
  for (const d of createdDeployments(record).values()) {
    if (d.strategy !== 'immediate' || d.targeted === 0) continue;
    const atOnce = new Set(record.trace.filter((e) => e.deployment === d.id && e.type === 'node.started' && e.t === d.t).map((e) => String(e.node)));
    if (atOnce.size < d.targeted) {
      out.push(violation('§5', 'immediateStartsEveryTarget', d.id, d.t, `immediate started ${atOnce.size} of ${d.targeted} targeted nodes at its creation (t=${d.t}) in ${d.id}`));
    }
  }
  return out;
};

/** The canary group's size by the contract: count if > 0, else ceil(targeted * percent / 100), clamped to 1..targeted. */
export function expectedCanaries(spec: JobSpec, targeted: number): number {
  const { canary_count, canary_percent } = spec.deployment;
  const wanted = canary_count > 0 ? canary_count : Math.ceil((targeted * canary_percent) / 100);
  return Math.min(Math.max(wanted, 1), targeted);
}

/** §5: the canary group has the contract's size, and no other node starts before promotion. */
export const canaryGroupHasContractSize: Invariant = (record) => {
  const out: Violation[] = [];
  for (const d of createdDeployments(record).values()) {
    const events = record.trace.filter((e) => e.deployment === d.id);
    if (d.strategy !== 'canary') {
      const canary = events.find((e) => e.type === 'node.started' && e.canary === true);
      if (canary !== undefined) out.push(violation('§5', 'canaryGroupHasContractSize', d.id, canary.t, `${d.strategy} deployment ${d.id} started ${String(canary.node)} as a canary at t=${canary.t}`));
      continue;
    }
    if (d.spec === undefined) continue;
    const size = d.targeted > 0 ? expectedCanaries(d.spec, d.targeted) : canaryGroupSize(record, d);
    if (d.targeted > 0 && d.canaries !== size) {
      out.push(violation('§5', 'canaryGroupHasContractSize', d.id, d.t, `canary group of ${d.id} has ${d.canaries} nodes, expected ${size} (canary_count=${d.spec.deployment.canary_count}, canary_percent=${d.spec.deployment.canary_percent}, targeted=${d.targeted})`));
    }
    let promoted = false;
    const canaries = new Set<string>();
    // §5 v1.1: a canary passed over or removed is replaced by the next node (the trace does not show a pass-over).
    const status = record.deployments.find((s) => s.id === d.id)?.counts;
    const replaced = (status?.untouched ?? 0) + (status?.removed ?? 0);
    for (const e of events) {
      if (e.type === 'deployment.promoted') promoted = true;
      if (e.type !== 'node.started') continue;
      if (e.canary === true) {
        canaries.add(String(e.node));
        if (promoted || canaries.size > size + replaced) {
          out.push(violation('§5', 'canaryGroupHasContractSize', d.id, e.t, `${String(e.node)} started as canary number ${canaries.size} of ${size} at t=${e.t}${promoted ? ', after promotion' : ''} in ${d.id}`));
          break;
        }
      } else if (!promoted) {
        out.push(violation('§5', 'canaryGroupHasContractSize', d.id, e.t, `${String(e.node)} started at t=${e.t} before ${d.id} was promoted, and it is not a canary`));
        break;
      }
    }
  }
  return out;
};

/**
 * §5/§7: promotion happens once every canary is resolved (or passed over,
 * not eligible when its turn came); by itself only with `auto_promote`, by an
 * operator only from `awaiting_promotion`.
 */
export const promotionFollowsPolicy: Invariant = (record) => {
  const out: Violation[] = [];
  for (const d of createdDeployments(record).values()) {
    if (d.strategy !== 'canary' || d.spec === undefined) continue;
    const auto = d.spec.deployment.auto_promote;
    const group = canaryGroupSize(record, d);
    // A canary not eligible when its turn came is passed over (untouched), not resolved; the trace does not show it.
    const passedOver = record.deployments.find((status) => status.id === d.id)?.counts.untouched ?? 0;
    const updating = new Set<string>();
    let resolved = 0;
    let stableCanaries = 0;
    let state = 'pending';
    for (const e of record.trace) {
      if (e.deployment !== d.id) continue;
      if (e.type === 'node.started' && e.canary === true) updating.add(String(e.node));
      // A canary that left the fleet while updating is dropped, not judged: it no longer holds promotion back.
      if ((e.type === 'node.stable' || e.type === 'node.failed' || e.type === 'node.removed') && updating.delete(String(e.node))) {
        resolved++;
        if (e.type === 'node.stable') stableCanaries++;
      }
      const canariesDone = updating.size === 0 && resolved + passedOver >= group;
      if (e.type === 'deployment.state') {
        state = String(e.state);
        if (state === 'awaiting_promotion' && (auto || !canariesDone)) {
          out.push(violation('§5', 'promotionFollowsPolicy', d.id, e.t, `${d.id} waits for promotion at t=${e.t} with auto_promote=${auto} and ${resolved} of ${group} canaries resolved`));
        }
      }
      if (e.type !== 'deployment.promoted') continue;
      const byOperator = e.auto === false;
      if (stableCanaries === 0) {
        out.push(violation('§5', 'promotionFollowsPolicy', d.id, e.t, `${d.id} promoted at t=${e.t} with no stable canary (v1.1: promotion needs evidence)`));
      } else if (!canariesDone) {
        out.push(violation('§5', 'promotionFollowsPolicy', d.id, e.t, `${d.id} promoted at t=${e.t} with ${resolved} of ${group} canaries resolved`));
      } else if (byOperator && state !== 'awaiting_promotion') {
        out.push(violation('§7', 'promotionFollowsPolicy', d.id, e.t, `${d.id} promoted by an operator at t=${e.t} while ${state}, not awaiting_promotion`));
      } else if (!byOperator && !auto) {
        out.push(violation('§5', 'promotionFollowsPolicy', d.id, e.t, `${d.id} promoted itself at t=${e.t} without auto_promote`));
      }
    }
  }
  return out;
};
