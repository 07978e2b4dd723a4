/**
 * How the new version behaves on a node (contract section 9, `behavior`).
 * Times are milliseconds of virtual time. A node's behavior is the scenario's
 * base behavior with every matching override applied in file order, field by
 * field: when several overrides set the same field, the last match wins.
 */
import { compileMatcher, type SelectorInput } from '../selector/index.js';
import type { FleetNode } from '../selector/types.js';
import type { ExecutionScript } from './script.js';

/** Inclusive bounds; a single value is a range with `min === max`. */
export interface Range {
  min: number;
  max: number;
}

export interface Behavior {
  /** Time from the start of an execution to its first report. */
  start_delay: Range;
  /** Time between two health reports of a running pipeline. */
  report_interval: number;
  /** Chance that the node never passes its health checks (a run-to-completion job ends `failed`). */
  fail_probability: number;
  /** Chance that the execution fails at its first report instead of starting. */
  crash_probability: number;
  /** Error rate reported with each health report, drawn uniformly per report. */
  error_rate: Range;
  /**
   * A scripted behavior (script.ts) instead of the chances above: health,
   * crash and completion at scripted times. The harness scripts nodes this way.
   */
  script?: ExecutionScript;
}

export interface BehaviorOverride {
  selector: SelectorInput;
  /** Only the fields the override sets. */
  behavior: Partial<Behavior>;
}

export interface BehaviorModel {
  base: Behavior;
  overrides: BehaviorOverride[];
}

/** Used for every field a scenario leaves out: a healthy version whose nodes report every 10 s. */
export const DEFAULT_BEHAVIOR: Readonly<Behavior> = Object.freeze({
  start_delay: { min: 10_000, max: 10_000 },
  report_interval: 10_000,
  fail_probability: 0,
  crash_probability: 0,
  error_rate: { min: 0, max: 0 },
});

/**
 * Compiles the model into `node -> behavior`. Nodes matching the same set of
 * overrides share one frozen behavior object, so a million nodes cost one
 * pointer each.
 */
export function compileBehavior(model: BehaviorModel): (node: FleetNode) => Behavior {
  const matchers = model.overrides.map((override) => compileMatcher(override.selector));
  const merged = new Map<string, Behavior>();
  return (node) => {
    let signature = '';
    for (let i = 0; i < matchers.length; i += 1) if (matchers[i]!(node)) signature += `${i},`;
    let behavior = merged.get(signature);
    if (behavior === undefined) {
      behavior = { ...model.base };
      for (const index of signature.split(',')) {
        if (index !== '') Object.assign(behavior, model.overrides[Number(index)]!.behavior);
      }
      behavior = Object.freeze(behavior);
      merged.set(signature, behavior);
    }
    return behavior;
  };
}

/** The value of `range` at the uniform draw `u` in [0, 1). */
export function pick(range: Range, u: number): number {
  return range.min + u * (range.max - range.min);
}
