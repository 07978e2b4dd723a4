/**
 * Executor calls and events, held until the input that caused them has
 * changed the state completely, then delivered in order. An executor or
 * listener may call the engine back during delivery: that input is handled at
 * once and its own calls and events queue behind the ones being delivered.
 * An executor call or listener that throws is reported (`onError`) and the
 * delivery goes on (§7a): it cannot undo the input nor hold back the calls
 * behind it.
 */
import type { EventEmitter } from 'eventemitter3';
import type { ExecutionRequest, Executor } from './ports.js';
import type { EngineError, EngineEvents } from './types.js';

export type StopRequest = Parameters<Executor['stop']>[0];

/** Executor calls in the queue; any other tag is an event name. */
const START = 0;
const STOP = 1;
type Tag = typeof START | typeof STOP | keyof EngineEvents;

export class Outbox {
  /** Pairs (tag, payload or request), flat: no wrapper object per item. */
  private readonly items: unknown[] = [];
  private head = 0;
  private delivering = false;
  /** While replaying a journal nothing goes out: the calls and events happened before the crash. */
  muted = false;

  constructor(
    private readonly executor: Executor,
    private readonly emitter: EventEmitter,
    private readonly onError: (error: Omit<EngineError, 'at' | 'message'>) => void,
  ) {}

  emit<K extends keyof EngineEvents>(name: K, payload: Parameters<EngineEvents[K]>[0]): void {
    if (this.heard(name)) this.items.push(name, payload);
  }

  /**
   * Would an event emitted now reach a listener? Outside a delivery no
   * listener can be added before this input's events go out, so an event
   * nobody listens to is dropped at once (and its payload need not be built).
   */
  heard(name: keyof EngineEvents): boolean {
    return !this.muted && (this.delivering || this.emitter.listenerCount(name) > 0);
  }

  start(request: ExecutionRequest): void {
    if (!this.muted) this.items.push(START, request);
  }

  stop(request: StopRequest): void {
    if (!this.muted) this.items.push(STOP, request);
  }

  /** Where the next item will go: `discardFrom` drops what an input queued after it. */
  get mark(): number {
    return this.items.length;
  }

  /** The input that queued these could not be made durable: none of it may go out. */
  discardFrom(mark: number): void {
    this.items.length = Math.max(mark, this.head);
  }

  deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.head < this.items.length) {
        const tag = this.items[this.head] as Tag;
        const item = this.items[this.head + 1];
        this.head += 2;
        try {
          if (tag === START) this.executor.start(item as ExecutionRequest);
          else if (tag === STOP) this.executor.stop(item as StopRequest);
          else this.emitter.emit(tag, item); // listeners are guarded one by one (Engine.on)
        } catch (error) {
          this.onError({ source: 'executor', event: tag === START ? 'start' : 'stop', error });
        }
      }
      // Emptied by `pop`: `length = 0` would drop the backing store, allocated again by the next input.
      while (this.items.length > 0) this.items.pop();
      this.head = 0;
    } finally {
      this.delivering = false;
    }
  }
}
