/**
 * A durable store in PostgreSQL for replicas of one orchestrator
 * (node-postgres): the journal and the snapshot in tables the store creates
 * itself (postgres/schema.ts), a lease with a fencing epoch (postgres/lease.ts),
 * and group commit. Design and bounds: docs/replicas.md.
 *
 * Use: `open` (connects, creates or migrates the tables), `leadership.waitForLease()`,
 * then `load()` (the state as this epoch found it), then `append` / `appendBatch` /
 * `compact`. Each write is ONE statement carrying this replica's epoch; the
 * database refuses it (`FencedError`) once another replica leads or the lease
 * ran out, so a replica that lost the lease writes nothing. One statement is
 * also one commit: no transaction stays open across round trips, so a paused
 * replica holds no lock that could stall the standby.
 *
 * Group commit: entries appended while a commit is under way wait and go
 * together into the next one (up to MAX_BATCH entries a statement); every
 * entry's promise resolves after the COMMIT that made it durable.
 *
 * A write that fails for another reason (connection lost, the server gone)
 * leaves its outcome unknown, so the store stops: every later write is
 * refused, and the replica must open a new store, acquire and load again.
 */
import pg from 'pg';
import type { JournalEntry } from '../ports.js';
import type { EngineSnapshot } from '../types.js';
import type { AsyncStore, Leadership, StoreState } from './asyncStore.js';
import { FENCED_SQLSTATE, FencedError, PostgresStoreError } from './postgres/errors.js';
import { Lease } from './postgres/lease.js';
import { describeTarget, resolveStoreOptions, type PostgresStoreOptions, type ResolvedStoreOptions } from './postgres/options.js';
import { readState } from './postgres/readState.js';
import { migrate } from './postgres/schema.js';

export { FencedError, PostgresStoreError, type FencedReason } from './postgres/errors.js';
export { DEFAULT_LEASE_MS, DEFAULT_RENEW_MS, DEFAULT_SCHEMA, type PostgresStoreOptions } from './postgres/options.js';
export { POSTGRES_SCHEMA_VERSION } from './postgres/schema.js';
export type { AsyncStore, Leadership, LeaseGrant, StoreState } from './asyncStore.js';

/** Entries in one INSERT at most; a longer queue is written in several commits, in order. */
const MAX_BATCH = 5_000;
/** Writer, renewals, and one spare for loads and acquire attempts. */
const POOL_SIZE = 3;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}
/** A write waiting its turn, with the epoch it was accepted in. */
type Pending =
  | ({ kind: 'append'; epoch: number; firstSeq: number; entries: readonly JournalEntry[] } & Waiter)
  | ({ kind: 'compact'; epoch: number; throughSeq: number; snapshot: EngineSnapshot } & Waiter);

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface WriteStats {
  /** Statements committed (one commit each): journal inserts and compactions. */
  commits: number;
  /** Journal entries committed. */
  entries: number;
}

export class PostgresStore implements AsyncStore {
  readonly leadership: Leadership;
  private readonly lease: Lease;
  private readonly s: string;
  private readonly queue: Pending[] = [];
  private draining = false;
  /** The epoch in which `load` last ran: appends need it to equal the current one. */
  private loadedEpoch: number | null = null;
  private lastSeq = 0;
  /** Set once a write failed other than by fencing (or on close): every later write is refused with it. */
  private broken: Error | null = null;
  private readonly counts: WriteStats = { commits: 0, entries: 0 };

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: ResolvedStoreOptions,
    readonly target: string,
  ) {
    this.s = pg.escapeIdentifier(options.schema);
    this.lease = new Lease(pool, this.s, options.holder, options.leaseMs, options.renewMs);
    this.leadership = this.lease;
    this.lease.onLost((error) => this.rejectQueued(error));
  }

  /** Connects and creates or migrates the tables. Throws `PostgresStoreError` (bad options, unreachable, foreign or newer tables). */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const resolved = resolveStoreOptions(options);
    const target = describeTarget(resolved.connectionString, resolved.schema);
    const pool = newPool(resolved.connectionString);
    try {
      const client = await connect(pool, target);
      try {
        await migrate(client, resolved.schema, target);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end();
      throw error instanceof PostgresStoreError ? error : new PostgresStoreError(target, `cannot prepare the tables: ${(error as Error).message}`);
    }
    return new PostgresStore(pool, resolved, target);
  }

  get holder(): string {
    return this.options.holder;
  }

  /** The epoch this replica leads in, or null. */
  get epoch(): number | null {
    return this.lease.current?.epoch ?? null;
  }

  /** Commits so far; with group commit, fewer than appends. */
  get stats(): WriteStats {
    return { ...this.counts };
  }

  /**
   * The snapshot and journal, read in one statement. A leader calls it after
   * acquiring (it then sees everything earlier epochs wrote) and before its
   * first append; without the lease it reads as an observer would.
   */
  async load(): Promise<StoreState> {
    const epoch = this.epoch;
    const state = await readState(this.pool, this.s);
    // The first load of an epoch says where its appends go on; later ones leave that alone.
    if (epoch !== null && this.epoch === epoch && this.loadedEpoch !== epoch) {
      this.loadedEpoch = epoch;
      this.lastSeq = state.lastSeq;
    }
    return { snapshot: state.snapshot, journal: state.journal };
  }

  append(entry: JournalEntry): Promise<void> {
    return this.appendBatch([entry]);
  }

  appendBatch(entries: readonly JournalEntry[]): Promise<void> {
    const epoch = this.writableEpoch();
    if (epoch instanceof Error) return Promise.reject(epoch);
    if (entries.length === 0) return Promise.resolve();
    const firstSeq = this.lastSeq + 1;
    this.lastSeq += entries.length;
    return this.enqueue({ kind: 'append', epoch, firstSeq, entries });
  }

  compact(snapshot: EngineSnapshot): Promise<void> {
    const epoch = this.writableEpoch();
    if (epoch instanceof Error) return Promise.reject(epoch);
    return this.enqueue({ kind: 'compact', epoch, throughSeq: this.lastSeq, snapshot });
  }

  /** Waits for the writes under way, gives the lease up (a standby takes over at once) and closes the connections. */
  async close(): Promise<void> {
    while (this.draining || this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    this.broken ??= new PostgresStoreError(this.target, 'the store is closed');
    try {
      await this.lease.release();
    } catch {
      // Unreachable: the lease runs out by itself.
    }
    this.lease.stopTimers();
    await this.pool.end();
  }

  /** The epoch a write made now would carry, or why none may be made. */
  private writableEpoch(): number | Error {
    if (this.broken !== null) return this.broken;
    const grant = this.lease.current;
    if (grant === null) return new FencedError('not_leader', null, `${this.holder} does not hold the lease; acquire it (leadership.waitForLease) and load before writing`);
    if (this.loadedEpoch !== grant.epoch) return new Error(`load() the store after acquiring epoch ${grant.epoch}, before writing to it`);
    return grant.epoch;
  }

  private enqueue(operation: DistributiveOmit<Pending, keyof Waiter>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...operation, resolve, reject } as Pending);
      if (!this.draining) {
        this.draining = true;
        // Everything appended in this tick joins the first commit.
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Writes the queue in order, one statement (one commit) per run of appends or per compaction. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        // Checked locally first: a replica that wakes up past its lease sends nothing (the database would refuse it anyway).
        if (this.lease.current?.epoch !== head.epoch) {
          this.rejectQueued(new FencedError('expired', head.epoch, `lease of epoch ${head.epoch} lost before these entries were written; nothing of them was recorded`));
          return;
        }
        if (head.kind === 'compact') {
          this.queue.shift();
          await this.write(head.epoch, [head], () => this.writeCompaction(head.epoch, head.throughSeq, head.snapshot));
          continue;
        }
        const run = this.takeAppends();
        await this.write(head.epoch, run, () => this.writeEntries(head.epoch, run));
      }
    } finally {
      this.draining = false;
    }
  }

  private takeAppends(): Array<Extract<Pending, { kind: 'append' }>> {
    const run: Array<Extract<Pending, { kind: 'append' }>> = [];
    let size = 0;
    while (this.queue[0]?.kind === 'append' && (run.length === 0 || size + this.queue[0].entries.length <= MAX_BATCH)) {
      const next = this.queue.shift() as Extract<Pending, { kind: 'append' }>;
      run.push(next);
      size += next.entries.length;
    }
    return run;
  }

  private async write(epoch: number, waiters: Waiter[], statement: () => Promise<void>): Promise<void> {
    try {
      await statement();
    } catch (error) {
      const failure = this.failure(error, epoch);
      for (const waiter of waiters) waiter.reject(failure);
      if (failure instanceof FencedError) this.lease.markLost(failure);
      else this.broken = failure;
      this.rejectQueued(failure);
      return;
    }
    this.counts.commits += 1;
    for (const waiter of waiters) waiter.resolve();
  }

  private async writeEntries(epoch: number, run: Array<Extract<Pending, { kind: 'append' }>>): Promise<void> {
    const entries = run.flatMap((operation) => operation.entries);
    // One JSON array for the whole batch: the server splits it, and `json` keeps each input's text as written.
    await this.pool.query(
      `INSERT INTO ${this.s}.journal (seq, epoch, at, input)
       SELECT $1::bigint + e.ord - 1, $2::bigint, (e.value->>'at')::float8, e.value->'input'
         FROM json_array_elements($3::json) WITH ORDINALITY AS e(value, ord)`,
      [run[0]!.firstSeq, epoch, JSON.stringify(entries.map((entry) => ({ at: entry.at, input: entry.input })))],
    );
    this.counts.entries += entries.length;
  }

  private async writeCompaction(epoch: number, throughSeq: number, snapshot: EngineSnapshot): Promise<void> {
    // One statement: a crash leaves the old snapshot with its journal, or the new snapshot with the entries after it.
    await this.pool.query(
      `WITH written AS (
         INSERT INTO ${this.s}.snapshot (id, epoch, through_seq, body) VALUES (1, $1, $2, $3::json)
         ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, through_seq = excluded.through_seq, body = excluded.body, written_at = clock_timestamp()
         RETURNING through_seq)
       DELETE FROM ${this.s}.journal WHERE seq <= (SELECT through_seq FROM written)`,
      [epoch, throughSeq, JSON.stringify(snapshot)],
    );
  }

  private failure(error: unknown, epoch: number): Error {
    const pgError = error as { code?: string; hint?: string; message?: string };
    if (pgError.code === FENCED_SQLSTATE) {
      return new FencedError(pgError.hint === 'superseded' ? 'superseded' : 'expired', epoch, `the database refused the write: ${pgError.message}`);
    }
    return new PostgresStoreError(this.target, `a write failed, its outcome is unknown, so this store stops (open a new one, acquire and load): ${pgError.message ?? String(error)}`);
  }

  /** Rejects everything still queued: none of it was sent. */
  private rejectQueued(error: Error): void {
    for (const pending of this.queue.splice(0)) pending.reject(error);
  }
}

export function newPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: POOL_SIZE, application_name: 'fleet-rollout' });
  // A connection that dies while idle must not end the process; the next query opens a new one.
  pool.on('error', () => undefined);
  return pool;
}

export async function connect(pool: pg.Pool, target: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw new PostgresStoreError(target, `cannot connect: ${(error as Error).message}`);
  }
}
