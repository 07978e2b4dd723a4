/**
 * What became of every node a deployment started (contract §8 v1.1: the
 * counts add up). Each node a deployment started is in exactly one bucket:
 * `updating` (not judged yet), `stable`, `failed` (with its reason) or
 * `stopped` (its update ended unjudged: the engine stopped the execution on a
 * failure without rollback, a supersede or an abort, or a rollback reverted
 * it while it was still updating). Nodes never started are `untouched`:
 * targeted minus started.
 *
 * One byte a node per deployment, indexed by the agents' dense node index,
 * so a million-node run adds a megabyte, not a map of strings.
 */
import type { SimulatedAgents } from './agents.js';
import type { EventSource } from './trace.js';

const NOT_STARTED = 0;
const UPDATING = 1;
const STABLE = 2;
const STOPPED = 3;
/** `FAILED + r` is a node failed for `reasons[r]`. */
const FAILED = 4;

export type Bucket = 'updating' | 'stable' | 'failed' | 'stopped';

export interface BucketCounts {
  /** Started at least once (the deployment exposed it to its version). */
  exposed: number;
  updating: number;
  stable: number;
  failed: number;
  stopped: number;
}

/** One deployment's per-node buckets. */
export class DeploymentTally {
  private states: Uint8Array;
  readonly counts: BucketCounts = { exposed: 0, updating: 0, stable: 0, failed: 0, stopped: 0 };
  /** Failure reasons in the order first seen; `byReason[r]` nodes failed for `reasons[r]`. */
  readonly reasons: string[] = [];
  readonly byReason: number[] = [];

  constructor(capacity: number) {
    this.states = new Uint8Array(Math.max(16, capacity));
  }

  /** The node's bucket, null when the deployment never started it; for a failed node, also its reason. */
  bucketOf(index: number): { bucket: Bucket; reason: string | null } | null {
    const state = index < this.states.length ? this.states[index]! : NOT_STARTED;
    if (state === NOT_STARTED) return null;
    if (state >= FAILED) return { bucket: 'failed', reason: this.reasons[state - FAILED]! };
    return { bucket: state === UPDATING ? 'updating' : state === STABLE ? 'stable' : 'stopped', reason: null };
  }

  /** Nodes indexed below this bound may have a bucket. */
  get size(): number {
    return this.states.length;
  }

  started(index: number): void {
    if (index >= this.states.length) this.grow(index);
    const before = this.states[index]!;
    if (before === UPDATING) return;
    if (before === NOT_STARTED) this.counts.exposed += 1;
    else this.leave(before);
    this.states[index] = UPDATING;
    this.counts.updating += 1;
  }

  stable(index: number): void {
    if (this.states[index] !== UPDATING) return;
    this.states[index] = STABLE;
    this.counts.updating -= 1;
    this.counts.stable += 1;
  }

  failed(index: number, reason: string): void {
    if (this.states[index] !== UPDATING) return;
    let r = this.reasons.indexOf(reason);
    if (r < 0) {
      r = this.reasons.push(reason) - 1;
      this.byReason.push(0);
    }
    this.states[index] = FAILED + r;
    this.counts.updating -= 1;
    this.counts.failed += 1;
    this.byReason[r]! += 1;
  }

  /** The node's update ended without a judgement (its execution stopped, or a revert replaced it). */
  interrupted(index: number): void {
    if (this.states[index] !== UPDATING) return;
    this.states[index] = STOPPED;
    this.counts.updating -= 1;
    this.counts.stopped += 1;
  }

  /** Failed nodes per reason, reasons in alphabetical order. */
  failedByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    const order = this.reasons.map((reason, r) => [reason, this.byReason[r]!] as const).sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [reason, count] of order) out[reason] = count;
    return out;
  }

  private leave(state: number): void {
    if (state === STABLE) this.counts.stable -= 1;
    else if (state === STOPPED) this.counts.stopped -= 1;
    else if (state >= FAILED) {
      this.counts.failed -= 1;
      this.byReason[state - FAILED]! -= 1;
    }
  }

  private grow(index: number): void {
    const bigger = new Uint8Array(Math.max(index + 1, this.states.length * 2));
    bigger.set(this.states);
    this.states = bigger;
  }
}

/** Tallies every deployment created from now on, from the engine's events and the agents' stops. */
export class NodeTally {
  private readonly tallies = new Map<string, DeploymentTally>();

  constructor(engine: EventSource, agents: Pick<SimulatedAgents, 'indexOf' | 'onStop'>, private readonly capacity: number) {
    const of = (deployment: string): DeploymentTally | undefined => this.tallies.get(deployment);
    engine.on('deployment.created', (e) => {
      this.tallies.set(e.deployment, new DeploymentTally(this.capacity));
    });
    engine.on('node.started', (e) => of(e.deployment)?.started(agents.indexOf(e.node)));
    engine.on('node.stable', (e) => of(e.deployment)?.stable(agents.indexOf(e.node)));
    engine.on('node.failed', (e) => of(e.deployment)?.failed(agents.indexOf(e.node), e.reason));
    // §4: once a deployment failed, nodes still updating are no longer judged but reverted.
    engine.on('node.reverting', (e) => of(e.deployment)?.interrupted(agents.indexOf(e.node)));
    agents.onStop = (deployment, index, revert) => {
      if (!revert) of(deployment)?.interrupted(index);
    };
  }

  of(deployment: string): DeploymentTally | undefined {
    return this.tallies.get(deployment);
  }

  /** Nodes still updating in any deployment: the run is not over while one is (late joiners included). */
  anyUpdating(): boolean {
    for (const tally of this.tallies.values()) if (tally.counts.updating > 0) return true;
    return false;
  }
}
