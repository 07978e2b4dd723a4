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
 * and a timer the clock fires knows them. The nodes with a timer armed are
 * also linked in a list, for the rare walks over every timer (snapshot,
 * restore, recovery). A node's timers go when it resolves (`clearNode`).
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

interface LiveTimer extends TimerEntry, FiredTimer {
  handle: TimerHandle | null;
  /** The node timers it belongs to; null for a deployment's own (queue, total). */
  readonly owner: NodeTimers | null;
}

/** A node timer as the clock fired it: `onTimer` takes it and routes it without a lookup. */
export interface FiredTimer {
  kind: TimerKind;
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

type Slot = LiveTimer | null;

/** One deployment's own timers. */
interface DeploymentTimers {
  queue: Slot;
  total: Slot;
}

/** One node's timers in one deployment, linked with the others that have any. */
class NodeTimers {
  deadline: Slot = null;
  execution: Slot = null;
  streak: Slot = null;
  revert: Slot = null;
  prev: NodeTimers | null = null;
  next: NodeTimers | null = null;

  constructor(
    readonly deployment: string,
    readonly node: string,
    readonly holder: TimerHolder,
  ) {}
}

type Owner = Record<TimerKind, Slot>;

export class EngineTimers {
  private readonly deployments = new Map<string, DeploymentTimers>();
  /** The node timers in use, most recently made first. */
  private nodes: NodeTimers | null = null;
  private seq = 0;
  /** False while replaying a journal: timers are recorded, and scheduled on the clock afterwards. */
  scheduling = true;

  /**
   * `fire`: a timer is due (`FiredTimer` for a node's); `holderOf`: the
   * record of a node of a deployment, for what comes as ids (a snapshot, a
   * journaled timer), undefined when the deployment has no such node.
   */
  constructor(
    private readonly clock: Clock,
    private readonly fire: (timer: TimerEntry & FiredTimer) => void,
    private readonly holderOf: (deployment: string, node: string) => TimerHolder | undefined,
  ) {}

  /** `holder`: the node's record, null for a deployment timer. */
  arm(deployment: string, kind: TimerKind, node: string | null, at: number, holder: TimerHolder | null): void {
    const owner = holder === null ? this.deploymentTimers(deployment) : this.nodeTimers(deployment, node!, holder);
    this.cancel(owner[kind]);
    const timer: LiveTimer = { deployment, kind, node, at, seq: this.seq++, handle: null, owner: holder === null ? null : (owner as unknown as NodeTimers), index: holder === null ? -1 : holder.index };
    owner[kind] = timer;
    if (this.scheduling) this.schedule(timer);
  }

  disarm(deployment: string, kind: TimerKind, holder: TimerHolder | null): void {
    const owner = holder === null ? this.deployments.get(deployment) : (holder.timers as NodeTimers | null);
    if (owner == null) return;
    const slots = owner as unknown as Owner;
    this.cancel(slots[kind]);
    slots[kind] = null;
  }

  /** Disarms every timer of a node (it resolved). */
  clearNode(holder: TimerHolder): void {
    const timers = holder.timers as NodeTimers | null;
    if (timers === null) return;
    this.cancel(timers.deadline);
    this.cancel(timers.execution);
    this.cancel(timers.streak);
    this.cancel(timers.revert);
    timers.deadline = timers.execution = timers.streak = timers.revert = null;
    this.unlink(timers);
  }

  /** Cancels and drops every timer of a deployment the engine forgets (§7 bounded history). */
  forget(deployment: string): void {
    const timers = this.deployments.get(deployment);
    if (timers !== undefined) {
      this.cancel(timers.queue);
      this.cancel(timers.total);
      this.deployments.delete(deployment);
    }
    for (let n = this.nodes; n !== null; ) {
      const next = n.next;
      if (n.deployment === deployment) this.clearNode(n.holder);
      n = next;
    }
  }

  /** Removes a timer that fired, named by ids (replay, a journaled timer); false when it was disarmed meanwhile. */
  take(deployment: string, kind: TimerKind, node: string | null): boolean {
    const owner = node === null ? this.deployments.get(deployment) : (this.holderOf(deployment, node)?.timers as NodeTimers | null | undefined);
    if (owner == null) return false;
    const slots = owner as unknown as Owner;
    if (slots[kind] === null) return false;
    slots[kind] = null;
    return true;
  }

  /** Removes a timer the clock just fired; false when it was disarmed meanwhile. */
  takeFired(fired: FiredTimer): boolean {
    const timer = fired as LiveTimer;
    const owner = (timer.owner ?? this.deployments.get(timer.deployment)) as unknown as Owner | undefined;
    if (owner === undefined || owner[timer.kind] !== timer) return false;
    owner[timer.kind] = null;
    return true;
  }

  /** Schedules every timer not yet on the clock, in due-time then arming order. */
  scheduleAll(): void {
    this.scheduling = true;
    const waiting = this.live().filter((t) => t.handle === null);
    waiting.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const timer of waiting) this.schedule(timer);
  }

  /** Moves every node timer (not yet on the clock) to `due(timer)`; queue and total stay. True when one moved. */
  resume(due: (timer: TimerEntry) => number): boolean {
    let moved = false;
    for (const timer of this.live()) {
      if (timer.node === null || timer.handle !== null) continue;
      const at = due(timer);
      if (at !== timer.at) moved = true;
      timer.at = at;
    }
    return moved;
  }

  cancelAll(): void {
    for (const timer of this.live()) {
      if (timer.handle !== null) this.clock.cancel(timer.handle);
      timer.handle = null;
    }
  }

  toJSON(): EngineTimersSnapshot {
    const entries = this.live().map(({ deployment, kind, node, at, seq }) => ({ deployment, kind, node, at, seq }));
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
      owner[e.kind] = { ...e, handle: null, owner: holder === null ? null : (owner as unknown as NodeTimers), index: holder === null ? -1 : holder.index };
    }
  }

  private deploymentTimers(deployment: string): Owner {
    let timers = this.deployments.get(deployment);
    if (timers === undefined) {
      timers = { queue: null, total: null };
      this.deployments.set(deployment, timers);
    }
    return timers as unknown as Owner;
  }

  private nodeTimers(deployment: string, node: string, holder: TimerHolder): Owner {
    let timers = holder.timers as NodeTimers | null;
    if (timers === null) {
      timers = new NodeTimers(deployment, node, holder);
      timers.next = this.nodes;
      if (this.nodes !== null) this.nodes.prev = timers;
      this.nodes = timers;
      holder.timers = timers;
    }
    return timers as unknown as Owner;
  }

  private unlink(timers: NodeTimers): void {
    if (timers.prev === null) this.nodes = timers.next;
    else timers.prev.next = timers.next;
    if (timers.next !== null) timers.next.prev = timers.prev;
    timers.prev = timers.next = null;
    timers.holder.timers = null;
  }

  private live(): LiveTimer[] {
    const all: LiveTimer[] = [];
    const add = (t: Slot) => {
      if (t !== null) all.push(t);
    };
    for (const timers of this.deployments.values()) {
      add(timers.queue);
      add(timers.total);
    }
    for (let n = this.nodes; n !== null; n = n.next) {
      add(n.deadline);
      add(n.execution);
      add(n.streak);
      add(n.revert);
    }
    return all;
  }

  private schedule(timer: LiveTimer): void {
    timer.handle = this.clock.schedule(timer.at, () => {
      timer.handle = null;
      this.fire(timer);
    });
  }

  private cancel(timer: Slot): void {
    if (timer !== null && timer.handle !== null) this.clock.cancel(timer.handle);
  }
}
