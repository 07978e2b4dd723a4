/**
 * How a scripted node behaves once the engine asks it to run a version. The
 * harness compiles it into the simulator's behavior model (a scripted
 * `Behavior`, src/sim/script.ts), which the simulated agents play: the
 * harness has no fleet of its own. Times are seconds or Go duration strings
 * (time.ts), measured from the engine's start request on the node (a crash
 * from the execution's `started`).
 */
import type { ExecutionRequest } from '../engine/ports.js';
import type { FleetNode } from '../selector/types.js';
import { compileMatcher, type SelectorInput } from '../selector/match.js';
import type { Behavior } from '../sim/behavior.js';
import type { HealthPhase } from '../sim/script.js';
import { unknownFieldMessage } from '../spec/knownKeys.js';
import { toMs, type Duration } from './time.js';

/** A fixed duration, or a range drawn once an execution from the node's seeded stream. */
export type Spread = Duration | { min: Duration; max: Duration };

/** One step of a health sequence: reports pass (or fail) for `for`; the last step without `for` lasts for good. */
export interface HealthStep {
  healthy: boolean;
  for?: Duration;
}

export interface NodeBehavior {
  /** Start request to the execution's first report (`started`, or `failed` for a crash at start). */
  startDelay: Spread;
  /** Health reports follow the first report every `reportInterval`. */
  reportInterval: Duration;
  /** Reports pass from this time on; null: never. */
  healthyFrom: Duration | null;
  /** Reports fail from this time on (after `healthyFrom`); null: never. */
  unhealthyFrom: Duration | null;
  /** Health as a sequence of steps from the start request (flapping); when set, it replaces `healthyFrom`/`unhealthyFrom`. */
  healthSequence: readonly HealthStep[] | null;
  /** `error_rate` carried by every health report (a range: drawn per report). */
  errorRate: number | { min: number; max: number };
  /** `at_start`: the execution reports `failed` instead of `started`; a duration: it fails that long after `started`. */
  crash: 'never' | 'at_start' | Duration;
  /** The node never reports anything (a hung agent). */
  silent: boolean;
  /** Run-to-completion jobs (`query`, `update`, `config`): `started` to the end of the run, and how it ends. */
  runTime: Duration;
  completion: 'succeeded' | 'failed';
  /** During a rollback: the old version comes back (`confirms`), never reports (`hangs`) or fails to start (`fails`). */
  revert: 'confirms' | 'hangs' | 'fails';
}

/** A healthy version: it starts after 2 s and reports healthy every 10 s; a run-to-completion job ends well 5 s after starting. */
export const DEFAULT_BEHAVIOR: Readonly<NodeBehavior> = Object.freeze({
  startDelay: 2,
  reportInterval: 10,
  healthyFrom: 0,
  unhealthyFrom: null,
  healthSequence: null,
  errorRate: 0,
  crash: 'never',
  silent: false,
  runTime: 5,
  completion: 'succeeded',
  revert: 'confirms',
});

const BEHAVIOR_FIELDS = Object.keys(DEFAULT_BEHAVIOR);

/** Called when the engine starts an execution on a node the rule targets; the fields it returns apply to that execution only. */
export type OnStart = (request: ExecutionRequest) => Partial<NodeBehavior> | void;

/** Which nodes and versions a rule applies to. */
export type RuleTarget = { kind: 'all' } | { kind: 'node'; id: string } | { kind: 'selector'; selector: SelectorInput };

export interface BehaviorRule {
  target: RuleTarget;
  /** Only executions of this version; null: every version. */
  version: number | null;
  patch: Partial<NodeBehavior>;
  hooks: OnStart[];
}

/** Throws on a field `NodeBehavior` does not have (with a "did you mean"), naming where it came from. */
export function checkBehaviorFields(fields: object, where: string): void {
  for (const key of Object.keys(fields)) {
    if (!BEHAVIOR_FIELDS.includes(key)) throw new TypeError(`${where}: ${unknownFieldMessage(key, BEHAVIOR_FIELDS)}`);
  }
}

/**
 * The rules of a harness and the simulator behaviors they compile to. Rules
 * are read when an execution starts; executions whose node matches the same
 * rules share one compiled behavior (no hook involved), so a large fleet
 * costs one lookup per start.
 */
export class BehaviorBook {
  readonly rules: BehaviorRule[] = [];
  private readonly compiled = new Map<string, Behavior>();
  private readonly matchers = new WeakMap<SelectorInput, (node: FleetNode) => boolean>();

  constructor(
    readonly defaults: NodeBehavior,
    private readonly added: (rule: BehaviorRule) => void = () => {},
  ) {}

  add(rule: BehaviorRule): void {
    this.rules.push(rule);
    this.changed();
    this.added(rule);
  }

  /** A rule's fields changed: compiled behaviors may be stale. */
  changed(): void {
    this.compiled.clear();
  }

  /** The behavior of the execution `request` on `node`, for `version` (a revert's: the version being rolled back). */
  behaviorOf(request: ExecutionRequest, node: FleetNode, version: number): Behavior {
    let signature = '';
    let hooked = false;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if ((rule.version === null || rule.version === version) && this.targets(rule.target, node)) {
        signature += `${i},`;
        if (rule.hooks.length > 0) hooked = true;
      }
    }
    if (!hooked) {
      let behavior = this.compiled.get(signature);
      if (behavior === undefined) this.compiled.set(signature, (behavior = compileBehavior(this.merge(signature, request))));
      return behavior;
    }
    return compileBehavior(this.merge(signature, request));
  }

  private merge(signature: string, request: ExecutionRequest): NodeBehavior {
    let behavior: NodeBehavior = this.defaults;
    for (const index of signature.split(',')) {
      if (index === '') continue;
      const rule = this.rules[Number(index)]!;
      behavior = { ...behavior, ...rule.patch };
      for (const hook of rule.hooks) {
        const fields = hook(request);
        if (fields === undefined || fields === null) continue;
        checkBehaviorFields(fields, 'onStart hook result');
        behavior = { ...behavior, ...fields };
      }
    }
    return behavior;
  }

  private targets(target: RuleTarget, node: FleetNode): boolean {
    switch (target.kind) {
      case 'all':
        return true;
      case 'node':
        return target.id === node.id;
      case 'selector': {
        let matches = this.matchers.get(target.selector);
        if (matches === undefined) this.matchers.set(target.selector, (matches = compileMatcher(target.selector)));
        return matches(node);
      }
    }
  }
}

/** The simulator's scripted behavior for these fields; a bad value is an error naming the field. */
export function compileBehavior(b: NodeBehavior): Behavior {
  const interval = toMs(b.reportInterval, 'behavior.reportInterval');
  if (interval <= 0) throw new RangeError('behavior.reportInterval: expected an interval > 0');
  const crash = b.crash === 'never' || b.crash === 'at_start' ? b.crash : toMs(b.crash, 'behavior.crash');
  return {
    start_delay: range(b.startDelay, 'behavior.startDelay'),
    report_interval: interval,
    fail_probability: 0,
    crash_probability: 0,
    error_rate: typeof b.errorRate === 'number' ? { min: b.errorRate, max: b.errorRate } : { min: b.errorRate.min, max: b.errorRate.max },
    script: {
      health: healthPhases(b),
      crash,
      silent: b.silent,
      run_time: toMs(b.runTime, 'behavior.runTime'),
      completion: b.completion,
      revert: b.revert,
    },
  };
}

function range(spread: Spread, what: string): { min: number; max: number } {
  if (typeof spread === 'object') {
    const min = toMs(spread.min, `${what}.min`);
    const max = toMs(spread.max, `${what}.max`);
    if (max < min) throw new RangeError(`${what}: max (${JSON.stringify(spread.max)}) is below min (${JSON.stringify(spread.min)})`);
    return { min, max };
  }
  const ms = toMs(spread, what);
  return { min: ms, max: ms };
}

function healthPhases(b: NodeBehavior): HealthPhase[] {
  if (b.healthSequence !== null) {
    const phases: HealthPhase[] = [];
    let from = 0;
    b.healthSequence.forEach((step, i) => {
      phases.push({ from, healthy: step.healthy });
      if (step.for === undefined) {
        if (i < b.healthSequence!.length - 1) throw new RangeError(`behavior.healthSequence[${i}]: only the last step may leave out \`for\``);
        from = Infinity;
      } else from += toMs(step.for, `behavior.healthSequence[${i}].for`);
    });
    // After the last timed step, reports keep the last step's health.
    return phases;
  }
  if (b.healthyFrom === null) return [];
  const healthyFrom = toMs(b.healthyFrom, 'behavior.healthyFrom');
  const unhealthyFrom = b.unhealthyFrom === null ? null : toMs(b.unhealthyFrom, 'behavior.unhealthyFrom');
  if (unhealthyFrom !== null && unhealthyFrom <= healthyFrom) return [];
  const phases: HealthPhase[] = [{ from: healthyFrom, healthy: true }];
  if (unhealthyFrom !== null) phases.push({ from: unhealthyFrom, healthy: false });
  return phases;
}
