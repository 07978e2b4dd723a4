/**
 * Crash safety (ports.ts `Store`: "the engine writes each input before acting on it, so a
 * crash loses nothing"; architecture "Persistence": restore re-arms deadlines and replays
 * the journal). Real processes, real timers, a real SIGKILL: the fixtures run with plain
 * `node` on the compiled package, built once here into a directory of this file's own
 * (test files run in parallel and must not race on dist/).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentStatus } from '../src/engine/types.js';
import { SqliteStore } from '../src/engine/store/sqliteStore.js';

const ROOT = join(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');
/** Under the repository, so the compiled files find node_modules by walking up. */
const BUILD = join(ROOT, 'node_modules', '.cache', 'fleet-rollout-crash-tests');

let dir: string;
let buildOutput = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-crash-'));
  rmSync(BUILD, { recursive: true, force: true });
  // tsc emits despite type errors elsewhere; each test checks that the files it runs were built.
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD], { cwd: ROOT, encoding: 'utf8' });
  buildOutput = build.stdout + build.stderr;
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function requireBuilt(...files: string[]): void {
  const missing = files.filter((file) => !existsSync(join(BUILD, file)));
  if (missing.length > 0) throw new Error(`the build did not produce ${missing.join(', ')} in ${BUILD}:\n${buildOutput}`);
}
const ENGINE_FILES = ['src/engine/index.js', 'src/engine/store/sqliteStore.js'];

/** A child process whose stdout is parsed as one JSON object (or plain text) a line. */
class Child {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly process: ChildProcess;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(script: string, args: string[]) {
    this.process = spawn(process.execPath, [join(FIXTURES, script), ...args], {
      cwd: ROOT,
      env: { ...process.env, FLEET_ROLLOUT_DIST: BUILD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const complete = buffered.split('\n');
      buffered = complete.pop()!;
      for (const line of complete) this.lines.push(line.startsWith('{') ? JSON.parse(line) : { text: line });
      for (const wake of this.waiters) wake();
    });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    // 'close', not 'exit': by then every line the child wrote has been read.
    this.exited = new Promise((resolve) =>
      this.process.on('close', (code, signal) => {
        this.closed = true;
        for (const wake of this.waiters) wake();
        resolve({ code, signal });
      }),
    );
  }

  /** Resolves once `holds` is true of the lines so far; rejects if the child exits first or `ms` pass. */
  waitFor(holds: (lines: Array<Record<string, unknown>>) => boolean, what: string, ms = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`timed out after ${ms} ms`), ms);
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(new Error(`waiting for ${what}: ${why}\nstdout:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${this.stderr.join('')}`));
      };
      const check = (): void => {
        if (holds(this.lines)) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        } else if (this.closed) {
          fail(`the child exited (${this.process.exitCode ?? this.process.signalCode})`);
        }
      };
      this.waiters.push(check);
      check();
    });
  }

  async kill(): Promise<void> {
    this.process.kill('SIGKILL');
    const { signal } = await this.exited;
    expect(signal).toBe('SIGKILL');
  }

  of(kind: string, type?: string): Array<Record<string, unknown>> {
    return this.lines.filter((l) => l.kind === kind && (type === undefined || l.type === type));
  }
}

function orchestrator(db: string, fleet: string, scenario: object): Child {
  return new Child('crash-orchestrator.mjs', [db, fleet, JSON.stringify(scenario)]);
}

async function finalStatus(child: Child): Promise<DeploymentStatus> {
  await child.waitFor((lines) => lines.some((l) => l.kind === 'final' || l.kind === 'timeout'), 'the rollout to end');
  const { code } = await child.exited;
  const final = child.lines.find((l) => l.kind === 'final' || l.kind === 'timeout')!;
  expect(final.kind, `rollout did not end; stderr:\n${child.stderr.join('')}`).toBe('final');
  expect(code).toBe(0);
  return final.status as DeploymentStatus;
}

/** A third process on the same files: it must restore the finished rollout exactly, starting nothing. */
async function reopened(db: string, fleet: string, scenario: object): Promise<{ status: DeploymentStatus; child: Child }> {
  const child = orchestrator(db, fleet, scenario);
  const status = await finalStatus(child);
  return { status, child };
}

/** Every execution id an `update` start used, per node, over all processes. */
function updateExecutionIds(children: Child[]): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  for (const child of children) {
    for (const start of child.of('exec.start')) {
      if (start.purpose !== 'update') continue;
      const node = start.node as string;
      if (!ids.has(node)) ids.set(node, new Set());
      ids.get(node)!.add(start.executionId as string);
    }
  }
  return ids;
}

describe('SqliteStore under SIGKILL', () => {
  // `normal` skips the fsync but must still survive a process crash (only power loss can cost it entries).
  it.each(['full', 'normal'] as const)('synchronous=%s: every append that returned is in the file after the process is killed', async (synchronous) => {
    requireBuilt('src/engine/store/sqliteStore.js');
    const db = join(dir, `append-${synchronous}.db`);
    const child = new Child('append-until-killed.mjs', [db, synchronous]);
    await child.waitFor((lines) => lines.length >= 300, '300 appends');
    await child.kill();
    const acknowledged = child.lines.filter((l) => 'text' in l).length;

    const store = new SqliteStore(db); // also proves the dead process's lock is gone
    const { journal } = store.load();
    store.close();
    expect(journal.length).toBeGreaterThanOrEqual(acknowledged);
    expect(journal.map((entry) => entry.at)).toEqual(journal.map((_, i) => i)); // no gap, no reordering
  });
});

describe('engine on SqliteStore: SIGKILL mid-rollout, then resume', () => {
  it('§4 §5 rolling: killed after 3 nodes are stable, a second process completes the rollout with nothing lost', async () => {
    requireBuilt(...ENGINE_FILES);
    const db = join(dir, 'stable.db');
    const fleet = join(dir, 'stable-fleet.json');
    const scenario = { nodes: 8, max_parallel: 2, min_healthy_time: '200ms', deadline: '5s' };

    const first = orchestrator(db, fleet, scenario);
    await first.waitFor((lines) => lines.filter((l) => l.type === 'node.stable').length >= 3, '3 stable nodes');
    await first.kill();
    const stableBeforeKill = first.of('event', 'node.stable').map((e) => e.node);

    const second = orchestrator(db, fleet, scenario);
    const status = await finalStatus(second);

    const [submittedFirst] = first.of('submitted');
    const [submittedAgain] = second.of('submitted');
    expect(submittedFirst).toMatchObject({ job: 'default/web', version: 1, unchanged: false });
    expect(submittedAgain).toMatchObject({ job: 'default/web', version: 1, unchanged: true, deployment: null });

    expect(status).toMatchObject({ state: 'completed', to_version: 1, targeted: 8, failed_nodes: [] });
    expect(status.counts).toMatchObject({ stable: 8, failed: 0, updating: 0, pending: 0 });
    for (const [node, ids] of updateExecutionIds([first, second])) {
      expect([...ids], `${node} started twice with different execution ids`).toHaveLength(1);
    }
    expect(updateExecutionIds([first, second]).size).toBe(8);
    // Nodes stable before the kill were not started again with a fresh execution.
    const restarted = second.of('exec.start').filter((s) => s.fresh && stableBeforeKill.includes(s.node));
    expect(restarted).toEqual([]);
    expect(status.max_in_flight).toBeLessThanOrEqual(2);

    // What the resumed process journaled replays to the same end.
    const third = await reopened(db, fleet, scenario);
    expect(third.status).toEqual(status);
    expect(third.child.of('exec.start').filter((s) => s.fresh)).toEqual([]);
  });

  it('§4 v1.1 killed while nodes are updating: a passing streak and a deadline resume with the time they had left', async () => {
    requireBuilt(...ENGINE_FILES);
    const db = join(dir, 'updating.db');
    const fleet = join(dir, 'updating-fleet.json');
    // edge-01..03 form the first window; edge-03 never passes, so only its deadline can resolve it.
    const minHealthyMs = 1500;
    const deadlineMs = 4000;
    const scenario = { nodes: 5, max_parallel: 3, min_healthy_time: '1500ms', deadline: '4s', report_every_ms: 100, broken: ['edge-03'], max_failed_nodes_percent: 50 };

    const first = orchestrator(db, fleet, scenario);
    await first.waitFor((lines) => lines.some((l) => l.kind === 'first_report' && l.node === 'edge-01'), 'edge-01 to report');
    await new Promise((resolve) => setTimeout(resolve, 600)); // mid-streak: well short of min_healthy_time
    await first.kill();
    const killedAt = Date.now(); // the engine stopped before this
    expect(first.of('event', 'node.stable').filter((e) => e.node === 'edge-01')).toEqual([]); // still mid-streak when killed
    await new Promise((resolve) => setTimeout(resolve, 1000)); // an outage longer than what the streak had left
    const restartedAt = Date.now();

    const second = orchestrator(db, fleet, scenario);
    const status = await finalStatus(second);

    const eventFor = (child: Child, type: string, node: string): Record<string, unknown> => {
      const found = child.of('event', type).find((e) => e.node === node);
      if (found === undefined) throw new Error(`no ${type} for ${node}; stdout:\n${child.lines.map((l) => JSON.stringify(l)).join('\n')}`);
      return found;
    };
    const firstReport = (child: Child, node: string): number => child.of('first_report').find((r) => r.node === node)!.at as number;

    // Streak: the outage counts for nothing: stable once the rest of min_healthy_time has run after the
    // restart (not during the outage), and sooner than a streak restarted by the second process's reports.
    const streakRanBeforeKill = killedAt - firstReport(first, 'edge-01');
    const stableAt = eventFor(second, 'node.stable', 'edge-01').at as number;
    expect(stableAt).toBeGreaterThanOrEqual(restartedAt + minHealthyMs - streakRanBeforeKill);
    expect(stableAt).toBeLessThan(firstReport(second, 'edge-01') + minHealthyMs);

    // Deadline: what was left of it at the kill runs after the restart; not re-armed in full (its start was delivered).
    const startedAt = eventFor(first, 'node.started', 'edge-03').at as number;
    const failed = eventFor(second, 'node.failed', 'edge-03');
    expect(failed.reason).toBe('deadline_exceeded');
    expect(failed.at as number).toBeGreaterThanOrEqual(restartedAt + deadlineMs - (killedAt - startedAt));
    // At least 600 ms of it had run before the kill; the engine's estimate of its stop errs late by at most
    // one report interval (100 ms). A deadline re-armed in full would end at least deadlineMs after recovery.
    const recoveredBy = second.of('ready')[0]!.at as number;
    expect(failed.at as number).toBeLessThan(recoveredBy + deadlineMs - 200);

    expect(status).toMatchObject({ state: 'completed', failed_nodes: ['edge-03'] });
    expect(status.counts).toMatchObject({ stable: 4, failed: 1, updating: 0, pending: 0 });
    for (const [node, ids] of updateExecutionIds([first, second])) {
      expect([...ids], `${node} started twice with different execution ids`).toHaveLength(1);
    }

    // What the resumed process journaled (restored timers firing included) replays to the same end.
    const third = await reopened(db, fleet, scenario);
    expect(third.status).toEqual(status);
    expect(third.child.of('exec.start').filter((s) => s.fresh)).toEqual([]);
  });
});
