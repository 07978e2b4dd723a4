/**
 * The engine's timers (what the deployment rooms armed through their
 * effects: node deadlines, streaks, execution and revert timeouts, queue and
 * total timeouts) as data: one absolute due time per (deployment, kind,
 * node), plus the order in which they were armed. Each is scheduled on the
 * clock port on its own, so timers due at the same instant fire in the order
 * they were scheduled (§4), also against other users of the same clock. A
 * snapshot lists them with their sequence number, so that a restore schedules
 * them again in that order. Lookups go by deployment and node (no key strings:
 * a timer costs a few small objects, and a 100k-node rollout stays small).
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

interface LiveTimer extends TimerEntry {
  handle: TimerHandle | null;
}

export interface EngineTimersSnapshot {
  seq: number;
  entries: TimerEntry[];
}

type Slot = LiveTimer | null;

/** One deployment's timers: its own (queue, total) and its nodes'. */
class DeploymentTimers {
  queue: Slot = null;
  total: Slot = null;
  readonly nodes = new Map<string, NodeTimers>();
}

class NodeTimers {
  deadline: Slot = null;
  execution: Slot = null;
  streak: Slot = null;
  revert: Slot = null;
}

type Owner = Record<TimerKind, Slot>;

export class EngineTimers {
  private readonly deployments = new Map<string, DeploymentTimers>();
  /** The deployment looked up last (entries go only when a deployment is forgotten): most calls in a row are about the same one. */
  private lastId: string | null = null;
  private lastTimers: DeploymentTimers | undefined = undefined;
  private seq = 0;
  /** False while replaying a journal: timers are recorded, and scheduled on the clock afterwards. */
  scheduling = true;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (timer: TimerEntry) => void,
  ) {}

  arm(deployment: string, kind: TimerKind, node: string | null, at: number): void {
    const owner = this.owner(deployment, node, true)!;
    this.cancel(owner[kind]);
    const timer: LiveTimer = { deployment, kind, node, at, seq: this.seq++, handle: null };
    owner[kind] = timer;
    if (this.scheduling) this.schedule(timer);
  }

  disarm(deployment: string, kind: TimerKind, node: string | null): void {
    const owner = this.owner(deployment, node, false);
    if (owner === undefined || owner[kind] === null) return;
    this.cancel(owner[kind]);
    owner[kind] = null;
  }

  /** Disarms every timer of a node (it resolved). */
  clearNode(deployment: string, node: string): void {
    const nodes = this.timersOf(deployment, false)?.nodes;
    const timers = nodes?.get(node);
    if (timers === undefined) return;
    this.cancel(timers.deadline);
    this.cancel(timers.execution);
    this.cancel(timers.streak);
    this.cancel(timers.revert);
    nodes!.delete(node);
  }

  /** Cancels and drops every timer of a deployment the engine forgets (§7 bounded history). */
  forget(deployment: string): void {
    const timers = this.deployments.get(deployment);
    if (timers === undefined) return;
    this.cancel(timers.queue);
    this.cancel(timers.total);
    for (const node of timers.nodes.keys()) this.clearNode(deployment, node);
    this.deployments.delete(deployment);
    this.lastId = null;
    this.lastTimers = undefined;
  }

  /** Removes a timer that fired; false when it was disarmed meanwhile. */
  take(deployment: string, kind: TimerKind, node: string | null): boolean {
    const owner = this.owner(deployment, node, false);
    if (owner === undefined || owner[kind] === null) return false;
    owner[kind] = null;
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

  /** Loads timers from a snapshot without scheduling them (see `scheduleAll`). */
  load(snapshot: EngineTimersSnapshot): void {
    this.seq = snapshot.seq;
    for (const e of snapshot.entries) this.owner(e.deployment, e.node, true)![e.kind] = { ...e, handle: null };
  }

  private timersOf(deployment: string, create: boolean): DeploymentTimers | undefined {
    if (deployment === this.lastId) return this.lastTimers;
    let timers = this.deployments.get(deployment);
    if (timers === undefined) {
      if (!create) return undefined;
      timers = new DeploymentTimers();
      this.deployments.set(deployment, timers);
    }
    this.lastId = deployment;
    this.lastTimers = timers;
    return timers;
  }

  private owner(deployment: string, node: string | null, create: boolean): Owner | undefined {
    const timers = this.timersOf(deployment, create);
    if (timers === undefined) return undefined;
    if (node === null) return timers as unknown as Owner;
    let nodeTimers = timers.nodes.get(node);
    if (nodeTimers === undefined) {
      if (!create) return undefined;
      nodeTimers = new NodeTimers();
      timers.nodes.set(node, nodeTimers);
    }
    return nodeTimers as unknown as Owner;
  }

  private live(): LiveTimer[] {
    const all: LiveTimer[] = [];
    const add = (t: Slot) => {
      if (t !== null) all.push(t);
    };
    for (const timers of this.deployments.values()) {
      add(timers.queue);
      add(timers.total);
      for (const n of timers.nodes.values()) {
        add(n.deadline);
        add(n.execution);
        add(n.streak);
        add(n.revert);
      }
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
