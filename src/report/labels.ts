/**
 * The per-label breakdown: for each label key of the fleet, the job's nodes
 * by value: how many the fleet has, how many ran the new version, became
 * stable, failed, were reverted. Where a failure concentrates (one region,
 * one hardware revision) is what an operator looks for first.
 */
import type { LabelBreakdown, LabelRow, NodeBucket } from './model.js';

/** Label keys shown, in alphabetical order; a fleet rarely has more that matter. */
export const MAX_LABEL_KEYS = 8;
/** Values shown per key, the most eventful first; the rest are summed in one row. */
export const MAX_LABEL_VALUES = 10;

const EXPOSED = 1;
const STABLE = 2;
const FAILED = 4;
const REVERTED = 8;
const MARK_OF: Record<NodeBucket, number> = { updating: EXPOSED, stable: STABLE, failed: FAILED, reverting: 0, reverted: REVERTED, revert_failed: 0 };

/** What happened to each node at least once in one deployment. */
export class NodeMarks {
  private readonly marks = new Map<string, number>();

  mark(node: string, bucket: NodeBucket): void {
    this.marks.set(node, (this.marks.get(node) ?? 0) | MARK_OF[bucket]);
  }

  of(node: string): number {
    return this.marks.get(node) ?? 0;
  }
}

export function labelBreakdown(labels: ReadonlyMap<string, Record<string, string>>, marks: NodeMarks): LabelBreakdown[] {
  const byKey = new Map<string, Map<string, LabelRow>>();
  for (const [node, nodeLabels] of labels) {
    const mark = marks.of(node);
    for (const key in nodeLabels) {
      let values = byKey.get(key);
      if (values === undefined) byKey.set(key, (values = new Map()));
      const value = nodeLabels[key]!;
      let row = values.get(value);
      if (row === undefined) values.set(value, (row = emptyRow(value)));
      addNode(row, mark);
    }
  }
  return [...byKey.keys()]
    .sort()
    .slice(0, MAX_LABEL_KEYS)
    .map((key) => shownRows(key, [...byKey.get(key)!.values()]));
}

function shownRows(key: string, rows: LabelRow[]): LabelBreakdown {
  rows.sort((a, b) => b.failed - a.failed || b.exposed - a.exposed || b.nodes - a.nodes || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const shown = rows.slice(0, MAX_LABEL_VALUES);
  const hidden = rows.slice(MAX_LABEL_VALUES);
  if (hidden.length === 0) return { key, rows: shown, rest: null, hiddenValues: 0 };
  const rest = emptyRow(`${hidden.length} other values`);
  for (const row of hidden) {
    rest.nodes += row.nodes;
    rest.exposed += row.exposed;
    rest.stable += row.stable;
    rest.failed += row.failed;
    rest.reverted += row.reverted;
  }
  return { key, rows: shown, rest, hiddenValues: hidden.length };
}

function emptyRow(value: string): LabelRow {
  return { value, nodes: 0, exposed: 0, stable: 0, failed: 0, reverted: 0 };
}

function addNode(row: LabelRow, mark: number): void {
  row.nodes += 1;
  if (mark & EXPOSED) row.exposed += 1;
  if (mark & STABLE) row.stable += 1;
  if (mark & FAILED) row.failed += 1;
  if (mark & REVERTED) row.reverted += 1;
}
