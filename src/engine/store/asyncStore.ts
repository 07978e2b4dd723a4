/**
 * The asynchronous store port, for stores behind a network (PostgreSQL), and
 * the leadership port that replicas sharing one store need. The engine's
 * synchronous `Store` (ports.ts) stays as it is for the embedded stores; the
 * engine integration adopts these two (docs/replicas.md, "For the engine").
 *
 * Write-ahead with group commit: `append` hands the entry over at once (its
 * place in the journal is the order of the calls) and resolves when the entry
 * is durable. Entries appended while a commit is under way go together into
 * the next one, so many inputs share one commit; the engine acts on an input
 * (delivers its effects) only once its promise resolved.
 */
import type { JournalEntry } from '../ports.js';
import type { EngineSnapshot } from '../types.js';

export interface StoreState {
  snapshot: EngineSnapshot | null;
  /** The entries accepted after the snapshot, in append order. */
  journal: JournalEntry[];
}

export interface AsyncStore {
  /** The snapshot and the journal since it, read in one consistent view. */
  load(): Promise<StoreState>;
  /** Resolves once `entry` is durable; entries appended together share one commit. */
  append(entry: JournalEntry): Promise<void>;
  /** The same for several entries at once (one inventory or report batch): all durable, in order, when it resolves. */
  appendBatch(entries: readonly JournalEntry[]): Promise<void>;
  /**
   * Replaces the snapshot and drops the journal entries it covers: every entry
   * appended before this call (in call order), none appended after it. Retention
   * (forgetting old deployments) is the engine's: it hands a trimmed snapshot.
   */
  compact(snapshot: EngineSnapshot): Promise<void>;
  /** Waits for the writes under way, then closes the connections. */
  close(): Promise<void>;
}

/** What a replica holds while it leads: the epoch stamped on every write it makes. */
export interface LeaseGrant {
  holder: string;
  /** Grows by one at every change of leader; a write carrying an older epoch is refused by the database. */
  epoch: number;
  /**
   * Set when the lease was taken from a replica whose lease ran out (not
   * released): who it was, how long after its expiry the takeover came and
   * how long before it that replica last renewed (it was alive then: the
   * engine counts downtime from it, §4 v1.1), all as the database saw them.
   */
  takeover?: { from: string; afterExpiryMs: number; sinceRenewalMs: number };
}

export interface Leadership {
  /** One attempt: the grant when the lease was free or expired, null while another replica holds it. */
  acquire(): Promise<LeaseGrant | null>;
  /** Tries until the lease is ours (waking when the holder's lease is due to expire); rejects when `signal` aborts. */
  waitForLease(signal?: AbortSignal): Promise<LeaseGrant>;
  /**
   * True while this replica may act: its last renewal, counted from when it
   * was sent, is younger than the lease length (a local, monotonic clock). Check
   * it right before every executor call; the database fences writes regardless.
   */
  isLeader(): boolean;
  /** Called once when the lease is lost (renewal refused or overdue, a write fenced). The engine stops acting. */
  onLost(listener: (error: Error) => void): () => void;
  /** Gives the lease up at once, so a standby need not wait for it to expire. */
  release(): Promise<void>;
}
