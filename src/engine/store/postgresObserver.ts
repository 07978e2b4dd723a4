/**
 * A read-only view of a PostgreSQL store, for status and watch: it reads the
 * snapshot and journal without the lease and never writes (not even to
 * migrate), so any number of observers may run beside the replicas.
 */
import pg from 'pg';
import type { StoreState } from './asyncStore.js';
import { PostgresStoreError } from './postgres/errors.js';
import { describeTarget, resolveObserverOptions, type PostgresObserverOptions } from './postgres/options.js';
import { readState } from './postgres/readState.js';
import { checkSchema } from './postgres/schema.js';
import { connect, newPool } from './postgresStore.js';

export type { PostgresObserverOptions } from './postgres/options.js';

/** Who leads, as the database sees it now. */
export interface LeaseView {
  /** null when no replica holds the lease (never taken, released, or expired). */
  holder: string | null;
  /** The epoch of the last leader (0: never led). */
  epoch: number;
  /** How long the holder's lease still runs, by the database's clock; 0 when it ran out. */
  expiresInMs: number;
}

export class PostgresObserver {
  private readonly s: string;

  private constructor(
    private readonly pool: pg.Pool,
    schema: string,
    readonly target: string,
  ) {
    this.s = pg.escapeIdentifier(schema);
  }

  /** Connects and checks that the database holds a store of this build's schema. Throws `PostgresStoreError`. */
  static async open(options: PostgresObserverOptions): Promise<PostgresObserver> {
    const { connectionString, schema } = resolveObserverOptions(options);
    const target = describeTarget(connectionString, schema);
    const pool = newPool(connectionString);
    try {
      const client = await connect(pool, target);
      try {
        await checkSchema(client, schema, target);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end();
      throw error instanceof PostgresStoreError ? error : new PostgresStoreError(target, `cannot read the tables: ${(error as Error).message}`);
    }
    return new PostgresObserver(pool, schema, target);
  }

  /** The snapshot and the journal after it, as committed when the read began. */
  async load(): Promise<StoreState> {
    const { snapshot, journal } = await readState(this.pool, this.s);
    return { snapshot, journal };
  }

  async lease(): Promise<LeaseView> {
    const { rows } = await this.pool.query<{ holder: string | null; epoch: string; expires_in_ms: number }>(
      `SELECT holder, epoch, greatest(0, extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS expires_in_ms FROM ${this.s}.lease WHERE id = 1`,
    );
    const row = rows[0]!;
    const running = row.holder !== null && row.expires_in_ms > 0;
    return { holder: running ? row.holder : null, epoch: Number(row.epoch), expiresInMs: running ? row.expires_in_ms : 0 };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
