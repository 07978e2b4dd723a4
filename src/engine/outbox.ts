/**
 * Executor calls and events, held until the input that caused them has
 * changed the state completely, then delivered in order. An executor or
 * listener may call the engine back during delivery: that input is handled at
 * once and its own calls and events queue behind the ones being delivered.
 */
import type { EventEmitter } from 'eventemitter3';
import type { ExecutionRequest, Executor } from './ports.js';
import type { EngineEvents } from './types.js';

export type StopRequest = Parameters<Executor['stop']>[0];

type Outward =
  | { kind: 'emit'; name: keyof EngineEvents; payload: object }
  | { kind: 'start'; request: ExecutionRequest }
  | { kind: 'stop'; request: StopRequest };

export class Outbox {
  private readonly items: Outward[] = [];
  private head = 0;
  private delivering = false;
  /** While replaying a journal nothing goes out: the calls and events happened before the crash. */
  muted = false;

  constructor(
    private readonly executor: Executor,
    private readonly emitter: EventEmitter,
  ) {}

  emit<K extends keyof EngineEvents>(name: K, payload: Parameters<EngineEvents[K]>[0]): void {
    if (!this.muted) this.items.push({ kind: 'emit', name, payload });
  }

  start(request: ExecutionRequest): void {
    if (!this.muted) this.items.push({ kind: 'start', request });
  }

  stop(request: StopRequest): void {
    if (!this.muted) this.items.push({ kind: 'stop', request });
  }

  deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.head < this.items.length) {
        const item = this.items[this.head++]!;
        if (item.kind === 'emit') this.emitter.emit(item.name, item.payload);
        else if (item.kind === 'start') this.executor.start(item.request);
        else this.executor.stop(item.request);
      }
      this.items.length = 0;
      this.head = 0;
    } finally {
      this.delivering = false;
    }
  }
}
