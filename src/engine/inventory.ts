/**
 * The fleet inventory the engine keeps (nodes joining, leaving and
 * (dis)connecting), and the news of it carried to every job's latest
 * deployment room, which decides what it means for its rollout (§4, §7).
 */
import type { FleetNode } from '../selector/types.js';
import { send, slots } from './effects.js';
import { addNode, fleetNodes, latestOf, presentNode, removeNode, type EngineCore, type KnownNode } from './engineCore.js';
import type { EngineInput, NodeInventory } from './types.js';

/**
 * What an inventory handler returns for an input that would change nothing
 * (same node again, unknown node removed, connection unchanged): the engine
 * does not journal it. The handler looks the node up once for both.
 */
export const UNCHANGED: unique symbol = Symbol('unchanged');

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/**
 * `skipSame`: return UNCHANGED for the node as the inventory has it already;
 * a replayed upsert (journaled because it changed something) never skips.
 */
export function onUpsert(core: EngineCore, node: FleetNode, skipSame: boolean): typeof UNCHANGED | undefined {
  // The inventory's own node: it changes (`connected`), the journaled input must not (group commit writes it later).
  const index = core.ids.indexOf(node.id);
  const known = index < 0 ? undefined : core.known[index]!;
  if (known?.present !== true) return void offerJoin(core, addNode(core, node, index));
  if (skipSame && known.connected === node.connected && sameLabels(known.labels, node.labels)) return UNCHANGED;
  known.labels = node.labels;
  known.connected = node.connected;
  offerJoin(core, known);
}

export function onRemove(core: EngineCore, id: string): typeof UNCHANGED | undefined {
  const known = removeNode(core, id);
  if (known === undefined) return UNCHANGED;
  for (const job of core.jobs.values()) send(core, latestOf(core, job), { type: 'node.left', node: id, index: known.index, now: core.now, slots: slots(core) });
}

/** A reconnected node may join a rollout; a disconnected one keeps its deadline and loses its passing streak (judging.ts). */
export function onConnected(core: EngineCore, id: string, connected: boolean): typeof UNCHANGED | undefined {
  const node = presentNode(core, id);
  if (node === undefined || node.connected === connected) return UNCHANGED;
  node.connected = connected;
  if (connected) return void offerJoin(core, node);
  for (const job of core.jobs.values()) send(core, latestOf(core, job), { type: 'node.disconnected', node: id, index: node.index, now: core.now, slots: slots(core) });
}

function offerJoin(core: EngineCore, node: KnownNode): void {
  if (core.jobs.size === 0) return; // loading the fleet: no iterator per node
  for (const job of core.jobs.values()) send(core, latestOf(core, job), { type: 'node.joined', node: node.id, index: node.index, now: core.now, slots: slots(core) });
}

/**
 * The inventory for reconciling: each node as the engine knows it and, per
 * job, the version the engine last asked it to run. Walks the job's
 * deployments from the latest back to the first that started the node:
 * its version, or its rollback target once the node is reverting or was
 * reverted (also when the revert failed: that is what it should run). A node
 * the latest deployments passed over, or whose execution they stopped, keeps
 * what an earlier one gave it; no entry when no deployment started it.
 */
export function inventoryOf(core: EngineCore): NodeInventory[] {
  return fleetNodes(core).map((node) => {
    const versions: Record<string, number> = {};
    for (const job of core.jobs.values()) {
      const version = versionFor(core, job.key, job.deployments, node.id);
      if (version !== null) versions[job.key] = version;
    }
    return { id: node.id, labels: { ...node.labels }, connected: node.connected, versions };
  });
}

function versionFor(core: EngineCore, job: string, deployments: number, node: string): number | null {
  for (let n = deployments; n >= 1; n--) {
    const d = core.rooms.get(`${job}#${n}`)?.view;
    const state = d?.nodes.get(node)?.state;
    if (d === undefined || state === undefined || state === 'pending' || state === 'untouched' || state === 'stopped' || state === 'removed') continue;
    return state === 'reverting' || state === 'reverted' || state === 'revert_failed' ? d.rollbackTarget! : d.version;
  }
  return null;
}
