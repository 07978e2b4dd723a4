/**
 * Executor calls and events, held until the input that caused them has
 * changed the state completely (and is durable), then delivered in order. An
 * executor or listener may call the engine back during delivery: that input
 * is handled at once and its own calls and events queue behind the ones
 * being delivered. An executor call or listener that throws is reported
 * (`onError`) and the delivery goes on (§7a): it cannot undo the input nor
 * hold back the calls behind it.
 *
 * Nothing decided is lost (§7a): every start, stop and event (but
 * `decision`, an explanation) gets the next number of one sequence, counted
 * whether or not anybody listens, so replaying the journal numbers them
 * exactly as the first time. `delivered` is the number of the last one
 * delivered; the store keeps it (with each journal entry and heartbeat), and
 * recovery delivers again what replay decides after it: at least once, a
 * repeat recognisable by its `seq` (events) or `executionId` (calls).
 *
 * Write-ahead: only what is `release`d (its input is durable) goes out.
 * With group commit (journal.ts) inputs handled after a batch was handed to
 * the store queue their items behind it, held until their own batch commits.
 * Positions (`mark`, `release`) count from the first item ever queued, so they
 * stay valid while the delivered front of the queue is dropped.
 */
import type { EventEmitter } from 'eventemitter3';
import type { ExecutionRequest, Executor } from './ports.js';
import type { EngineError, EngineEvents } from './types.js';

export type StopRequest = Parameters<Executor['stop']>[0];

/** Executor calls in the queue; any other tag is an event name. */
const START = 0;
const STOP = 1;
type Tag = typeof START | typeof STOP | keyof EngineEvents;

/** Undelivered items as JSON, in the snapshot. */
export interface OutboxSnapshot {
  seq: number;
  delivered: number;
  pending: [Tag, unknown, number][];
}

export class Outbox {
  /** Triples (tag, payload or request, seq), flat: no wrapper object per item. */
  private readonly items: unknown[] = [];
  /** Position of `items[0]`: what was dropped from the front, already delivered. */
  private base = 0;
  private head = 0;
  /** Items before this position are durable and may go out. */
  private releasedTo = 0;
  private delivering = false;
  /** Number of the last start, stop or event decided. */
  private seq = 0;
  /** Number of the last one delivered (at least once). */
  delivered = 0;
  /**
   * While replaying a journal: null, nothing goes out (the calls and events
   * happened before the crash); a number, everything numbered after it is
   * kept for delivery (it was decided, maybe not delivered). Decisions never.
   */
  replaying: number | null | undefined = undefined;

  /**
   * Replicas (§7a "One leader"): asked right before every executor call; false
   * stops all delivery (`onLost`), since a replica that lost its lease must not act.
   */
  private leader: { isLeader(): boolean; epoch: number; onLost(): void } | null = null;

  constructor(
    private readonly executor: Executor,
    private readonly emitter: EventEmitter,
    private readonly onError: (error: Omit<EngineError, 'at' | 'message'>) => void,
  ) {}

  /** Executor calls then go out only while `isLeader()`, and each start and stop carries `epoch` (a fencing token for agents). */
  actAs(leader: { isLeader(): boolean; epoch: number; onLost(): void }): void {
    this.leader = leader;
  }

  /**
   * `payload` gets its `seq` here. A payload built with `seq: 0` keeps its
   * shape when numbered: a property added later costs a map transition and
   * a properties store (the hot per-node events do so).
   */
  emit<K extends keyof EngineEvents>(name: K, payload: Omit<Parameters<EngineEvents[K]>[0], 'seq'> & { seq?: 0 }): void {
    if (name === 'decision') {
      if (this.heard(name)) this.items.push(name, payload, 0);
      return;
    }
    const seq = ++this.seq;
    if (this.replaying === undefined ? this.heard(name) : this.replaying !== null && seq > this.replaying) {
      (payload as unknown as { seq: number }).seq = seq;
      this.items.push(name, payload, seq);
    }
  }

  /**
   * Would an event emitted now reach a listener? Outside a delivery no
   * listener can be added before this input's events go out, so an event
   * nobody listens to is dropped at once (and a decision's payload need not be built).
   */
  heard(name: keyof EngineEvents): boolean {
    return this.replaying === undefined && (this.delivering || this.emitter.listenerCount(name) > 0);
  }

  start(request: ExecutionRequest): void {
    this.call(START, request);
  }

  stop(request: StopRequest): void {
    this.call(STOP, request);
  }

  /** A start repeated after a crash for an execution still in flight: outside the sequence (it decides nothing new). */
  restart(request: ExecutionRequest): void {
    if (!this.pendingStart(request.executionId)) this.items.push(START, request, 0);
  }

  /** Where the next item will go: `discardFrom` drops what an input queued after it, `release` lets out what came before. */
  get mark(): number {
    return this.base + this.items.length;
  }

  /** The inputs that queued the items before `mark` are durable: they may go out. */
  release(mark: number = this.mark): void {
    if (mark > this.releasedTo) this.releasedTo = mark;
  }

  /** The input that queued these could not be made durable: none of it may go out. */
  discardFrom(mark: number): void {
    this.items.length = Math.max(mark - this.base, this.head, this.releasedTo - this.base);
  }

  /** Everything not released yet, when nothing more may go out (the store failed, the lease was lost). */
  discardHeld(): void {
    this.items.length = Math.max(this.head, Math.min(this.items.length, this.releasedTo - this.base));
  }

  get pending(): boolean {
    return this.head < this.items.length;
  }

  /** Delivers, in order, what is released; a listener or executor calling the engine back queues behind it. */
  deliver(): void {
    if (this.delivering) return;
    if (this.items.length === 0) {
      // Nothing queued (most reports decide nothing that goes out): what the full pass below would conclude.
      this.delivered = this.seq;
      return;
    }
    this.delivering = true;
    try {
      while (this.head < this.releasedTo - this.base) {
        const tag = this.items[this.head] as Tag;
        const item = this.items[this.head + 1];
        const seq = this.items[this.head + 2] as number;
        if ((tag === START || tag === STOP) && this.leader !== null && !this.leader.isLeader()) {
          this.leader.onLost();
          return;
        }
        this.head += 3;
        try {
          if (tag === START) this.executor.start(this.leader === null ? (item as ExecutionRequest) : { ...(item as ExecutionRequest), epoch: this.leader.epoch });
          else if (tag === STOP) this.executor.stop(this.leader === null ? (item as StopRequest) : { ...(item as StopRequest), epoch: this.leader.epoch });
          else this.emitter.emit(tag, item); // listeners are guarded one by one (Engine.on)
        } catch (error) {
          this.onError({ source: 'executor', event: tag === START ? 'start' : 'stop', error });
        }
        if (seq > this.delivered) this.delivered = seq;
      }
      if (this.head === this.items.length) {
        this.base += this.items.length;
        // Emptied by `pop`: `length = 0` would drop the backing store, allocated again by the next input.
        while (this.items.length > 0) this.items.pop();
        this.head = 0;
        // Unheard events and decisions between deliveries are delivered as far as anybody is concerned.
        this.delivered = this.seq;
      } else if (this.head > 3072 && this.head * 2 > this.items.length) {
        // Items held for a commit under way stay; the delivered front goes.
        this.items.splice(0, this.head);
        this.base += this.head;
        this.head = 0;
      }
    } finally {
      this.delivering = false;
    }
  }

  /**
   * After a recovery: the executor is there at once, listeners only once
   * `openEngine` has returned. So the calls go now and the events stay, in
   * order, for the next delivery.
   */
  deliverCalls(): void {
    const calls: unknown[] = [];
    const events: unknown[] = [];
    for (let i = this.head; i < this.items.length; i += 3) {
      (this.items[i] === START || this.items[i] === STOP ? calls : events).push(this.items[i], this.items[i + 1], this.items[i + 2]);
    }
    this.base += this.items.length;
    this.items.length = 0;
    this.head = 0;
    this.items.push(...calls);
    this.release();
    const before = this.delivered;
    this.deliver();
    this.items.push(...events);
    this.release();
    // Not past the first event still waiting (calls after it are delivered again after another crash: at least once).
    const firstEvent = events.length > 0 ? (events[2] as number) : 0;
    if (firstEvent > 0) this.delivered = Math.max(before, firstEvent - 1);
  }

  toJSON(): OutboxSnapshot {
    const pending: [Tag, unknown, number][] = [];
    // Unnumbered items stay out: decisions are explanations, and a start repeated after a crash
    // (`restart`) is derived again from the executions in flight by every recovery; kept, a later
    // recovery would repeat it after the node had moved on (found by the crash torture test).
    for (let i = this.head; i < this.items.length; i += 3) {
      if ((this.items[i + 2] as number) > 0) pending.push([this.items[i] as Tag, this.items[i + 1], this.items[i + 2] as number]);
    }
    return { seq: this.seq, delivered: this.delivered, pending };
  }

  /** Loads a snapshot's sequence and what it had not delivered (beyond `deliveredAtLeast`, known from the store). */
  load(snapshot: OutboxSnapshot): void {
    this.seq = snapshot.seq;
    this.delivered = snapshot.delivered;
    for (const [tag, item, seq] of snapshot.pending) this.items.push(tag, item, seq);
  }

  /** After replay: drops what the store says was delivered (the snapshot's pending items may be older than that). */
  dropDelivered(through: number): void {
    const kept: unknown[] = [];
    for (let i = this.head; i < this.items.length; i += 3) {
      const seq = this.items[i + 2] as number;
      if (seq === 0 || seq > through) kept.push(this.items[i], this.items[i + 1], seq);
    }
    this.base += this.items.length;
    this.items.length = 0;
    this.head = 0;
    this.items.push(...kept);
    if (through > this.delivered) this.delivered = through;
  }

  private call(tag: typeof START | typeof STOP, request: unknown): void {
    const seq = ++this.seq;
    if (this.replaying === undefined || (this.replaying !== null && seq > this.replaying)) this.items.push(tag, request, seq);
  }

  /** The starts decided before a crash and not known delivered (numbered, so not `restart`s). */
  redeliveredStarts(): ExecutionRequest[] {
    const starts: ExecutionRequest[] = [];
    for (let i = this.head; i < this.items.length; i += 3) {
      if (this.items[i] === START && (this.items[i + 2] as number) > 0) starts.push(this.items[i + 1] as ExecutionRequest);
    }
    return starts;
  }

  private pendingStart(executionId: string): boolean {
    for (let i = this.head; i < this.items.length; i += 3) {
      if (this.items[i] === START && (this.items[i + 1] as ExecutionRequest).executionId === executionId) return true;
    }
    return false;
  }
}
