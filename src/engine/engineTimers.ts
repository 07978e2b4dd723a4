/**
 * The engine's timers (what the deployment rooms armed through their
 * effects: node deadlines, streaks, execution and revert timeouts, queue and
 * total timeouts) as data: one absolute due time per (deployment, kind,
 * node), plus the order in which they were armed. Each is scheduled on the
 * clock port on its own, so timers due at the same instant fire in the order
 * they were scheduled (§4), also against other users of the same clock. A
 * snapshot lists them with their sequence number, so that a restore schedules
 * them again in that order.
 *
 * No lookup on the hot path: a node's timers hang on its record in the room
 * (`NodeRecord.timers`, which the room hands over with each timer effect),
 * and a timer the clock fires knows them. A node's timers go when it
 * resolves (`clearNode`).
 *
 * No object per timer, nor per node: each owner of timers (a node of a
 * deployment, or a deployment itself) has a slot (what `NodeRecord.timers`
 * holds), and its timers' due time, sequence number and clock handle sit in
 * typed arrays at `slot * 4 + kind offset`. The rare walks over every timer
 * (snapshot, restore, recovery) scan the slots. A clock that offers
 * `scheduleCall` gets that number and one callback for every timer (a
 * million-node rollout arms millions); another clock gets a closure per timer.
 */
import type { Clock, TimerHandle } from './ports.js';
import type { TimerKind } from './types.js';

export interface TimerEntry {
  deployment: string;
  kind: TimerKind;
  node: string | null;
  at: number;
  seq: number;
}

/** A timer as the clock fired it: `onTimer` takes it and routes it without a lookup. Valid while the fired input is handled. */
export interface FiredTimer {
  readonly timer: number;
  readonly seq: number;
  /** The node's index (knownNodes.ts); -1 for a deployment's own timer. */
  readonly index: number;
}

export interface EngineTimersSnapshot {
  seq: number;
  entries: TimerEntry[];
}

/** What holds a node's timers: its record in the room (`NodeRecord.timers`, the shell's slot). */
export interface TimerHolder {
  timers: number | null;
  readonly index: number;
}

const NONE = -1;
/** Timers per owner: a node's four kinds, or a deployment's two. */
const PER_OWNER = 4; // so a timer's owner is `timer >> 2`, its kind offset `timer & 3`
/** A kind's offset within its owner's four timers: a switch, since a lookup by a varying key is megamorphic (every arm and disarm takes one). */
function kindOffset(kind: TimerKind): number {
  switch (kind) {
    case 'deadline':
    case 'queue':
      return 0;
    case 'execution':
    case 'total':
      return 1;
    case 'streak':
      return 2;
    case 'revert':
      return 3;
  }
}
const NODE_KINDS: readonly TimerKind[] = ['deadline', 'execution', 'streak', 'revert'];
const DEPLOYMENT_KINDS: readonly TimerKind[] = ['queue', 'total'];
const INITIAL_OWNERS = 64;

export class EngineTimers {
  /** Each deployment's own timers' owner slot. */
  private readonly deployments = new Map<string, number>();
  /**
   * By owner slot: the deployment, the node (null for the deployment's own
   * timers) and its record (`TimerHolder`, whose `timers` is the slot). A
   * free slot has no deployment; free slots are reused last-freed first.
   */
  private deploymentOf: (string | undefined)[] = [];
  private nodeOf: (string | null)[] = [];
  private holders: (TimerHolder | null)[] = [];
  private freeSlots: number[] = [];
  /** By timer (`slot * 4 + kind offset`): due time; sequence number, NONE when disarmed; clock handle, NONE when not on the clock. */
  private at = new Float64Array(INITIAL_OWNERS * PER_OWNER);
  private seqs = new Float64Array(INITIAL_OWNERS * PER_OWNER).fill(NONE);
  private handles = new Float64Array(INITIAL_OWNERS * PER_OWNER).fill(NONE);
  /** Handles of a clock without `scheduleCall` (`handles` then holds 0 for "on the clock"). */
  private readonly otherHandles: (TimerHandle | undefined)[] = [];
  private readonly calls: boolean;
  private readonly fired = { timer: NONE, seq: NONE, index: NONE };
  private seq = 0;
  /** False while replaying a journal: timers are recorded, and scheduled on the clock afterwards. */
  scheduling = true;

  /**
   * `fire`: a timer is due; `holderOf`: the record of a node of a
   * deployment, for what comes as ids (a snapshot, a journaled timer),
   * undefined when the deployment has no such node.
   */
  constructor(
    private readonly clock: Clock,
    private readonly fire: (deployment: string, kind: TimerKind, node: string | null, fired: FiredTimer) => void,
    private readonly holderOf: (deployment: string, node: string) => TimerHolder | undefined,
  ) {
    this.calls = clock.scheduleCall !== undefined;
  }

  /** `holder`: the node's record, null for a deployment timer. */
  arm(deployment: string, kind: TimerKind, node: string | null, at: number, holder: TimerHolder | null): void {
    const slot = holder === null ? this.deploymentTimers(deployment) : this.nodeTimers(deployment, node!, holder);
    const timer = slot * PER_OWNER + kindOffset(kind);
    this.cancel(timer);
    this.at[timer] = at;
    this.seqs[timer] = this.seq++;
    if (this.scheduling) this.schedule(timer);
  }

  disarm(deployment: string, kind: TimerKind, holder: TimerHolder | null): void {
    const slot = holder === null ? this.deployments.get(deployment) : holder.timers;
    if (slot == null) return;
    const timer = slot * PER_OWNER + kindOffset(kind);
    this.cancel(timer);
    this.seqs[timer] = NONE;
  }

  /** Disarms every timer of a node (it resolved). */
  clearNode(holder: TimerHolder): void {
    const slot = holder.timers;
    if (slot === null) return;
    this.release(slot);
    holder.timers = null;
  }

  /** Cancels and drops every timer of a deployment the engine forgets (§7 bounded history). */
  forget(deployment: string): void {
    const own = this.deployments.get(deployment);
    if (own !== undefined) {
      this.release(own);
      this.deployments.delete(deployment);
    }
    for (let slot = 0; slot < this.deploymentOf.length; slot++) {
      const holder = this.holders[slot]!;
      if (this.deploymentOf[slot] === deployment && holder !== null) this.clearNode(holder);
    }
  }

  /** Removes a timer that fired, named by ids (replay, a journaled timer); false when it was disarmed meanwhile. */
  take(deployment: string, kind: TimerKind, node: string | null): boolean {
    const slot = node === null ? this.deployments.get(deployment) : this.holderOf(deployment, node)?.timers;
    if (slot == null) return false;
    return this.takeTimer(slot * PER_OWNER + kindOffset(kind));
  }

  /** Removes a timer the clock just fired; false when it was disarmed meanwhile. */
  takeFired(fired: FiredTimer): boolean {
    return this.seqs[fired.timer] === fired.seq && this.takeTimer(fired.timer);
  }

  /** Schedules every timer not yet on the clock, in due-time then arming order. */
  scheduleAll(): void {
    this.scheduling = true;
    const waiting = this.live().filter((t) => this.handles[t] === NONE);
    waiting.sort((a, b) => this.at[a]! - this.at[b]! || this.seqs[a]! - this.seqs[b]!);
    for (const timer of waiting) this.schedule(timer);
  }

  /** Moves every node timer (not yet on the clock) to `due(timer)`; queue and total stay. True when one moved. */
  resume(due: (timer: TimerEntry) => number): boolean {
    let moved = false;
    for (const timer of this.live()) {
      if (this.nodeOf[timer >> 2] === null || this.handles[timer] !== NONE) continue;
      const at = due(this.entry(timer));
      if (at !== this.at[timer]) moved = true;
      this.at[timer] = at;
    }
    return moved;
  }

  cancelAll(): void {
    for (const timer of this.live()) this.cancel(timer);
  }

  toJSON(): EngineTimersSnapshot {
    const entries = this.live().map((timer) => this.entry(timer));
    entries.sort((a, b) => a.seq - b.seq);
    return { seq: this.seq, entries };
  }

  /**
   * Loads timers from a snapshot without scheduling them (see `scheduleAll`).
   * Load the deployments first: a node's timers go on its record.
   */
  load(snapshot: EngineTimersSnapshot): void {
    this.seq = snapshot.seq;
    for (const e of snapshot.entries) {
      const holder = e.node === null ? null : (this.holderOf(e.deployment, e.node) ?? { timers: null, index: -1 });
      const slot = holder === null ? this.deploymentTimers(e.deployment) : this.nodeTimers(e.deployment, e.node!, holder);
      const timer = slot * PER_OWNER + kindOffset(e.kind);
      this.at[timer] = e.at;
      this.seqs[timer] = e.seq;
    }
  }

  private takeTimer(timer: number): boolean {
    if (this.seqs[timer] === NONE) return false;
    this.cancel(timer);
    this.seqs[timer] = NONE;
    return true;
  }

  private deploymentTimers(deployment: string): number {
    let slot = this.deployments.get(deployment);
    if (slot === undefined) {
      slot = this.newOwner(deployment, null, null);
      this.deployments.set(deployment, slot);
    }
    return slot;
  }

  private nodeTimers(deployment: string, node: string, holder: TimerHolder): number {
    let slot = holder.timers;
    if (slot === null) {
      slot = this.newOwner(deployment, node, holder);
      holder.timers = slot;
    }
    return slot;
  }

  private newOwner(deployment: string, node: string | null, holder: TimerHolder | null): number {
    const slot = this.freeSlots.pop() ?? this.deploymentOf.length;
    if (slot === this.deploymentOf.length) {
      this.deploymentOf.push(deployment);
      this.nodeOf.push(node);
      this.holders.push(holder);
      if (slot * PER_OWNER === this.at.length) this.grow();
      return slot;
    }
    this.deploymentOf[slot] = deployment;
    this.nodeOf[slot] = node;
    this.holders[slot] = holder;
    return slot;
  }

  /** Cancels an owner's timers and frees its slot. */
  private release(slot: number): void {
    const first = slot * PER_OWNER;
    for (let timer = first; timer < first + PER_OWNER; timer++) {
      this.cancel(timer);
      this.seqs[timer] = NONE;
    }
    this.deploymentOf[slot] = undefined;
    this.nodeOf[slot] = null;
    this.holders[slot] = null;
    this.freeSlots.push(slot);
  }

  private grow(): void {
    const capacity = this.at.length * 2;
    const at = new Float64Array(capacity);
    at.set(this.at);
    const seqs = new Float64Array(capacity).fill(NONE);
    seqs.set(this.seqs);
    const handles = new Float64Array(capacity).fill(NONE);
    handles.set(this.handles);
    this.at = at;
    this.seqs = seqs;
    this.handles = handles;
  }

  private kindOf(timer: number): TimerKind {
    return (this.nodeOf[timer >> 2] === null ? DEPLOYMENT_KINDS : NODE_KINDS)[timer & 3]!;
  }

  private entry(timer: number): TimerEntry {
    const slot = timer >> 2;
    return { deployment: this.deploymentOf[slot]!, kind: this.kindOf(timer), node: this.nodeOf[slot]!, at: this.at[timer]!, seq: this.seqs[timer]! };
  }

  /** Every armed timer. */
  private live(): number[] {
    const all: number[] = [];
    const end = this.deploymentOf.length * PER_OWNER;
    for (let timer = 0; timer < end; timer++) if (this.seqs[timer] !== NONE) all.push(timer);
    return all;
  }

  private schedule(timer: number): void {
    if (this.calls) {
      this.handles[timer] = this.clock.scheduleCall!(this.at[timer]!, this.fireTimer, timer);
      return;
    }
    this.handles[timer] = 0;
    this.otherHandles[timer] = this.clock.schedule(this.at[timer]!, () => this.fireTimer(timer));
  }

  private readonly fireTimer = (timer: number): void => {
    this.handles[timer] = NONE;
    if (!this.calls) this.otherHandles[timer] = undefined;
    const slot = timer >> 2;
    const holder = this.holders[slot]!;
    const fired = this.fired;
    fired.timer = timer;
    fired.seq = this.seqs[timer]!;
    fired.index = holder === null ? NONE : holder.index;
    this.fire(this.deploymentOf[slot]!, this.kindOf(timer), this.nodeOf[slot]!, fired);
  };

  private cancel(timer: number): void {
    if (this.handles[timer] === NONE) return;
    if (this.calls) this.clock.cancel(this.handles[timer]);
    else {
      this.clock.cancel(this.otherHandles[timer]);
      this.otherHandles[timer] = undefined;
    }
    this.handles[timer] = NONE;
  }
}
