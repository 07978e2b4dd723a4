/**
 * A deployment's node records: by node id, by the shell's dense node index
 * (`RoomPorts.indexOf`), and in the order they were added (the targets in
 * rollout order, then nodes that join or are carried over), which is the
 * order a snapshot lists them and every walk over them takes. It reads as a
 * `ReadonlyMap` by id, without a million-entry hash table of its own: a
 * lookup by id goes through the shell's index of ids, which it keeps anyway,
 * and the hot path (a report, a timer, the window filling) has the index.
 * Records are never removed.
 */
import type { NodeRecord } from './context.js';

export class NodeRecords implements ReadonlyMap<string, NodeRecord> {
  private readonly ids: string[];
  private readonly records: NodeRecord[];

  /**
   * `byIndex`: an empty array for the records to come (see `indexArray`);
   * `findIndex`: the shell's index of an id, -1 for an id it never saw;
   * `ids` and `records`: the first records, when the caller has them in
   * arrays already (a new deployment's targets): copied at once, not pushed
   * one by one, and indexed here.
   */
  constructor(
    private readonly byIndex: (NodeRecord | undefined)[],
    private readonly findIndex: (node: string) => number,
    ids: readonly string[] = [],
    records: readonly NodeRecord[] = [],
  ) {
    this.ids = ids.slice();
    this.records = records.slice();
    for (let i = 0; i < records.length; i++) byIndex[records[i]!.index] = records[i]!;
  }

  /** Adds the record of a node that has none yet. */
  add(node: string, record: NodeRecord): void {
    this.ids.push(node);
    this.records.push(record);
    this.byIndex[record.index] = record;
  }

  /** The record of the node of this index, if it has one. */
  at(index: number): NodeRecord | undefined {
    return this.byIndex[index];
  }

  get(node: string): NodeRecord | undefined {
    const index = this.findIndex(node);
    return index < 0 ? undefined : this.byIndex[index];
  }

  has(node: string): boolean {
    return this.get(node) !== undefined;
  }

  get size(): number {
    return this.records.length;
  }

  forEach(visit: (record: NodeRecord, node: string, map: ReadonlyMap<string, NodeRecord>) => void, thisArg?: unknown): void {
    for (let i = 0; i < this.records.length; i++) visit.call(thisArg, this.records[i]!, this.ids[i]!, this);
  }

  *entries(): MapIterator<[string, NodeRecord]> {
    for (let i = 0; i < this.records.length; i++) yield [this.ids[i]!, this.records[i]!];
  }

  keys(): MapIterator<string> {
    return this.ids.values();
  }

  values(): MapIterator<NodeRecord> {
    return this.records.values();
  }

  [Symbol.iterator](): MapIterator<[string, NodeRecord]> {
    return this.entries();
  }
}
