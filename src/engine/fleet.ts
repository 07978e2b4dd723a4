/** The fleet inventory: nodes joining, leaving and (dis)connecting, and what that means for rollouts (§4, §7). */
import type { FleetNode } from '../selector/types.js';
import { LIVE_STATES } from './commandRules.js';
import { send, slots } from './effects.js';
import { latestOf, type EngineCore } from './engineCore.js';

export function onUpsert(core: EngineCore, node: FleetNode): void {
  core.nodes.set(node.id, node);
  offerJoin(core, node.id);
}

export function onRemove(core: EngineCore, id: string): void {
  if (!core.nodes.delete(id)) return;
  for (const job of core.jobs.values()) {
    const rt = latestOf(core, job);
    if (rt.data.nodes.get(id)?.state === 'updating') send(core, rt, { type: 'node.left', node: id, now: core.now, slots: slots(core) });
  }
}

/**
 * A disconnected node keeps its deadline (§4). Decided: disconnection also
 * ends its passing streak, since nothing vouches for it while it is cut off
 * (so a version that cuts nodes off fails like any other). A reconnected
 * node may join a rollout.
 */
export function onConnected(core: EngineCore, id: string, connected: boolean): void {
  const node = core.nodes.get(id);
  if (node === undefined || node.connected === connected) return;
  node.connected = connected;
  if (connected) return offerJoin(core, id);
  for (const job of core.jobs.values()) core.timers.disarm(job.latest, 'streak', id);
}

/**
 * §7: a node that becomes eligible joins the end of a rollout in progress
 * (pipeline jobs, or any deployment still waiting for its first target), or
 * is updated directly once a pipeline job's rollout completed.
 */
function offerJoin(core: EngineCore, id: string): void {
  if (core.jobs.size === 0) return; // loading the fleet: no iterator per node
  for (const job of core.jobs.values()) {
    const rt = latestOf(core, job);
    const d = rt.data;
    const state = d.state ?? 'pending';
    const open = LIVE_STATES.has(state) ? d.policy.takesJoiningNodes || d.targeted === 0 : state === 'completed' && d.policy.takesJoiningNodes;
    if (!open) continue;
    const record = d.nodes.get(id);
    if (record !== undefined && record.state !== 'untouched' && record.state !== 'removed') continue;
    if (!d.io.eligible(id)) continue;
    send(core, rt, { type: 'node.joined', node: id, now: core.now, slots: slots(core) });
  }
}
