/**
 * Replay testing, as Temporal's `runReplayHistory`: a journal recorded by a
 * real store (`SqliteStore` or `MemoryStore`, what `load()` returns) is run
 * through this version of the engine, in virtual time, and the journal this
 * engine writes is compared with the recorded one, entry by entry. The
 * inputs from outside (specs, nodes, reports, commands) are fed as recorded;
 * the engine's own decisions show as its timer firings (deadlines, streaks,
 * timeouts), so a changed rule shows as a timer that fires at another time,
 * for another node, or not at all. The first difference is reported.
 */
import { feedInput } from '../engine/feedInput.js';
import { openEngine, type Engine } from '../engine/index.js';
import type { Clock, JournalEntry, Store, TimerHandle } from '../engine/ports.js';
import type { EngineSnapshot, EngineOptions } from '../engine/types.js';
import { recordTrace, type TraceEvent } from '../sim/trace.js';

export interface Divergence {
  /** Index of the recorded journal entry where this engine first differs. */
  index: number;
  /** Time of the difference, in seconds of the recorded clock. */
  t: number;
  recorded: JournalEntry | null;
  /** What this engine journaled there instead (null: nothing). */
  replayed: JournalEntry | null;
  message: string;
}

export interface ReplayResult {
  /** True when this engine wrote the recorded journal exactly. */
  ok: boolean;
  divergence: Divergence | null;
  /** Recorded entries replayed before the divergence (all of them when ok). */
  replayed: number;
  /** The trace of this engine's run (up to the divergence). */
  trace: TraceEvent[];
}

export interface ReplayOptions extends Pick<EngineOptions, 'maxConcurrentUpdates'> {
  /** Also put the engine's decisions in the trace. */
  decisions?: boolean;
}

/** Replays `history` (a store's `load()`) on this engine version and reports where its decisions differ. */
export function replayJournal(history: { snapshot: EngineSnapshot | null; journal: readonly JournalEntry[] }, options: ReplayOptions = {}): ReplayResult {
  const recorded = history.journal;
  const clock = new ReplayClock(recorded[0]?.at ?? 0);
  const written: JournalEntry[] = [];
  const store: Store = {
    load: () => ({ snapshot: history.snapshot, journal: [] }),
    append: (entry) => void written.push(JSON.parse(JSON.stringify(entry)) as JournalEntry),
    compact: () => {},
  };
  const executor = { start: () => {}, stop: () => {} };
  const engine = openEngine({ clock, executor, store }, { compactEvery: Number.MAX_SAFE_INTEGER, ...(options.maxConcurrentUpdates === undefined ? {} : { maxConcurrentUpdates: options.maxConcurrentUpdates }) });
  const trace = recordTrace(engine, { decisions: options.decisions === true });

  const differs = (index: number): Divergence | null => {
    const mine = written[index] ?? null;
    const theirs = recorded[index] ?? null;
    if (mine !== null && theirs !== null && canonical(mine) === canonical(theirs)) return null;
    if (mine === null && theirs === null) return null;
    return { index, t: (theirs ?? mine)!.at / 1000, recorded: theirs, replayed: mine, message: explain(index, theirs, mine) };
  };

  for (let i = 0; i < recorded.length; i++) {
    const entry = recorded[i]!;
    // This engine's timers due before the recorded input fire first: each is a decision the recording does not have there.
    while (clock.nextDue() !== null && clock.nextDue()! < entry.at) {
      clock.fireNext();
      const divergence = differs(written.length - 1);
      if (divergence !== null) return { ok: false, divergence, replayed: i, trace };
    }
    clock.setTime(entry.at);
    if (entry.input.type === 'timer') {
      if (clock.nextDue() === entry.at) clock.fireNext();
    } else {
      feedInput(engine, entry.input);
    }
    const divergence = differs(i) ?? (written.length > i + 1 ? differs(i + 1) : null);
    if (divergence !== null) return { ok: false, divergence, replayed: i, trace };
  }
  return { ok: true, divergence: null, replayed: recorded.length, trace };
}


function explain(index: number, recorded: JournalEntry | null, replayed: JournalEntry | null): string {
  const at = (entry: JournalEntry): string => `${entry.at / 1000}s`;
  if (recorded === null) return `after the recorded journal ended, this engine went on with ${describe(replayed!)} at ${at(replayed!)}`;
  if (replayed === null) return `entry #${index}: the recording has ${describe(recorded)} at ${at(recorded)}; this engine had no such timer due`;
  return `entry #${index}: the recording has ${describe(recorded)} at ${at(recorded)}; this engine has ${describe(replayed)} at ${at(replayed)}`;
}

function describe(entry: JournalEntry): string {
  const input = entry.input;
  if (input.type === 'timer') return `the ${input.kind} timer of ${input.deployment}${input.node === null ? '' : ` for ${input.node}`}`;
  return `input ${input.type}`;
}

/** JSON with sorted keys: two stores may keep an object's keys in different orders. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

/**
 * The replay's clock: time is set to each recorded entry's instant without
 * firing what is due then, so a recorded input and a timer due at the same
 * instant go in the recorded order. Only the engine's timers live here.
 */
class ReplayClock implements Clock {
  private timers: Array<{ at: number; seq: number; fire: (() => void) | null }> = [];
  private seq = 0;

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  schedule(at: number, fire: () => void): TimerHandle {
    const timer = { at: Math.max(at, this.current), seq: this.seq++, fire };
    // Binary insertion after every timer due at the same instant: scheduling order breaks ties.
    let low = 0;
    let high = this.timers.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.timers[mid]!.at <= timer.at) low = mid + 1;
      else high = mid;
    }
    this.timers.splice(low, 0, timer);
    return timer;
  }

  cancel(handle: TimerHandle): void {
    (handle as { fire: (() => void) | null }).fire = null;
  }

  nextDue(): number | null {
    while (this.timers.length > 0 && this.timers[0]!.fire === null) this.timers.shift();
    return this.timers[0]?.at ?? null;
  }

  setTime(at: number): void {
    if (at > this.current) this.current = at;
  }

  fireNext(): void {
    if (this.nextDue() === null) return;
    const timer = this.timers.shift()!;
    this.current = Math.max(this.current, timer.at);
    const fire = timer.fire!;
    timer.fire = null;
    fire();
  }
}
