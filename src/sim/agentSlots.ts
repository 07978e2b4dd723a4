/**
 * The simulated agents' per-execution state (agents.ts), one column per field
 * and one row, a slot, per node and job: numbers and flags in typed arrays,
 * references in plain arrays. Measured on 1,000,000 nodes: ~90 bytes a slot,
 * where an object a slot cost ~205 (and a million objects for the collector
 * to trace and promote).
 */
import type { Behavior } from './behavior.js';

/** Bits of `flags`. */
export const CONNECTED = 1;
/** The execution reverts to `version` (a rollback). */
export const REVERT = 2;
/** The job is a pipeline: it reports health until judged, instead of completing. */
export const PIPELINE = 4;
export const CRASHES = 8;
export const FAILING = 16;
/** False once the engine has judged the execution: no more health reports. */
export const REPORTING = 32;

export const NO_TIMER = -1;

const INITIAL_CAPACITY = 1024;

export class AgentSlots {
  /** Slots made so far; rows `0 .. size - 1` are in use. */
  size = 0;
  /** The node's dense index (NodeIndex). */
  node = new Int32Array(INITIAL_CAPACITY);
  /** The node's stream key (prng.ts), per job. */
  key = new Uint32Array(INITIAL_CAPACITY);
  /** The running execution's stream and the draws taken from it. */
  stream = new Uint32Array(INITIAL_CAPACITY);
  draws = new Uint32Array(INITIAL_CAPACITY);
  version = new Float64Array(INITIAL_CAPACITY);
  flags = new Uint8Array(INITIAL_CAPACITY);
  /** What the pending timer does when it fires (agents.ts). */
  next = new Uint8Array(INITIAL_CAPACITY);
  /** The pending timer's handle (CallClock), NO_TIMER when none. */
  timer = new Float64Array(INITIAL_CAPACITY);
  readonly executionId: (string | null)[] = [];
  /** The deployment that started the current execution, and its job ('' before the first start). */
  readonly deployment: string[] = [];
  readonly job: string[] = [];
  readonly behavior: Behavior[] = [];

  add(node: number, key: number, behavior: Behavior, connected: boolean): number {
    const slot = this.size++;
    if (slot === this.node.length) this.grow();
    this.node[slot] = node;
    this.key[slot] = key;
    this.flags[slot] = connected ? CONNECTED : 0;
    this.executionId.push(null);
    this.deployment.push('');
    this.job.push('');
    this.behavior.push(behavior);
    this.timer[slot] = NO_TIMER;
    return slot;
  }

  private grow(): void {
    const capacity = this.node.length * 2;
    this.node = grown(this.node, new Int32Array(capacity));
    this.key = grown(this.key, new Uint32Array(capacity));
    this.stream = grown(this.stream, new Uint32Array(capacity));
    this.draws = grown(this.draws, new Uint32Array(capacity));
    this.version = grown(this.version, new Float64Array(capacity));
    this.flags = grown(this.flags, new Uint8Array(capacity));
    this.next = grown(this.next, new Uint8Array(capacity));
    this.timer = grown(this.timer, new Float64Array(capacity));
  }
}

function grown<T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}
