/** The two ways a PostgreSQL store refuses: a database it cannot use, and a write from a replica that no longer leads. */

/** The database (or the options) cannot be used as a fleet-rollout store; `target` names it, the message says why and what to do. */
export class PostgresStoreError extends Error {
  override readonly name = 'PostgresStoreError';
  constructor(
    readonly target: string,
    reason: string,
  ) {
    super(`${target}: ${reason}`);
  }
}

export type FencedReason =
  /** This replica never acquired the lease (or released it). */
  | 'not_leader'
  /** Another replica acquired the lease since: its epoch is higher. */
  | 'superseded'
  /** The lease ran out (in database time) before it was renewed. */
  | 'expired';

/**
 * A write or renewal refused because this replica no longer holds the lease
 * of `epoch`. Nothing of the refused write was recorded; the replica must stop
 * acting, and may only lead again through a new `acquire` (a new epoch) and a
 * fresh `load`.
 */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(
    readonly reason: FencedReason,
    readonly epoch: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** SQLSTATE raised by the store's fencing triggers (a class of its own, unused by PostgreSQL). */
export const FENCED_SQLSTATE = 'FR001';
