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
 * and a timer the clock fires knows them. The owners with a timer armed (a
 * node of a deployment, or a deployment itself) are also linked in a list,
 * for the rare walks over every timer (snapshot, restore, recovery). A node's
 * timers go when it resolves (`clearNode`).
 *
 * No object per timer: each owner has a slot, and its timers' due time,
 * sequence number and clock handle sit in typed arrays at `slot * 4 + kind`.
 * A clock that offers `scheduleCall` gets that number and one callback for
 * every timer (a million-node rollout arms millions); another clock gets a
 * closure per timer.
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
  /** The node's index (`KnownNode.index`); -1 for a deployment's own timer. */
  readonly index: number;
}

export interface EngineTimersSnapshot {
  seq: number;
  entries: TimerEntry[];
}

/** What holds a node's timers: its record in the room (`NodeRecord.timers`, the shell's slot). */
export interface TimerHolder {
  timers: unknown;
  readonly index: number;
}

const NONE = -1;
/** Timers per owner: a node's four kinds, or a deployment's two. */
const PER_OWNER = 4; // so a timer's owner is `timer >> 2`, its kind offset `timer & 3`
const KIND_OFFSET: Record<TimerKind, number> = { deadline: 0, execution: 1, streak: 2, revert: 3, queue: 0, total: 1 };
const NODE_KINDS: readonly TimerKind[] = ['deadline', 'execution', 'streak', 'revert'];
const DEPLOYMENT_KINDS: readonly TimerKind[] = ['queue', 'total'];
const INITIAL_OWNERS = 64;

/** One node's timers in one deployment (`node`, `holder`), or a deployment's own (both null). */
class TimerOwner {
  prev: TimerOwner | null = null;
  next: TimerOwner | null = null;

  constructor(
    readonly slot: number,
    readonly deployment: string,
    readonly node: string | null,
    readonly holder: TimerHolder | null,
  ) {}

  get kinds(): readonly TimerKind[] {
    return this.node === null ? DEPLOYMENT_KINDS : NODE_KINDS;
  }
}

export class EngineTimers {
  private readonly deployments = new Map<string, TimerOwner>();
  /** The owners in use, most recently made first. */
  private owners: TimerOwner | null = null;
  /** Owners by slot; free slots are chained through `freeSlots`. */
  private bySlot: (TimerOwner | null)[] = [];
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
    const owner = holder === null ? this.deploymentTimers(deployment) : this.nodeTimers(deployment, node!, holder);
    const timer = owner.slot * PER_OWNER + KIND_OFFSET[kind];
    this.cancel(timer);
    this.at[timer] = at;
    this.seqs[timer] = this.seq++;
    if (this.scheduling) this.schedule(timer);
  }

  disarm(deployment: string, kind: TimerKind, holder: TimerHolder | null): void {
    const owner = holder === null ? this.deployments.get(deployment) : (holder.timers as TimerOwner | null);
    if (owner == null) return;
    const timer = owner.slot * PER_OWNER + KIND_OFFSET[kind];
    this.cancel(timer);
    this.seqs[timer] = NONE;
  }

  /** Disarms every timer of a node (it resolved). */
  clearNode(holder: TimerHolder): void {
    const owner = holder.timers as TimerOwner | null;
    if (owner === null) return;
    this.release(owner);
    holder.timers = null;
  }

  /** Cancels and drops every timer of a deployment the engine forgets (§7 bounded history). */
  forget(deployment: string): void {
    const timers = this.deployments.get(deployment);
    if (timers !== undefined) {
      this.release(timers);
      this.deployments.delete(deployment);
    }
    for (let n = this.owners; n !== null; ) {
      const next = n.next;
      if (n.deployment === deployment && n.holder !== null) this.clearNode(n.holder);
      n = next;
    }
  }

  /** Removes a timer that fired, named by ids (replay, a journaled timer); false when it was disarmed meanwhile. */
  take(deployment: string, kind: TimerKind, node: string | null): boolean {
    const owner = node === null ? this.deployments.get(deployment) : (this.holderOf(deployment, node)?.timers as TimerOwner | null | undefined);
    if (owner == null) return false;
    return this.takeTimer(owner.slot * PER_OWNER + KIND_OFFSET[kind]);
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
      if (this.ownerOf(timer).node === null || this.handles[timer] !== NONE) continue;
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
      const owner = holder === null ? this.deploymentTimers(e.deployment) : this.nodeTimers(e.deployment, e.node!, holder);
      const timer = owner.slot * PER_OWNER + KIND_OFFSET[e.kind];
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

  private deploymentTimers(deployment: string): TimerOwner {
    let timers = this.deployments.get(deployment);
    if (timers === undefined) {
      timers = this.newOwner(deployment, null, null);
      this.deployments.set(deployment, timers);
    }
    return timers;
  }

  private nodeTimers(deployment: string, node: string, holder: TimerHolder): TimerOwner {
    let timers = holder.timers as TimerOwner | null;
    if (timers === null) {
      timers = this.newOwner(deployment, node, holder);
      holder.timers = timers;
    }
    return timers;
  }

  private newOwner(deployment: string, node: string | null, holder: TimerHolder | null): TimerOwner {
    const slot = this.freeSlots.pop() ?? this.bySlot.length;
    if (slot === this.bySlot.length) {
      this.bySlot.push(null);
      if (slot * PER_OWNER === this.at.length) this.grow();
    }
    const owner = new TimerOwner(slot, deployment, node, holder);
    this.bySlot[slot] = owner;
    owner.next = this.owners;
    if (this.owners !== null) this.owners.prev = owner;
    this.owners = owner;
    return owner;
  }

  /** Cancels an owner's timers and frees its slot. */
  private release(owner: TimerOwner): void {
    const first = owner.slot * PER_OWNER;
    for (let timer = first; timer < first + PER_OWNER; timer++) {
      this.cancel(timer);
      this.seqs[timer] = NONE;
    }
    if (owner.prev === null) this.owners = owner.next;
    else owner.prev.next = owner.next;
    if (owner.next !== null) owner.next.prev = owner.prev;
    owner.prev = owner.next = null;
    this.bySlot[owner.slot] = null;
    this.freeSlots.push(owner.slot);
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

  private ownerOf(timer: number): TimerOwner {
    return this.bySlot[timer >> 2]!;
  }

  private entry(timer: number): TimerEntry {
    const owner = this.ownerOf(timer);
    return { deployment: owner.deployment, kind: owner.kinds[timer & 3]!, node: owner.node, at: this.at[timer]!, seq: this.seqs[timer]! };
  }

  /** Every armed timer. */
  private live(): number[] {
    const all: number[] = [];
    for (let owner = this.owners; owner !== null; owner = owner.next) {
      const first = owner.slot * PER_OWNER;
      for (let timer = first; timer < first + owner.kinds.length; timer++) if (this.seqs[timer] !== NONE) all.push(timer);
    }
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
    const owner = this.ownerOf(timer);
    const fired = this.fired;
    fired.timer = timer;
    fired.seq = this.seqs[timer]!;
    fired.index = owner.holder === null ? NONE : owner.holder.index;
    this.fire(owner.deployment, owner.kinds[timer & 3]!, owner.node, fired);
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
