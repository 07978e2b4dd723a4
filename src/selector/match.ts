import { parseSelectorExpression } from './parse.js';
import { parseInt64, type Requirement } from './requirement.js';
import type { FleetNode } from './types.js';

/** The selector block of a JobSpec (or of a simulator override); every part is optional. */
export interface SelectorInput {
  match_labels?: Record<string, string>;
  match_expressions?: string[];
  match_ids?: string[];
}

export type NodePredicate = (node: FleetNode) => boolean;

/** Thrown by `compileSelector` for an expression that does not parse; JobSpec validation reports these as data first. */
export class InvalidSelectorExpressionError extends Error {
  constructor(
    readonly expression: string,
    readonly column: number,
    reason: string,
  ) {
    super(`invalid selector expression ${JSON.stringify(expression)}: ${reason}`);
    this.name = 'InvalidSelectorExpressionError';
  }
}

/**
 * Eligibility (contract §3): a node is eligible when it is connected and matches
 * every part of the selector (see `compileMatcher`). Compile once, call per node.
 */
export function compileSelector(selector: SelectorInput): NodePredicate {
  const matches = compileMatcher(selector);
  return (node) => node.connected && matches(node);
}

/**
 * Label and id matching without the connectivity check, for callers that classify
 * nodes whatever their connection (e.g. the simulator's per-node behavior overrides).
 * A node matches when it has every `match_labels` pair exactly, satisfies every
 * expression, and (when `match_ids` is non-empty) its id is listed. An empty
 * selector matches every node. Label keys are looked up as own properties only,
 * so `constructor` or `__proto__` are ordinary keys.
 * @throws InvalidSelectorExpressionError when an expression does not parse.
 */
export function compileMatcher(selector: SelectorInput): NodePredicate {
  const checks: NodePredicate[] = [];
  for (const [key, value] of Object.entries(selector.match_labels ?? {})) {
    checks.push(({ labels }) => Object.hasOwn(labels, key) && labels[key] === value);
  }
  for (const expression of selector.match_expressions ?? []) {
    const parsed = parseSelectorExpression(expression);
    if (!parsed.ok) throw new InvalidSelectorExpressionError(expression, parsed.column, parsed.message);
    for (const requirement of parsed.requirements) checks.push(compileRequirement(requirement));
  }
  const ids = selector.match_ids ?? [];
  if (ids.length > 0) {
    const listed = new Set(ids);
    checks.push((node) => listed.has(node.id));
  }
  return (node) => {
    for (const check of checks) if (!check(node)) return false;
    return true;
  };
}

/** One requirement as a closure; `notin` (and so `!=`) also holds for a node lacking the key (contract §3). */
function compileRequirement({ key, operator, values }: Requirement): NodePredicate {
  switch (operator) {
    case 'exists':
      return ({ labels }) => Object.hasOwn(labels, key);
    case 'absent':
      return ({ labels }) => !Object.hasOwn(labels, key);
    case 'in':
    case 'notin': {
      const isListed = valueTest(values);
      return operator === 'in'
        ? ({ labels }) => Object.hasOwn(labels, key) && isListed(labels[key])
        : ({ labels }) => !Object.hasOwn(labels, key) || !isListed(labels[key]);
    }
    case 'gt':
    case 'lt': {
      // Like Kubernetes: a node lacking the key, or whose value is not an integer, does not match.
      const bound = BigInt(values[0] ?? '0');
      const holds = operator === 'gt' ? (n: bigint) => n > bound : (n: bigint) => n < bound;
      return ({ labels }) => {
        if (!Object.hasOwn(labels, key)) return false;
        const number = parseInt64(labels[key] ?? '');
        return number !== undefined && holds(number);
      };
    }
  }
}

/** A plain comparison for the common one-value case, a Set for lists (an empty one holds nothing). */
function valueTest(values: string[]): (value: string | undefined) => boolean {
  if (values.length === 1) {
    const only = values[0];
    return (value) => value === only;
  }
  const set = new Set(values);
  return (value) => value !== undefined && set.has(value);
}
