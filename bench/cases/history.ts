/**
 * Bounded history (issue 9, contract §7 v1.1): `deployments` small
 * deployments one after another, alternating over a few jobs on a few nodes
 * (immediate; every 7th version fails on a node and rolls back), through the
 * MemoryStore and the SqliteStore with compaction. Every `every` deployments:
 * the live heap after a full GC, the size of what the store holds (the
 * snapshot and journal; for SQLite the database file with its WAL) and the
 * time to reopen an engine from the store (the bench goes on with the
 * reopened one). Flat after the first `historyLimit` deployments per job.
 * SQLite runs with `synchronous: 'normal'`: what is measured is size, not fsync.
 * Usage: `node --expose-gc dist/bench/case.js history 100000 10000`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hrtime } from 'node:process';
import { DEFAULT_HISTORY_LIMIT, MemoryStore, openEngine, VirtualClock, type Engine, type Executor, type Store } from '../../src/engine/index.js';
import { SqliteStore } from '../../src/engine/store/sqliteStore.js';
import { validateJobSpec } from '../../src/spec/index.js';
import type { JobSpec } from '../../src/spec/types.js';
import { heapUsedAfterGc } from '../memory.js';

const JOBS = 3;
const NODES = 4;

export interface HistoryPoint {
  deployments: number;
  heap_used: number;
  store_bytes: number;
  reopen_ms: number;
  kept_deployments: number;
}

export interface HistoryResult {
  case: 'history';
  deployments: number;
  jobs: number;
  nodes: number;
  history_limit: number;
  every: number;
  memory: HistoryPoint[];
  sqlite: HistoryPoint[];
  wall_ms: number;
}

const executor: Executor = { start: () => undefined, stop: () => undefined };

function spec(job: number, release: number): JobSpec {
  const result = validateJobSpec({ name: `history-${job}`, type: 'pipeline', config: { release }, deployment: { strategy: 'immediate', max_failed_nodes: 0 } });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

/** One deployment of `job`: its nodes start it; every 7th release fails on one node and is reverted. */
function deploy(engine: Engine, job: number, release: number): void {
  const name = `default/history-${job}`;
  const { version, deployment } = engine.submit(spec(job, release));
  if (deployment === null) throw new Error(`release ${release} of ${name} was unchanged`);
  const fails = release % 7 === 0 && release > JOBS;
  for (let n = 0; n < NODES; n++) {
    const node = `edge-${n}`;
    engine.reportExecution({ node, job: name, version, status: fails && n === 0 ? 'failed' : 'started' });
    if (fails && n === 0) break;
  }
  if (!fails) return;
  const target = engine.status(deployment)!.rollback_target!;
  for (let n = 0; n < NODES; n++) engine.reportExecution({ node: `edge-${n}`, job: name, version: target, status: 'started' });
  if (engine.status(deployment)!.state !== 'rolled_back') throw new Error(`${deployment} did not roll back`);
}

async function curve(deployments: number, every: number, openStore: () => Store, storeBytes: (store: Store) => number): Promise<HistoryPoint[]> {
  const clock = new VirtualClock();
  let store = openStore();
  let engine = openEngine({ executor, clock, store });
  for (let n = 0; n < NODES; n++) engine.upsertNode({ id: `edge-${n}`, labels: {}, connected: true });
  const points: HistoryPoint[] = [];
  for (let i = 1; i <= deployments; i++) {
    deploy(engine, i % JOBS, i);
    // A second between deployments: the virtual clock drops the cancelled revert timers once their time has passed.
    clock.advanceBy(1_000);
    if (i % every !== 0) continue;
    const kept = engine.deployments().length;
    engine.dispose();
    (store as { close?: () => void }).close?.();
    const started = hrtime.bigint();
    store = openStore();
    engine = openEngine({ executor, clock, store });
    const reopenMs = Number(hrtime.bigint() - started) / 1e6;
    // A turn of the event loop, as any real caller gets: a reopened engine delivers what it recovered in a microtask,
    // and until that runs the disposed engines stay reachable (a synchronous loop measured them as a slow growth).
    await new Promise((resolve) => setImmediate(resolve));
    points.push({ deployments: i, heap_used: heapUsedAfterGc(), store_bytes: storeBytes(store), reopen_ms: reopenMs, kept_deployments: kept });
  }
  engine.dispose();
  (store as { close?: () => void }).close?.();
  return points;
}

function fileBytes(path: string): number {
  let total = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      total += statSync(file).size;
    } catch {
      // no WAL file right now
    }
  }
  return total;
}

export async function runHistory(deployments: number, every: number): Promise<HistoryResult> {
  const started = hrtime.bigint();
  const memoryStore = new MemoryStore();
  const memory = await curve(deployments, every, () => memoryStore, (s) => {
    const { snapshot, journal } = (s as MemoryStore).load();
    return JSON.stringify(snapshot).length + journal.reduce((sum, entry) => sum + JSON.stringify(entry).length, 0);
  });
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-history-'));
  try {
    const file = join(dir, 'history.db');
    const sqlite = await curve(deployments, every, () => new SqliteStore(file, { synchronous: 'normal' }), () => fileBytes(file));
    return {
      case: 'history',
      deployments,
      jobs: JOBS,
      nodes: NODES,
      history_limit: DEFAULT_HISTORY_LIMIT,
      every,
      memory,
      sqlite,
      wall_ms: Number(hrtime.bigint() - started) / 1e6,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
