/**
 * A deployment room's state as plain JSON (and back): the machine's state
 * value and the context, its node records as tuples to keep large snapshots
 * small. The nodes map becomes an array in its iteration order, so a restored
 * room iterates exactly as the original did.
 */
import type { StateValue } from 'xstate';
import { indexArray, nodeRecord, type DeploymentData, type DeploymentIo } from './context.js';
import { NodeRecords } from './nodeRecords.js';
import type { NodeState } from './vocabulary.js';

type NodeTuple = [node: string, state: NodeState, canary: 0 | 1, attempt: number, flags: number];

export interface DeploymentSnapshot {
  machine: StateValue;
  data: Omit<DeploymentData, 'nodes' | 'orderRecords' | 'io'> & { nodes: NodeTuple[] };
}

export function serializeDeployment(machine: StateValue, data: DeploymentData): DeploymentSnapshot {
  const { nodes, orderRecords: _derived, io: _io, ...rest } = data;
  const tuples: NodeTuple[] = [];
  for (const [id, r] of nodes) tuples.push([id, r.state, r.canary ? 1 : 0, r.attempt, r.flags]);
  return {
    machine: structuredClone(machine),
    data: { ...structuredClone(rest), nodes: tuples },
  };
}

export function deserializeDeployment(s: DeploymentSnapshot, io: DeploymentIo): DeploymentData {
  const { nodes: tuples, ...rest } = s.data;
  const indexes = tuples.map(([id]) => io.indexOf(id));
  const nodes = new NodeRecords(indexArray(indexes), io.findIndex);
  tuples.forEach(([id, state, canary, attempt, flags], i) => {
    const record = nodeRecord(state, indexes[i]!);
    record.canary = canary === 1;
    record.attempt = attempt;
    record.flags = flags;
    nodes.add(id, record);
  });
  const data = structuredClone(rest);
  // Snapshots written before contract v1.1 lack the fields it added.
  data.carried ??= [];
  data.canaryEnd ??= data.canaries ?? 0;
  data.canariesOwed ??= 0;
  return { ...data, nodes, orderRecords: data.order.map((id) => nodes.get(id)!), io };
}
