/**
 * The contract's invariants as checks over a finished (or paused) run: its
 * §8 trace, the final status of each deployment, the specs that were
 * submitted and, when known, the executor calls. Each check returns the
 * violations it found, naming the contract section, e.g.
 * `§5 window exceeded max_parallel=3 at t=40: 4 updating (n-1, n-2, n-3, n-4) in d-2`.
 *
 * The checks read the trace only; they never ask the engine, so an engine that
 * misreports its own state cannot vouch for itself.
 */
import type { DeploymentStatus } from '../engine/types.js';
import type { TraceEvent } from '../sim/trace.js';
import type { JobSpec } from '../spec/types.js';
import type { ExecutorCall } from './scriptedFleet.js';

export interface RolloutRecord {
  trace: readonly TraceEvent[];
  /** The final status of every deployment in the trace. */
  deployments: readonly DeploymentStatus[];
  /** The normalized spec of every submitted version: `specs[job][version]`. */
  specs: Readonly<Record<string, Readonly<Record<number, JobSpec>>>>;
  /** Every executor start and stop, when the run was driven by the harness. */
  executorCalls?: readonly ExecutorCall[];
  /** The engine-wide cap on concurrent node updates, if one was set. */
  maxConcurrentUpdates?: number;
  /**
   * The run went on until no deployment could move without an operator or a
   * new node: the rules about how runs end apply.
   */
  settled: boolean;
}

export interface Violation {
  /** The contract section, e.g. `§5`. */
  section: string;
  /** The invariant's name, e.g. `windowNeverExceedsMaxParallel`. */
  rule: string;
  deployment: string | null;
  t: number | null;
  /** The violation as a sentence, starting with the section. */
  message: string;
}

export type Invariant = (record: RolloutRecord) => Violation[];

// ---------------------------------------------------------------------------
// What the trace says about each deployment.

interface Created {
  id: string;
  t: number;
  job: string;
  kind: string;
  to_version: number;
  strategy: string;
  targeted: number;
  canaries: number;
  spec: JobSpec | undefined;
}

const TERMINAL: ReadonlySet<string> = new Set(['completed', 'rolled_back', 'canceled']);
/** States in which the deployment still starts and judges nodes. */
const ACTIVE: ReadonlySet<string> = new Set(['pending', 'in_progress', 'paused', 'awaiting_promotion']);
/** States a settled run may end in: finished, or waiting for an operator or for nodes. */
const AT_REST: ReadonlySet<string> = new Set(['completed', 'rolled_back', 'canceled', 'failed', 'awaiting_promotion', 'paused', 'pending']);
/** Failure reasons that are not the failure rule. */
const NOT_THE_RULE: ReadonlySet<string> = new Set(['aborted', 'total_timeout', 'queue_timeout', 'superseded']);

/**
 * Whether the deployment is at rest: it cannot move without an operator, a
 * new node or a new version. Nodes still updating are judged even while
 * paused (§7) or after completion (a pipeline's late joiner), so a deployment
 * rests only once none is updating or reverting.
 */
export function isAtRest(status: Pick<DeploymentStatus, 'state' | 'counts'>): boolean {
  return AT_REST.has(status.state) && status.counts.updating === 0 && status.counts.reverting === 0;
}

function createdDeployments(record: RolloutRecord): Map<string, Created> {
  const created = new Map<string, Created>();
  for (const e of record.trace) {
    if (e.type !== 'deployment.created') continue;
    const job = String(e.job);
    const toVersion = Number(e.to_version);
    created.set(e.deployment, {
      id: e.deployment,
      t: e.t,
      job,
      kind: String(e.kind),
      to_version: toVersion,
      strategy: String(e.strategy),
      targeted: Number(e.targeted),
      canaries: Number(e.canaries),
      spec: record.specs[job]?.[toVersion],
    });
  }
  return created;
}

function finalTargeted(record: RolloutRecord, d: Created): number {
  return record.deployments.find((status) => status.id === d.id)?.targeted ?? d.targeted;
}

/**
 * The canary group's size: as announced at creation, or, for a deployment
 * created with no eligible node, as fixed when its first node arrived (the
 * trace does not carry that moment's target count, so the status says).
 */
function canaryGroupSize(record: RolloutRecord, d: Created): number {
  if (d.targeted > 0) return d.canaries;
  return record.deployments.find((status) => status.id === d.id)?.canary_nodes.length ?? 0;
}

function violation(section: string, rule: string, deployment: string | null, t: number | null, text: string): Violation {
  return { section, rule, deployment, t, message: `${section} ${text}` };
}

function ids(nodes: Iterable<string>): string {
  return [...nodes].join(', ');
}

// ---------------------------------------------------------------------------
// §5 strategies.

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
 * Updating = started, neither stable nor failed, while the rollout runs. A
 * pipeline node joining after completion is updated directly, outside any
 * window (the engine's documented reading of §7), so it is not counted.
 */
function trackUpdating(updating: Map<string, Set<string>>, e: TraceEvent, states: Map<string, string>): void {
  let window = updating.get(e.deployment);
  if (window === undefined) updating.set(e.deployment, (window = new Set()));
  if (e.type === 'deployment.state') states.set(e.deployment, String(e.state));
  if (e.type === 'node.started' && ACTIVE.has(states.get(e.deployment) ?? 'pending')) window.add(String(e.node));
  else if (e.type === 'node.stable' || e.type === 'node.failed') window.delete(String(e.node));
  else if (e.type === 'deployment.state' && !ACTIVE.has(String(e.state))) window.clear();
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
    for (const e of events) {
      if (e.type === 'deployment.promoted') promoted = true;
      if (e.type !== 'node.started') continue;
      if (e.canary === true) {
        canaries.add(String(e.node));
        if (promoted || canaries.size > size) {
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
    let state = 'pending';
    for (const e of record.trace) {
      if (e.deployment !== d.id) continue;
      if (e.type === 'node.started' && e.canary === true) updating.add(String(e.node));
      if ((e.type === 'node.stable' || e.type === 'node.failed') && updating.delete(String(e.node))) resolved++;
      const canariesDone = updating.size === 0 && resolved + passedOver >= group;
      if (e.type === 'deployment.state') {
        state = String(e.state);
        if (state === 'awaiting_promotion' && (auto || !canariesDone)) {
          out.push(violation('§5', 'promotionFollowsPolicy', d.id, e.t, `${d.id} waits for promotion at t=${e.t} with auto_promote=${auto} and ${resolved} of ${group} canaries resolved`));
        }
      }
      if (e.type !== 'deployment.promoted') continue;
      const byOperator = e.auto === false;
      if (!canariesDone) {
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

// ---------------------------------------------------------------------------
// §6 failure rule and rollback, §7 states.

/**
 * §6/§7: a deployment starts no node once it failed or ended (except a
 * pipeline's late joiner after completion), nor while paused; §4: once it
 * failed, its nodes are no longer judged.
 */
export const noStartAfterFailure: Invariant = (record) => {
  const out: Violation[] = [];
  // §7: a pipeline job's node that joins after completion still gets the current version.
  const pipelines = new Set([...createdDeployments(record).values()].filter((d) => d.spec?.type === 'pipeline').map((d) => d.id));
  const state = new Map<string, { state: string; since: number }>();
  const reported = new Set<string>();
  for (const e of record.trace) {
    if (e.type === 'deployment.created') state.set(e.deployment, { state: 'pending', since: e.t });
    if (e.type === 'deployment.state') state.set(e.deployment, { state: String(e.state), since: e.t });
    const current = state.get(e.deployment);
    if (current === undefined || reported.has(e.deployment)) continue;
    const failed = current.state === 'failed' || current.state === 'rolling_back' || current.state === 'rolled_back';
    const when = `${e.deployment} became ${current.state} (t=${current.since})`;
    if (e.type === 'node.started' && current.state === 'paused') {
      reported.add(e.deployment);
      out.push(violation('§7', 'noStartAfterFailure', e.deployment, e.t, `${String(e.node)} started at t=${e.t} while ${e.deployment} was paused (since t=${current.since})`));
    } else if (e.type === 'node.started' && !ACTIVE.has(current.state) && !(current.state === 'completed' && pipelines.has(e.deployment))) {
      reported.add(e.deployment);
      out.push(violation(failed ? '§6' : '§7', 'noStartAfterFailure', e.deployment, e.t, `${String(e.node)} started at t=${e.t} after ${when}`));
    } else if ((e.type === 'node.stable' || e.type === 'node.failed') && (failed || current.state === 'canceled')) {
      reported.add(e.deployment);
      out.push(violation('§4', 'noStartAfterFailure', e.deployment, e.t, `${String(e.node)} judged ${e.type.slice(5)} at t=${e.t} after ${when}`));
    }
  }
  return out;
};

/**
 * §6: the deployment fails at exactly the first node failure that breaks
 * `failed > max_failed_nodes` or `100 * failed / group > max_failed_nodes_percent`,
 * and never by that rule before. `group` is the canary group before promotion
 * and the targeted nodes after it; when nodes joined during the rollout, only
 * failures on which every possible group size agrees are judged.
 */
export const failureRuleFiresAtFirstBreak: Invariant = (record) => {
  const out: Violation[] = [];
  const created = createdDeployments(record);
  const trace = record.trace;
  for (const d of created.values()) {
    if (d.spec === undefined) continue;
    const { max_failed_nodes: maxNodes, max_failed_nodes_percent: maxPercent } = d.spec.deployment;
    const breaks = (failed: number, group: number): boolean => failed > maxNodes || (group > 0 && (100 * failed) / group > maxPercent);
    const canaryGroup = canaryGroupSize(record, d);
    const started = new Set<string>();
    let failed = 0;
    let promoted = false;
    let state = 'pending';
    /** Whether the previous event of the deployment was a node failure that broke the rule. */
    let previous: 'broke' | 'maybe broke' | 'held' | 'no failure' = 'no failure';
    for (let i = 0; i < trace.length; i++) {
      const e = trace[i]!;
      if (e.deployment !== d.id) continue;
      if (e.type === 'deployment.promoted') promoted = true;
      if (e.type === 'node.started') started.add(String(e.node));
      if (e.type === 'deployment.state') {
        const isRuleFailure = e.state === 'failed' && !NOT_THE_RULE.has(String(e.reason ?? ''));
        if (isRuleFailure && (previous === 'held' || previous === 'no failure')) {
          out.push(violation('§6', 'failureRuleFiresAtFirstBreak', d.id, e.t, `${d.id} failed at t=${e.t} (reason ${String(e.reason)}) with ${failed} failed nodes, which does not break max_failed_nodes=${maxNodes} / max_failed_nodes_percent=${maxPercent}`));
        }
        state = String(e.state);
      }
      previous = 'no failure';
      if (e.type !== 'node.failed' || !ACTIVE.has(state)) continue;
      failed++;
      const canaryPhase = d.strategy === 'canary' && !promoted;
      // Every started node is targeted, and targets only grow by joining.
      const smallest = canaryPhase ? canaryGroup : Math.max(d.targeted, started.size);
      const largest = canaryPhase ? canaryGroup : Math.max(smallest, finalTargeted(record, d));
      const surely = breaks(failed, largest);
      const maybe = breaks(failed, smallest);
      previous = surely ? 'broke' : maybe ? 'maybe broke' : 'held';
      if (!surely) continue;
      const next = trace.slice(i + 1).find((later) => later.deployment === d.id);
      if (next?.type !== 'deployment.state' || next.state !== 'failed' || next.t !== e.t) {
        const group = canaryPhase ? `the canary group of ${largest}` : `${largest} targeted`;
        out.push(violation('§6', 'failureRuleFiresAtFirstBreak', d.id, e.t, `failure rule broken at t=${e.t} by ${String(e.node)} (${failed} failed of ${group}, max_failed_nodes=${maxNodes}, max_failed_nodes_percent=${maxPercent}) but ${d.id} did not fail then`));
        break;
      }
    }
  }
  return out;
};

/** The version a rollback goes to: the job's last version whose deployment completed before `t`. */
function lastCompletedBefore(record: RolloutRecord, created: Map<string, Created>, job: string, t: number, upTo: number): number | null {
  let version: number | null = null;
  for (let i = 0; i < upTo; i++) {
    const e = record.trace[i]!;
    if (e.t > t) break;
    const d = created.get(e.deployment);
    if (e.type === 'deployment.state' && e.state === 'completed' && d?.job === job) version = d.to_version;
  }
  return version;
}

/**
 * §6: a failure starts a rollback unless `no_auto_rollback`, a `query` job, a
 * rollback deployment or no earlier completed version; the rollback reverts
 * every node that received the failed version, to the last completed version,
 * and (in a settled run) each revert is confirmed or `revert_failed`.
 */
export const rollbackRevertsEveryExposedNode: Invariant = (record) => {
  const out: Violation[] = [];
  const created = createdDeployments(record);
  const trace = record.trace;
  for (const d of created.values()) {
    const failedAt = trace.findIndex((e) => e.deployment === d.id && e.type === 'deployment.state' && e.state === 'failed');
    const rollingBack = trace.findIndex((e) => e.deployment === d.id && e.type === 'deployment.state' && e.state === 'rolling_back');
    if (failedAt < 0 || d.spec === undefined) {
      if (rollingBack >= 0) out.push(violation('§6', 'rollbackRevertsEveryExposedNode', d.id, trace[rollingBack]!.t, `${d.id} rolled back without failing first`));
      continue;
    }
    const failure = trace[failedAt]!;
    const target = lastCompletedBefore(record, created, d.job, failure.t, failedAt);
    const exposed = new Set(trace.slice(0, failedAt).filter((e) => e.deployment === d.id && e.type === 'node.started').map((e) => String(e.node)));
    const why = d.spec.deployment.no_auto_rollback
      ? 'no_auto_rollback is set'
      : d.spec.type === 'query'
        ? 'query jobs are never rolled back'
        : d.kind === 'rollback'
          ? 'a rollback never triggers another rollback'
          : target === null
            ? 'no earlier version completed'
            : exposed.size === 0
              ? 'no node received the failed version'
              : null;
    if (why !== null) {
      if (rollingBack >= 0) out.push(violation('§6', 'rollbackRevertsEveryExposedNode', d.id, trace[rollingBack]!.t, `${d.id} started a rollback at t=${trace[rollingBack]!.t} although ${why}`));
      continue;
    }
    const next = trace.slice(failedAt + 1).find((e) => e.deployment === d.id);
    if (next?.type !== 'deployment.state' || next.state !== 'rolling_back' || next.t !== failure.t) {
      out.push(violation('§6', 'rollbackRevertsEveryExposedNode', d.id, failure.t, `${d.id} failed at t=${failure.t} but did not start rolling back to version ${target} then`));
      continue;
    }
    const reverting = new Map<string, TraceEvent>();
    const ended = new Set<string>();
    for (const e of trace.slice(failedAt)) {
      if (e.deployment !== d.id) continue;
      if (e.type === 'node.reverting') reverting.set(String(e.node), e);
      if (e.type === 'node.reverted' || e.type === 'node.revert_failed') ended.add(String(e.node));
    }
    const notReverted = [...exposed].filter((node) => !reverting.has(node));
    if (notReverted.length > 0) out.push(violation('§6', 'rollbackRevertsEveryExposedNode', d.id, failure.t, `rollback of ${d.id} (failed at t=${failure.t}) never reverts exposed ${ids(notReverted)}`));
    const extra = [...reverting.keys()].filter((node) => !exposed.has(node));
    if (extra.length > 0) out.push(violation('§6', 'rollbackRevertsEveryExposedNode', d.id, failure.t, `rollback of ${d.id} reverts ${ids(extra)}, which never received version ${d.to_version}`));
    const wrong = [...reverting.values()].find((e) => e.version !== target);
    if (wrong !== undefined) out.push(violation('§6', 'rollbackRevertsEveryExposedNode', d.id, wrong.t, `rollback of ${d.id} reverts ${String(wrong.node)} to version ${String(wrong.version)}, not to the last completed version ${target}`));
    const final = record.deployments.find((status) => status.id === d.id)?.state;
    // A newer version may cancel a rollback midway (§7); its executions are then stopped.
    if (!record.settled || final === 'canceled') continue;
    const open = [...reverting.keys()].filter((node) => !ended.has(node));
    if (open.length > 0) out.push(violation('§6', 'rollbackRevertsEveryExposedNode', d.id, null, `rollback of ${d.id} never confirmed nor gave up on ${ids(open)}`));
    if (final !== undefined && final !== 'rolled_back' && final !== 'rolling_back') {
      out.push(violation('§6', 'rollbackRevertsEveryExposedNode', d.id, null, `${d.id} ended ${final} after rolling back, not rolled_back`));
    }
  }
  return out;
};

/** §7: in a settled run, every deployment has ended or waits for an operator (or for eligible nodes). */
export const everyDeploymentEndsOrWaits: Invariant = (record) => {
  if (!record.settled) return [];
  return record.deployments
    .filter((status) => !isAtRest(status))
    .map((status) => violation('§7', 'everyDeploymentEndsOrWaits', status.id, null, `${status.id} is still ${status.state} when nothing else can happen (${status.counts.updating} updating, ${status.counts.reverting} reverting)`));
};

/** §7/§8: terminal states are final, and the trace's last state of a deployment is the state its status reports. */
export const terminalStatesAreFinal: Invariant = (record) => {
  const out: Violation[] = [];
  const last = new Map<string, TraceEvent>();
  for (const e of record.trace) {
    if (e.type !== 'deployment.state') continue;
    const before = last.get(e.deployment);
    if (before !== undefined && TERMINAL.has(String(before.state))) {
      out.push(violation('§7', 'terminalStatesAreFinal', e.deployment, e.t, `${e.deployment} went from terminal ${String(before.state)} to ${String(e.state)} at t=${e.t}`));
    }
    last.set(e.deployment, e);
  }
  for (const status of record.deployments) {
    const traced = last.get(status.id)?.state ?? 'pending';
    if (traced !== status.state) out.push(violation('§8', 'terminalStatesAreFinal', status.id, null, `${status.id}'s status says ${status.state} but its trace last says ${String(traced)}`));
  }
  return out;
};

/**
 * §7: a superseded deployment leaves no orphaned execution: each execution it
 * had in flight when it was canceled (an update not yet judged, or a revert
 * not yet confirmed) is, by the end of a settled run, stopped or replaced by
 * a later start on that node.
 */
export const supersededLeavesNoOrphans: Invariant = (record) => {
  const calls = record.executorCalls;
  if (calls === undefined || !record.settled) return [];
  const out: Violation[] = [];
  for (const cancel of record.trace) {
    if (cancel.type !== 'deployment.state' || cancel.state !== 'canceled') continue;
    // A node's last event in the deployment says whether it had an execution in flight.
    const last = new Map<string, string>();
    for (const e of record.trace) {
      if (e === cancel) break;
      if (e.deployment === cancel.deployment && e.node !== undefined) last.set(String(e.node), e.type);
    }
    const orphans: string[] = [];
    for (const [node, type] of last) {
      if (type !== 'node.started' && type !== 'node.reverting') continue;
      const startIndex = calls.findLastIndex((c) => c.action === 'start' && c.deployment === cancel.deployment && c.node === node && c.t <= cancel.t);
      const start = calls[startIndex];
      if (start === undefined) continue;
      const ended = calls.slice(startIndex + 1).some((c) => (c.action === 'stop' && c.executionId === start.executionId) || (c.action === 'start' && c.node === node && c.job === start.job));
      if (!ended) orphans.push(`${node} (${start.purpose ?? 'update'} to version ${start.version})`);
    }
    if (orphans.length > 0) out.push(violation('§7', 'supersededLeavesNoOrphans', cancel.deployment, cancel.t, `${cancel.deployment} was superseded at t=${cancel.t} and left its executions on ${ids(orphans)} running, neither stopped nor replaced`));
  }
  return out;
};

/** Every invariant, in contract order. */
export const INVARIANTS: Readonly<Record<string, Invariant>> = {
  immediateStartsEveryTarget,
  windowNeverExceedsMaxParallel,
  canaryGroupHasContractSize,
  promotionFollowsPolicy,
  noStartAfterFailure,
  failureRuleFiresAtFirstBreak,
  rollbackRevertsEveryExposedNode,
  everyDeploymentEndsOrWaits,
  terminalStatesAreFinal,
  supersededLeavesNoOrphans,
  globalCapHolds,
};

/** Runs every invariant (or the named ones) and returns all violations. */
export function checkInvariants(record: RolloutRecord, only?: readonly (keyof typeof INVARIANTS)[]): Violation[] {
  const names = only ?? Object.keys(INVARIANTS);
  return names.flatMap((name) => INVARIANTS[name]!(record));
}
