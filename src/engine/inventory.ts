/**
 * The fleet inventory the engine keeps (nodes joining, leaving and
 * (dis)connecting), and the news of it carried to every job's latest
 * deployment room, which decides what it means for its rollout (§4, §7).
 */
import type { FleetNode } from '../selector/types.js';
import { send, slots } from './effects.js';
import { latestOf, type EngineCore } from './engineCore.js';
import type { EngineInput } from './types.js';

/** An inventory input that would change nothing (same node again, unknown node removed, connection unchanged): not journaled. */
export function changesNothing(core: EngineCore, input: EngineInput): boolean {
  switch (input.type) {
    case 'node.upsert': {
      const known = core.nodes.get(input.node.id);
      return known !== undefined && known.connected === input.node.connected && sameLabels(known.labels, input.node.labels);
    }
    case 'node.remove':
      return !core.nodes.has(input.node);
    case 'node.connected': {
      const known = core.nodes.get(input.node);
      return known === undefined || known.connected === input.connected;
    }
    default:
      return false;
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

export function onUpsert(core: EngineCore, node: FleetNode): void {
  core.nodes.set(node.id, node);
  offerJoin(core, node.id);
}

export function onRemove(core: EngineCore, id: string): void {
  if (!core.nodes.delete(id)) return;
  for (const job of core.jobs.values()) send(core, latestOf(core, job), { type: 'node.left', node: id, now: core.now, slots: slots(core) });
}

/** A reconnected node may join a rollout; a disconnected one keeps its deadline and loses its passing streak (judging.ts). */
export function onConnected(core: EngineCore, id: string, connected: boolean): void {
  const node = core.nodes.get(id);
  if (node === undefined || node.connected === connected) return;
  node.connected = connected;
  if (connected) return offerJoin(core, id);
  for (const job of core.jobs.values()) send(core, latestOf(core, job), { type: 'node.disconnected', node: id, now: core.now, slots: slots(core) });
}

function offerJoin(core: EngineCore, id: string): void {
  if (core.jobs.size === 0) return; // loading the fleet: no iterator per node
  for (const job of core.jobs.values()) send(core, latestOf(core, job), { type: 'node.joined', node: id, now: core.now, slots: slots(core) });
}
