/**
 * The breakdown of a run by one label the user names (`simulate --by region`):
 * for each value of that label, what became of the nodes the deployment
 * started there (the buckets of tally.ts) and why the failed ones failed.
 * Nodes without the label form the group whose `value` is null.
 */
import type { FleetNode } from '../selector/types.js';
import type { DeploymentTally } from './tally.js';

export interface LabelGroup {
  /** The label's value; null for the nodes that lack the label. */
  value: string | null;
  exposed: number;
  updating: number;
  stable: number;
  failed: number;
  stopped: number;
  /** Failed nodes per reason, reasons in alphabetical order. */
  failed_by_reason: Record<string, number>;
}

export interface LabelBreakdown {
  label: string;
  /** Values in alphabetical order, then null (nodes without the label), only groups where a node was started. */
  values: LabelGroup[];
}

/** Each node's value of one label, by the agents' dense node index: a small integer a node. */
export class LabelValues {
  /** `values[v - 1]` is value id v; id 0 is "no such label". */
  private readonly values: string[] = [];
  private readonly ids = new Map<string, number>();
  private valueOf: Uint32Array;

  constructor(
    readonly label: string,
    capacity: number,
  ) {
    this.valueOf = new Uint32Array(Math.max(16, capacity));
  }

  /** Records the label value of node `index` (called for every node the run adds, joiners included). */
  add(index: number, node: FleetNode): void {
    if (index >= this.valueOf.length) {
      const bigger = new Uint32Array(Math.max(index + 1, this.valueOf.length * 2));
      bigger.set(this.valueOf);
      this.valueOf = bigger;
    }
    const value = Object.hasOwn(node.labels, this.label) ? node.labels[this.label]! : null;
    this.valueOf[index] = value === null ? 0 : this.idOf(value);
  }

  breakdown(tally: DeploymentTally): LabelBreakdown {
    const groups = new Map<number, LabelGroup>();
    const size = Math.min(tally.size, this.valueOf.length);
    for (let index = 0; index < size; index += 1) {
      const bucket = tally.bucketOf(index);
      if (bucket === null) continue;
      const id = this.valueOf[index]!;
      let group = groups.get(id);
      if (group === undefined) {
        group = { value: id === 0 ? null : this.values[id - 1]!, exposed: 0, updating: 0, stable: 0, failed: 0, stopped: 0, failed_by_reason: {} };
        groups.set(id, group);
      }
      group.exposed += 1;
      group[bucket.bucket] += 1;
      if (bucket.reason !== null) group.failed_by_reason[bucket.reason] = (group.failed_by_reason[bucket.reason] ?? 0) + 1;
    }
    const values = [...groups.values()].sort(byValue);
    for (const group of values) group.failed_by_reason = sortedKeys(group.failed_by_reason);
    return { label: this.label, values };
  }

  private idOf(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }
}

/** Values in alphabetical order, the group without the label last. */
export function byValue(a: { value: string | null }, b: { value: string | null }): number {
  if (a.value === b.value) return 0;
  if (a.value === null) return 1;
  if (b.value === null) return -1;
  return a.value < b.value ? -1 : 1;
}

export function sortedKeys(record: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key]!;
  return out;
}
