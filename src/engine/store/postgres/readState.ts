/**
 * Reads the snapshot and the journal after it in ONE statement, so writer and
 * observer alike see one consistent state (a statement has one snapshot of
 * the database) without holding a transaction open across round trips.
 */
import type pg from 'pg';
import type { JournalEntry } from '../../ports.js';
import type { EngineSnapshot } from '../../types.js';
import type { StoreState } from '../asyncStore.js';

interface StateRow {
  part: 0 | 1;
  seq: string;
  at: number | null;
  body: unknown;
}

/** The state plus the highest sequence number in use (0 for a new store), where a writer goes on. */
export async function readState(queryable: pg.Pool | pg.ClientBase, s: string): Promise<StoreState & { lastSeq: number }> {
  const { rows } = await queryable.query<StateRow>(
    `SELECT 0 AS part, through_seq AS seq, NULL::float8 AS at, body FROM ${s}.snapshot
     UNION ALL
     SELECT 1, seq, at, input FROM ${s}.journal WHERE seq > coalesce((SELECT through_seq FROM ${s}.snapshot), 0)
     ORDER BY part, seq`,
  );
  let snapshot: EngineSnapshot | null = null;
  let lastSeq = 0;
  const journal: JournalEntry[] = [];
  for (const row of rows) {
    lastSeq = Math.max(lastSeq, Number(row.seq));
    if (row.part === 0) snapshot = row.body as EngineSnapshot;
    else journal.push({ at: row.at!, input: row.body as JournalEntry['input'] });
  }
  return { snapshot, journal, lastSeq };
}
