import { compileSelector, type SelectorInput } from './match.js';
import type { FleetNode } from './types.js';

/**
 * The rollout order (contract §3, docs/selection.md): ascending node id, compared
 * by UTF-16 code units (`<`), the same order as `LC_ALL=C sort`. Not
 * `localeCompare`, whose result depends on the ICU build and locale, so the
 * order would differ between machines. Generated ids are zero-padded
 * (`edge-007`), so for them this is also numeric order. Ids are unique in a
 * fleet; were two equal, the sort is stable and keeps their input order.
 * Nodes that join during a rollout are appended after these by the engine.
 */
export function compareNodeIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The given nodes in rollout order (a new array; the input is not changed). */
export function rolloutOrder(nodes: Iterable<FleetNode>): FleetNode[] {
  return Array.from(nodes).sort((a, b) => compareNodeIds(a.id, b.id));
}

/**
 * The nodes a deployment targets: the eligible ones (connected and matching the
 * selector), in rollout order.
 * @throws InvalidSelectorExpressionError when an expression does not parse.
 */
export function selectTargets(selector: SelectorInput, nodes: Iterable<FleetNode>): FleetNode[] {
  const isEligible = compileSelector(selector);
  const eligible: FleetNode[] = [];
  for (const node of nodes) if (isEligible(node)) eligible.push(node);
  return rolloutOrder(eligible);
}
