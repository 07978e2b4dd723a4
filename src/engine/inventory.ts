/**
 * The fleet inventory the engine keeps (nodes joining, leaving and
 * (dis)connecting), and the news of it carried to every job's latest
 * deployment room, which decides what it means for its rollout (§4, §7).
 */
import type { FleetNode } from '../selector/types.js';
import { send, slots } from './effects.js';
import { latestOf, type EngineCore } from './engineCore.js';
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
  // The inventory keeps the node's fields, never the input (group commit writes the input later, unchanged).
  const nodes = core.nodes;
  const known = nodes.indexOf(node.id);
  if (known < 0 || !nodes.isPresent(known)) return void offerJoin(core, node.id, nodes.add(node, known));
  if (skipSame && nodes.isConnected(known) === node.connected && sameLabels(nodes.labelsOf(known), node.labels)) return UNCHANGED;
  nodes.setLabels(known, node.labels);
  nodes.setConnected(known, node.connected);
  offerJoin(core, node.id, known);
}

export function onRemove(core: EngineCore, id: string): typeof UNCHANGED | undefined {
  const index = core.nodes.presentIndexOf(id);
  if (index < 0) return UNCHANGED;
  core.nodes.remove(index);
  for (const job of core.jobs.values()) send(core, latestOf(core, job), { type: 'node.left', node: id, index, now: core.now, slots: slots(core) });
}

/** A reconnected node may join a rollout; a disconnected one keeps its deadline and loses its passing streak (judging.ts). */
export function onConnected(core: EngineCore, id: string, connected: boolean): typeof UNCHANGED | undefined {
  const index = core.nodes.presentIndexOf(id);
  if (index < 0 || core.nodes.isConnected(index) === connected) return UNCHANGED;
  core.nodes.setConnected(index, connected);
  if (connected) return void offerJoin(core, id, index);
  for (const job of core.jobs.values()) send(core, latestOf(core, job), { type: 'node.disconnected', node: id, index, now: core.now, slots: slots(core) });
}

function offerJoin(core: EngineCore, id: string, index: number): void {
  if (core.jobs.size === 0) return; // loading the fleet: no iterator per node
  for (const job of core.jobs.values()) send(core, latestOf(core, job), { type: 'node.joined', node: id, index, now: core.now, slots: slots(core) });
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
  const nodes = core.nodes;
  return nodes.present().map((i) => {
    const id = nodes.idOf(i);
    const versions: Record<string, number> = {};
    for (const job of core.jobs.values()) {
      const version = versionFor(core, job.key, job.deployments, id);
      if (version !== null) versions[job.key] = version;
    }
    return { id, labels: { ...nodes.labelsOf(i) }, connected: nodes.isConnected(i), versions };
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
