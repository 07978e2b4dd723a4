/**
 * How a scripted node behaves once the engine asks it to run a version: when
 * it reports, whether its health checks pass, whether the execution breaks.
 * Every time here is measured from the moment the engine asked the executor
 * to start the execution on that node.
 */
import type { FleetNode } from '../selector/types.js';
import { compileMatcher, type SelectorInput } from '../selector/match.js';

/** A fixed value, or a range drawn once an execution from the harness's seeded generator. */
export type Spread = number | { min: number; max: number };

export interface NodeBehavior {
  /** Start request to the execution's first report (`started`, or `failed` for a crash at start). */
  startDelayMs: Spread;
  /** Health reports follow the first report every this many ms, until the execution is stopped or replaced. */
  reportIntervalMs: number;
  /** Reports say `healthy: true` from this time on; null: never. */
  healthyFromMs: number | null;
  /** Reports say `healthy: false` from this time on (after `healthyFromMs`); null: never. */
  unhealthyFromMs: number | null;
  /** `error_rate` carried by every health report; null: the field is left out. */
  errorRate: Spread | null;
  /** `at_start`: the execution reports `failed` instead of `started`; a number: it fails that many ms after `started`. */
  crash: 'never' | 'at_start' | number;
  /** The node never reports anything (a hung agent). */
  silent: boolean;
  /** Run-to-completion jobs (`query`, `update`, `config`): `started` to the end of the run, and how it ends. */
  runTimeMs: number;
  completion: 'succeeded' | 'failed';
  /** During a rollback: the old version comes back (`confirms`), never reports (`hangs`) or fails to start (`fails`). */
  revert: 'confirms' | 'hangs' | 'fails';
}

/** A healthy version: it starts after 2 s and reports healthy every 10 s; a run-to-completion job ends well 5 s after starting. */
export const DEFAULT_BEHAVIOR: NodeBehavior = {
  startDelayMs: 2_000,
  reportIntervalMs: 10_000,
  healthyFromMs: 0,
  unhealthyFromMs: null,
  errorRate: null,
  crash: 'never',
  silent: false,
  runTimeMs: 5_000,
  completion: 'succeeded',
  revert: 'confirms',
};

/** Which nodes and versions a rule applies to. */
export type RuleTarget = { kind: 'all' } | { kind: 'node'; id: string } | { kind: 'selector'; selector: SelectorInput };

export interface BehaviorRule {
  target: RuleTarget;
  /** Only executions of this version; null: every version. */
  version: number | null;
  patch: Partial<NodeBehavior>;
}

/**
 * The behavior of `version` on `node`: the defaults, then every matching rule
 * in the order it was declared, each overriding the fields it sets.
 */
export function resolveBehavior(defaults: NodeBehavior, rules: readonly BehaviorRule[], node: FleetNode, version: number): NodeBehavior {
  let behavior = defaults;
  for (const rule of rules) {
    if (rule.version !== null && rule.version !== version) continue;
    if (!targets(rule.target, node)) continue;
    behavior = { ...behavior, ...rule.patch };
  }
  return behavior;
}

// Rules outlive many executions: parse a selector once.
const compiled = new WeakMap<SelectorInput, (node: FleetNode) => boolean>();

function targets(target: RuleTarget, node: FleetNode): boolean {
  switch (target.kind) {
    case 'all':
      return true;
    case 'node':
      return target.id === node.id;
    case 'selector': {
      let matches = compiled.get(target.selector);
      if (matches === undefined) {
        matches = compileMatcher(target.selector);
        compiled.set(target.selector, matches);
      }
      return matches(node);
    }
  }
}

/** Whether the health reports of an execution `sinceStartMs` after its start say `healthy`. */
export function healthyAt(behavior: NodeBehavior, sinceStartMs: number): boolean {
  const { healthyFromMs, unhealthyFromMs } = behavior;
  if (healthyFromMs === null || sinceStartMs < healthyFromMs) return false;
  return unhealthyFromMs === null || sinceStartMs < unhealthyFromMs;
}
