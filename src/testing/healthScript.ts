/**
 * The fluent script of node behaviors: `health.node('edge-1').healthyAfter('10s')`,
 * `health.matching('region=us-east').unhealthy()`. Each call to `node`,
 * `matching` or `all` declares a rule; later rules override earlier ones for
 * the fields they set. A rule is read when the engine starts an execution, so
 * scripting after a version was rolled out changes only later executions.
 */
import type { SelectorInput } from '../selector/match.js';
import type { BehaviorRule, NodeBehavior, RuleTarget, Spread } from './behavior.js';
import { toMs, type Duration } from './time.js';

export type DurationSpread = Duration | { min: Duration; max: Duration };

export class HealthScript {
  constructor(
    private readonly rules: BehaviorRule[],
    private readonly version: number | null = null,
  ) {}

  /** One node, by id. */
  node(id: string): NodeScript {
    return this.rule({ kind: 'node', id });
  }

  /** Every node the selector matches (connected or not); a string is one `match_expressions` entry. */
  matching(selector: SelectorInput | string): NodeScript {
    return this.rule({ kind: 'selector', selector: typeof selector === 'string' ? { match_expressions: [selector] } : selector });
  }

  /** Every node: changes the default behavior from here on. */
  all(): NodeScript {
    return this.rule({ kind: 'all' });
  }

  /** The same script, restricted to executions of one job version. */
  forVersion(version: number): HealthScript {
    return new HealthScript(this.rules, version);
  }

  private rule(target: RuleTarget): NodeScript {
    const rule: BehaviorRule = { target, version: this.version, patch: {} };
    this.rules.push(rule);
    return new NodeScript(rule.patch);
  }
}

/** Chainable settings of one rule; times count from the engine's start request on the node. */
export class NodeScript {
  constructor(private readonly patch: Partial<NodeBehavior>) {}

  /** Reports pass from the first one on. */
  healthy(): this {
    return this.set({ healthyFromMs: 0, unhealthyFromMs: null });
  }

  /** Reports fail until `after`, then pass. */
  healthyAfter(after: Duration): this {
    return this.set({ healthyFromMs: toMs(after), unhealthyFromMs: null });
  }

  /** Reports never pass: the node misses its deadline (`deadline_exceeded`). */
  unhealthy(): this {
    return this.set({ healthyFromMs: null });
  }

  /** Reports fail from `at` on (before stability: a failure; after: `degraded`). */
  failsAt(at: Duration): this {
    return this.set({ unhealthyFromMs: toMs(at) });
  }

  /** The `error_rate` every health report carries. */
  errorRate(rate: number | { min: number; max: number }): this {
    return this.set({ errorRate: rate });
  }

  /** The execution fails: instead of starting, or `after` it started. */
  crashes(after?: Duration): this {
    return this.set({ crash: after === undefined ? 'at_start' : toMs(after) });
  }

  /** The node never reports anything. */
  silent(): this {
    return this.set({ silent: true });
  }

  /** Delay from the start request to the first report; a range is drawn per execution from the harness seed. */
  startsAfter(delay: DurationSpread): this {
    return this.set({ startDelayMs: spreadMs(delay) });
  }

  /** Interval between health reports. */
  reportsEvery(interval: Duration): this {
    const ms = toMs(interval);
    if (ms <= 0) throw new RangeError('reportsEvery needs an interval > 0');
    return this.set({ reportIntervalMs: ms });
  }

  /** Run-to-completion jobs: the run ends well `after` it started. */
  succeedsAfter(after: Duration): this {
    return this.set({ runTimeMs: toMs(after), completion: 'succeeded' });
  }

  /** Run-to-completion jobs: the run ends badly `after` it started. */
  failsAfter(after: Duration): this {
    return this.set({ runTimeMs: toMs(after), completion: 'failed' });
  }

  /** During a rollback of this version the old one never comes back (`revert_failed` at the revert deadline). */
  revertHangs(): this {
    return this.set({ revert: 'hangs' });
  }

  /** During a rollback of this version the old one fails to start (`revert_failed` at once). */
  revertFails(): this {
    return this.set({ revert: 'fails' });
  }

  /** Sets behavior fields directly (what the other methods do one at a time); times in ms. */
  behaves(fields: Partial<NodeBehavior>): this {
    return this.set(fields);
  }

  private set(fields: Partial<NodeBehavior>): this {
    Object.assign(this.patch, fields);
    return this;
  }
}

function spreadMs(value: DurationSpread): Spread {
  return typeof value === 'object' ? { min: toMs(value.min), max: toMs(value.max) } : toMs(value);
}
