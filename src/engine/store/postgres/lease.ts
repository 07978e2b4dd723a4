/**
 * Leadership of the replicas on one store: one lease row (holder, epoch,
 * expires_at) in the database. Every decision about it is taken by the
 * database in one statement on its own clock (`clock_timestamp()`), so a
 * replica's clock never matters, only the rate of its monotonic timer for the
 * local view `isLeader()`. No session state (advisory locks, LISTEN, SET), so
 * it works behind a transaction-pooling proxy such as PgBouncer.
 *
 * Leadership is real time by nature (it coordinates processes), so this file
 * uses real timers, never the engine's clock port.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { LeaseGrant, Leadership } from '../asyncStore.js';
import { FencedError } from './errors.js';

interface LeaseRow {
  taken: string | null;
  holder: string | null;
  epoch: string;
  remaining_ms: number;
  expired_ms_ago: number;
  renewed_ms_ago: number;
}

export class Lease implements Leadership {
  private grant: LeaseGrant | null = null;
  /** Monotonic time until which the lease is surely ours: when the last successful renewal was sent, plus the lease length. */
  private validUntil = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(error: Error) => void>();

  /** `s`: the store's schema, quoted. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly s: string,
    readonly holder: string,
    readonly leaseMs: number,
    readonly renewMs: number,
  ) {}

  /** The grant while this replica leads, else null. */
  get current(): LeaseGrant | null {
    return this.isLeader() ? this.grant : null;
  }

  isLeader(): boolean {
    return this.grant !== null && performance.now() < this.validUntil;
  }

  async acquire(): Promise<LeaseGrant | null> {
    return (await this.tryAcquire()).grant;
  }

  async waitForLease(signal?: AbortSignal): Promise<LeaseGrant> {
    for (;;) {
      signal?.throwIfAborted();
      const { grant, retryInMs } = await this.tryAcquire();
      if (grant !== null) return grant;
      // Wake when the holder's lease is due to run out, unless it renews meanwhile (then it tells the new due time).
      await sleep(Math.min(Math.max(retryInMs, 1), this.leaseMs), signal);
    }
  }

  onLost(listener: (error: Error) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async release(): Promise<void> {
    const grant = this.grant;
    this.stopTimers();
    this.grant = null;
    if (grant === null) return;
    await this.pool.query(`UPDATE ${this.s}.lease SET holder = NULL, expires_at = clock_timestamp() WHERE id = 1 AND holder = $1 AND epoch = $2`, [grant.holder, grant.epoch]);
  }

  /** A write of this epoch was refused by the database: the lease is gone even if the local view has not seen it yet. */
  markLost(error: FencedError): void {
    if (this.grant === null || error.epoch !== this.grant.epoch) return;
    this.lose(error);
  }

  /** Stops renewing without releasing (on close after a loss, or to let the lease run out in tests). */
  stopTimers(): void {
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
  }

  private async tryAcquire(): Promise<{ grant: LeaseGrant | null; retryInMs: number }> {
    if (this.isLeader()) return { grant: this.grant, retryInMs: 0 };
    const sentAt = performance.now();
    // The outer SELECT sees the row as it was before the UPDATE: who held it, and for how much longer.
    const { rows } = await this.pool.query<LeaseRow>(
      `WITH taken AS (
         UPDATE ${this.s}.lease
            SET holder = $1, epoch = epoch + 1, expires_at = clock_timestamp() + $2 * interval '1 millisecond', renewed_at = clock_timestamp()
          WHERE id = 1 AND (holder IS NULL OR expires_at <= clock_timestamp())
          RETURNING epoch)
       SELECT (SELECT epoch FROM taken) AS taken, holder, epoch,
              greatest(0, extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS remaining_ms,
              greatest(0, extract(epoch FROM clock_timestamp() - expires_at) * 1000)::float8 AS expired_ms_ago,
              greatest(0, extract(epoch FROM clock_timestamp() - renewed_at) * 1000)::float8 AS renewed_ms_ago
         FROM ${this.s}.lease WHERE id = 1`,
      [this.holder, this.leaseMs],
    );
    const row = rows[0]!;
    if (row.taken === null) return { grant: null, retryInMs: row.holder === null ? 0 : row.remaining_ms };
    this.grant = { holder: this.holder, epoch: Number(row.taken) };
    if (row.holder !== null) this.grant.takeover = { from: row.holder, afterExpiryMs: row.expired_ms_ago, sinceRenewalMs: row.renewed_ms_ago };
    this.renewed(sentAt);
    return { grant: this.grant, retryInMs: 0 };
  }

  private renewed(sentAt: number): void {
    this.validUntil = sentAt + this.leaseMs;
    this.stopTimers();
    this.renewTimer = setTimeout(() => void this.renew(), this.renewMs).unref();
    // Fires when no renewal made it in time: a process paused (SIGSTOP) or cut off finds out here on waking.
    this.expiryTimer = setTimeout(() => this.checkExpiry(), Math.max(0, this.validUntil - performance.now()) + 1).unref();
  }

  private async renew(): Promise<void> {
    const grant = this.grant;
    if (grant === null || !this.checkExpiry()) return;
    const sentAt = performance.now();
    let row: { renewed: string | null; holder: string | null; epoch: string } | undefined;
    try {
      const { rows } = await this.pool.query<{ renewed: string | null; holder: string | null; epoch: string }>({
        text: `WITH renewed AS (
                 UPDATE ${this.s}.lease SET expires_at = clock_timestamp() + $3 * interval '1 millisecond', renewed_at = clock_timestamp()
                  WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > clock_timestamp()
                  RETURNING epoch)
               SELECT (SELECT epoch FROM renewed) AS renewed, holder, epoch FROM ${this.s}.lease WHERE id = 1`,
        values: [grant.holder, grant.epoch, this.leaseMs],
        // A renewal that cannot finish within one interval is retried rather than awaited.
        query_timeout: this.renewMs,
      } as pg.QueryConfig);
      row = rows[0];
    } catch {
      // Unreachable database: retry at the next interval; the expiry timer ends leadership if none succeeds.
    }
    if (this.grant !== grant) return; // released or lost meanwhile
    if (row === undefined) {
      this.renewTimer = setTimeout(() => void this.renew(), this.renewMs).unref();
      return;
    }
    if (row.renewed !== null) return this.renewed(sentAt);
    const superseded = Number(row.epoch) !== grant.epoch;
    this.lose(
      new FencedError(
        superseded ? 'superseded' : 'expired',
        grant.epoch,
        superseded
          ? `lease of epoch ${grant.epoch} lost: epoch ${row.epoch} (holder ${row.holder ?? 'none'}) leads now`
          : `lease of epoch ${grant.epoch} expired before it was renewed`,
      ),
    );
  }

  /** True while the lease is valid; otherwise ends leadership and says so. */
  private checkExpiry(): boolean {
    if (this.grant === null) return false;
    if (performance.now() < this.validUntil) return true;
    this.lose(new FencedError('expired', this.grant.epoch, `lease of epoch ${this.grant.epoch} not renewed within ${this.leaseMs} ms; this replica stops acting`));
    return false;
  }

  private lose(error: FencedError): void {
    this.stopTimers();
    this.grant = null;
    this.validUntil = 0;
    for (const listener of this.listeners) {
      try {
        listener(error);
      } catch (thrown) {
        // One listener's failure must not keep the others from hearing that leadership ended.
        process.emitWarning(`a lease listener threw: ${(thrown as Error)?.message ?? String(thrown)}`);
      }
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
