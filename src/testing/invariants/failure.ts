/** The contract's invariants of §6: no start after failure, the failure rule, rollback. */
import type { TraceEvent } from '../../sim/trace.js';
import { isLive, NOT_THE_RULE, createdDeployments, finalTargeted, canaryGroupSize, violation, ids, type RolloutRecord, type Violation, type Invariant, type Created } from './record.js';

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
    } else if (e.type === 'node.started' && !isLive(current.state) && !(current.state === 'completed' && pipelines.has(e.deployment))) {
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
    const removed = new Set<string>();
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
      if (e.type === 'node.removed') removed.add(String(e.node));
      if (e.type === 'deployment.state') {
        const isRuleFailure = e.state === 'failed' && !NOT_THE_RULE.has(String(e.reason ?? ''));
        if (isRuleFailure && (previous === 'held' || previous === 'no failure')) {
          out.push(violation('§6', 'failureRuleFiresAtFirstBreak', d.id, e.t, `${d.id} failed at t=${e.t} (reason ${String(e.reason)}) with ${failed} failed nodes, which does not break max_failed_nodes=${maxNodes} / max_failed_nodes_percent=${maxPercent}`));
        }
        state = String(e.state);
      }
      previous = 'no failure';
      if (e.type !== 'node.failed' || !isLive(state)) continue;
      failed++;
      const canaryPhase = d.strategy === 'canary' && !promoted;
      // Every started node is targeted, and targets grow by joining and shrink by leaving.
      const smallest = canaryPhase ? canaryGroup : Math.max(d.targeted, started.size) - removed.size;
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
 * §6 v1.1: the version each node of `job` runs after `trace[0..upTo)`, as far
 * as the trace shows, since `target`'s deployment last completed: a start sets
 * it, a confirmed revert sets it back. Also the nodes that ran another version
 * than `target` at some point since then.
 */
function versionsRunSince(record: RolloutRecord, created: Map<string, Created>, job: string, target: number, upTo: number): { runs: Map<string, number>; touched: Set<string> } {
  const trace = record.trace;
  let from = 0;
  for (let i = 0; i < upTo; i++) {
    const e = trace[i]!;
    const d = created.get(e.deployment);
    if (e.type === 'deployment.state' && e.state === 'completed' && d?.job === job && d.to_version === target) from = i + 1;
  }
  const runs = new Map<string, number>();
  const touched = new Set<string>();
  for (let i = from; i < upTo; i++) {
    const e = trace[i]!;
    if (created.get(e.deployment)?.job !== job) continue;
    // A node dropped from the fleet while updating is gone: nothing to revert there.
    if (e.type === 'node.removed') runs.delete(String(e.node));
    if (e.type !== 'node.started' && e.type !== 'node.reverted') continue;
    runs.set(String(e.node), Number(e.version));
    if (Number(e.version) !== target) touched.add(String(e.node));
  }
  return { runs, touched };
}

/**
 * §6 v1.1: once a rollback ends, every node that ran a version newer than the
 * target (any version other than it, since it completed: the failed
 * deployment's, and those of the deployments it superseded) runs the target
 * again or is `revert_failed`.
 */
export const rollbackRestoresEveryNode: Invariant = (record) => {
  const out: Violation[] = [];
  const created = createdDeployments(record);
  const trace = record.trace;
  for (let i = 0; i < trace.length; i++) {
    const e = trace[i]!;
    if (e.type !== 'deployment.state' || e.state !== 'rolled_back') continue;
    const d = created.get(e.deployment)!;
    const failedAt = trace.findIndex((f) => f.deployment === d.id && f.type === 'deployment.state' && f.state === 'failed');
    const target = lastCompletedBefore(record, created, d.job, trace[failedAt]!.t, failedAt);
    if (target === null) continue;
    const gaveUp = new Set(trace.slice(failedAt, i + 1).filter((f) => f.deployment === d.id && f.type === 'node.revert_failed').map((f) => String(f.node)));
    const { runs } = versionsRunSince(record, created, d.job, target, i + 1);
    const mixed = [...runs].filter(([node, version]) => version !== target && !gaveUp.has(node)).map(([node, version]) => `${node} (v${version})`);
    if (mixed.length > 0) out.push(violation('§6', 'rollbackRestoresEveryNode', d.id, e.t, `${d.id} rolled back to version ${target} at t=${e.t} but ${mixed.join(', ')} still run another version and are not revert_failed`));
  }
  return out;
};

/**
 * §6: a failure starts a rollback unless `no_auto_rollback`, a `query` job, a
 * rollback deployment or no earlier completed version; the rollback reverts
 * every node that received the failed version (and is still in the fleet), to the last completed version,
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
    // A node that left the fleet before the failure is gone: nothing to revert there.
    const ownSet = new Set<string>();
    for (const e of trace.slice(0, failedAt)) {
      if (e.deployment !== d.id) continue;
      if (e.type === 'node.started') ownSet.add(String(e.node));
      if (e.type === 'node.removed') ownSet.delete(String(e.node));
    }
    const own = [...ownSet];
    // §6 v1.1: with the nodes the job's earlier deployments left on another version since the target completed.
    const since = target === null ? null : versionsRunSince(record, created, d.job, target, failedAt);
    const exposed = new Set([...own, ...[...(since?.runs ?? [])].filter(([, version]) => version !== target).map(([node]) => node)]);
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
    const extra = [...reverting.keys()].filter((node) => !exposed.has(node) && !own.includes(node) && !since?.touched.has(node));
    if (extra.length > 0) out.push(violation('§6', 'rollbackRevertsEveryExposedNode', d.id, failure.t, `rollback of ${d.id} reverts ${ids(extra)}, which never ran version ${d.to_version} nor another version than ${target}`));
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
