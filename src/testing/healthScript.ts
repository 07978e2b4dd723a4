/**
 * The fluent script of node behaviors: `health.node('edge-1').healthyAfter('10s')`,
 * `health.matching('region=us-east').unhealthy()`. Each call to `node`,
 * `matching` or `all` declares a rule; later rules override earlier ones for
 * the fields they set. A rule is read when the engine starts an execution, so
 * scripting after a version was rolled out changes only later executions.
 */
import type { SelectorInput } from '../selector/match.js';
import { checkBehaviorFields, type BehaviorBook, type HealthStep, type NodeBehavior, type OnStart, type RuleTarget, type Spread } from './behavior.js';
import { toMs, type Duration } from './time.js';

export class HealthScript {
  constructor(
    private readonly book: BehaviorBook,
    /** Throws for an id the harness does not know (with a "did you mean"). */
    private readonly knownNode: (id: string, where: string) => void,
    private readonly version: number | null = null,
  ) {}

  /** One node, by id: it must be in the fleet already. */
  node(id: string): NodeScript {
    this.knownNode(id, 'health.node');
    return this.rule({ kind: 'node', id });
  }

  /** Every node the selector matches (connected or not, now or when it joins); a string is one `match_expressions` entry. */
  matching(selector: SelectorInput | string): NodeScript {
    return this.rule({ kind: 'selector', selector: typeof selector === 'string' ? { match_expressions: [selector] } : selector });
  }

  /** Every node: changes the default behavior from here on. */
  all(): NodeScript {
    return this.rule({ kind: 'all' });
  }

  /** The same script, restricted to executions of one job version (a revert follows the version being rolled back). */
  forVersion(version: number): HealthScript {
    if (!Number.isInteger(version) || version < 1) throw new RangeError(`health.forVersion: expected a version number >= 1, found ${JSON.stringify(version)}`);
    return new HealthScript(this.book, this.knownNode, version);
  }

  private rule(target: RuleTarget): NodeScript {
    const rule = { target, version: this.version, patch: {}, hooks: [] };
    this.book.add(rule);
    return new NodeScript(rule.patch, rule.hooks, () => this.book.changed());
  }
}

/** Chainable settings of one rule; times are seconds or Go durations, from the engine's start request on the node. */
export class NodeScript {
  constructor(
    private readonly patch: Partial<NodeBehavior>,
    private readonly hooks: OnStart[],
    private readonly changed: () => void,
  ) {}

  /** Reports pass from the first one on. */
  healthy(): this {
    return this.set({ healthyFrom: 0, unhealthyFrom: null, healthSequence: null });
  }

  /** Reports fail until `after`, then pass. */
  healthyAfter(after: Duration): this {
    toMs(after, 'healthyAfter(after)');
    return this.set({ healthyFrom: after, unhealthyFrom: null, healthSequence: null });
  }

  /** Reports never pass: the node misses its deadline (`deadline_exceeded`). */
  unhealthy(): this {
    return this.set({ healthyFrom: null, healthSequence: null });
  }

  /** Reports fail from `at` on (before stability: a failure; after: `node.degraded`). */
  failsAt(at: Duration): this {
    toMs(at, 'failsAt(at)');
    return this.set({ unhealthyFrom: at, healthSequence: null });
  }

  /**
   * Health as steps from the start request, e.g.
   * `sequence({ healthy: true, for: '40s' }, { healthy: false, for: '20s' }, { healthy: true })`;
   * the last step lasts for good (without `for`) or its health stays.
   */
  sequence(...steps: HealthStep[]): this {
    if (steps.length === 0) throw new RangeError('sequence: give at least one step');
    steps.forEach((step, i) => {
      if (step.for !== undefined) toMs(step.for, `sequence step ${i + 1}: for`);
    });
    return this.set({ healthSequence: steps.map((step) => ({ ...step })) });
  }

  /** Flapping health: `times` cycles of passing for `healthy` then failing for `unhealthy`, then passing for good (default 3 cycles). */
  flapping(cycle: { healthy: Duration; unhealthy: Duration; times?: number }): this {
    const times = cycle.times ?? 3;
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`flapping: times must be an integer >= 1, found ${JSON.stringify(cycle.times)}`);
    const steps: HealthStep[] = [];
    for (let i = 0; i < times; i++) steps.push({ healthy: true, for: cycle.healthy }, { healthy: false, for: cycle.unhealthy });
    return this.sequence(...steps, { healthy: true });
  }

  /** The `error_rate` every health report carries (a range: drawn per report from the seed). */
  errorRate(rate: number | { min: number; max: number }): this {
    return this.set({ errorRate: rate });
  }

  /** The execution fails: instead of starting, or `after` it started. */
  crashes(after?: Duration): this {
    if (after !== undefined) toMs(after, 'crashes(after)');
    return this.set({ crash: after === undefined ? 'at_start' : after });
  }

  /** The node never reports anything. */
  silent(): this {
    return this.set({ silent: true });
  }

  /** Delay from the start request to the first report; a range is drawn per execution from the harness seed. */
  startsAfter(delay: Spread): this {
    return this.set({ startDelay: delay });
  }

  /** Interval between health reports. */
  reportsEvery(interval: Duration): this {
    if (toMs(interval, 'reportsEvery(interval)') <= 0) throw new RangeError('reportsEvery(interval): expected an interval > 0');
    return this.set({ reportInterval: interval });
  }

  /** Run-to-completion jobs: the run ends well `after` it started. */
  succeedsAfter(after: Duration): this {
    toMs(after, 'succeedsAfter(after)');
    return this.set({ runTime: after, completion: 'succeeded' });
  }

  /** Run-to-completion jobs: the run ends badly `after` it started. */
  failsAfter(after: Duration): this {
    toMs(after, 'failsAfter(after)');
    return this.set({ runTime: after, completion: 'failed' });
  }

  /** During a rollback of this version the old one never comes back (`revert_failed` at the revert deadline). */
  revertHangs(): this {
    return this.set({ revert: 'hangs' });
  }

  /** During a rollback of this version the old one fails to start (`revert_failed` at once). */
  revertFails(): this {
    return this.set({ revert: 'fails' });
  }

  /** Sets behavior fields directly (what the other methods do one at a time). */
  behaves(fields: Partial<NodeBehavior>): this {
    checkBehaviorFields(fields, 'behaves');
    return this.set(fields);
  }

  /**
   * Called at every start of an execution on the matching nodes, with the
   * engine's request (attempt, purpose and version are in it); the fields it
   * returns apply to that execution only: `onStart((r) => (r.executionId.endsWith('-1') ? { crash: 'at_start' } : {}))`.
   */
  onStart(hook: OnStart): this {
    this.hooks.push(hook);
    this.changed();
    return this;
  }

  private set(fields: Partial<NodeBehavior>): this {
    Object.assign(this.patch, fields);
    this.changed();
    return this;
  }
}
