/**
 * How far a YAML document's aliases expand it. yaml's own guard (`maxAliasCount`)
 * counts alias uses, so a fleet that names one `&labels` anchor 150 times is
 * refused as a bomb while it adds a few hundred nodes. What costs time and
 * memory downstream (validation, `validate --json`, traces) is the expanded
 * tree, so that is what is limited: the number of nodes aliases add once each
 * is replaced by a copy of its anchor's node.
 */
import { isAlias, isMap, isPair, isSeq, type Document, type Node } from 'yaml';

export type AliasExpansion =
  | { ok: true; written: number; expanded: number }
  | { ok: false; reason: 'cycle' }
  | { ok: false; reason: 'too-large'; written: number; expandedAtLeast: number };

interface Frame {
  node: Node;
  children: Node[];
  next: number;
  total: number;
}

/**
 * Counts the document's nodes as written and as expanded, in one post-order
 * walk in document order (iterative: the caller has bounded the nesting depth,
 * but not the length of alias chains). An alias names the last anchor of that
 * name before it, which the walk has then finished, unless the anchor contains
 * the alias: a cycle. Stops as soon as the expansion passes `maxAdded`.
 */
export function measureAliasExpansion(document: Document, maxAdded: number): AliasExpansion {
  const root = document.contents;
  if (root === null || root === undefined) return { ok: true, written: 0, expanded: 0 };
  const finished = new Map<Node, number>();
  const anchors = new Map<string, Node>();
  const open = new Set<Node>();
  let written = 0;
  // Each written node adds 1, each alias its anchor's expanded size: at the end, the root's size.
  let expanded = 0;
  const stack: Frame[] = [];

  const enter = (node: Node): number | undefined => {
    written += 1;
    if (isAlias(node)) {
      const source = anchors.get(node.source);
      if (source !== undefined && open.has(source)) return -1;
      // An alias to no anchor counts 1: yaml reports it when the document is converted.
      const size = source === undefined ? 1 : (finished.get(source) ?? 1);
      expanded += size;
      return size;
    }
    expanded += 1;
    if (node.anchor !== undefined) anchors.set(node.anchor, node);
    const children = childrenOf(node);
    if (children.length === 0) return 1;
    open.add(node);
    stack.push({ node, children, next: 0, total: 1 });
    return undefined;
  };

  if (enter(root) === -1) return { ok: false, reason: 'cycle' };
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.children.length) {
      stack.pop();
      open.delete(frame.node);
      finished.set(frame.node, frame.total);
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.total += frame.total;
      continue;
    }
    const size = enter(frame.children[frame.next++]!);
    if (size === -1) return { ok: false, reason: 'cycle' };
    if (size !== undefined) frame.total += size;
    if (expanded - written > maxAdded) return { ok: false, reason: 'too-large', written, expandedAtLeast: expanded };
  }
  return { ok: true, written, expanded };
}

function childrenOf(node: Node): Node[] {
  if (isSeq(node)) return node.items.filter(isNode);
  if (isMap(node)) {
    const children: Node[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      if (isNode(pair.key)) children.push(pair.key);
      if (isNode(pair.value)) children.push(pair.value);
    }
    return children;
  }
  return [];
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}
