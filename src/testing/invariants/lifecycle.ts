/** The contract's invariants of §7: how deployments end, terminal states, superseded deployments. */
import type { TraceEvent } from '../../sim/trace.js';
import { waitsForReports } from '../waiting.js';
import { isAtRest, isTerminal, beginsRollback, violation, ids, type Violation, type Invariant } from './record.js';

/**
 * §7: in a settled run, every deployment has ended or waits for an operator
 * (or for eligible nodes), or, under `immediate`, which has no deadline
 * (docs/engine-decisions.md), for reports from nodes that never sent them.
 */
export const everyDeploymentEndsOrWaits: Invariant = (record) => {
  if (!record.settled) return [];
  return record.deployments
    .filter((status) => !isAtRest(status) && !waitsForReports(status))
    .map((status) => violation('§7', 'everyDeploymentEndsOrWaits', status.id, null, `${status.id} is still ${status.state} when nothing else can happen (${status.counts.updating} updating, ${status.counts.reverting} reverting)`));
};

/** §7/§8: terminal states are final, and the trace's last state of a deployment is the state its status reports. */
export const terminalStatesAreFinal: Invariant = (record) => {
  const out: Violation[] = [];
  const last = new Map<string, TraceEvent>();
  for (const e of record.trace) {
    if (e.type !== 'deployment.state') continue;
    const before = last.get(e.deployment);
    if (before !== undefined && isTerminal(String(before.state)) && !beginsRollback(String(before.state), String(e.state))) {
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
