/**
 * `watch --store PATH_OR_URL [JOB]`: follows a real rollout from an engine's
 * store (a SQLite file or a PostgreSQL URL, storeSource.ts), read-only and
 * without the lease, until the job's latest deployment ends, and exits with
 * its outcome so CI can wait on it (codes in `WatchExit`, docs/cli.md). On a
 * terminal the view is redrawn in place; elsewhere one line is printed each
 * time it changes. The state is restored again only when the store changed.
 */
import { RealClock } from '../../engine/index.js';
import { parseDurationMs } from '../../spec/index.js';
import { InputError, reportError, UsageError } from '../errors.js';
import type { CliIO } from '../io.js';
import { colorsFor } from '../print/colors.js';
import { safeText } from '../print/safeText.js';
import { clock, waitingLine, watchBlock, watchLine } from '../print/watch.js';
import { openStoreSource, UNCHANGED, type StoredState, type StoreSource } from '../storeSource.js';
import { TERMINAL, watchView, type WatchView } from '../watch/view.js';

/** 0 and 2 as for every command; the others say how the deployment ended. */
export const WatchExit = { Completed: 0, RunFailed: 1, BadInput: 2, Failed: 3, RolledBack: 4, Canceled: 5, TimedOut: 6 } as const;

const OUTCOME_CODE: Record<string, number> = { completed: WatchExit.Completed, failed: WatchExit.Failed, rolled_back: WatchExit.RolledBack, canceled: WatchExit.Canceled };

export interface WatchArgs {
  store: string;
  job: string | null;
  /** How often the store is polled (SQLite: a cheap read of its data_version; PostgreSQL: one statement). */
  interval: string;
  /** Give up after this long (exit 6); null waits for the outcome however long it takes. */
  timeout: string | null;
  /** PostgreSQL schema of the store (default fleet_rollout). */
  schema?: string;
}

export async function watchCommand(args: WatchArgs, io: CliIO): Promise<number> {
  try {
    const intervalMs = durationOption('--interval', args.interval);
    const timeoutMs = args.timeout === null ? null : durationOption('--timeout', args.timeout);
    const source = await openStoreSource(args.store, io.cwd, { schema: args.schema });
    try {
      return await follow(source, args, intervalMs, timeoutMs, io);
    } finally {
      await source.close();
    }
  } catch (error) {
    return reportError(error, io);
  }
}

async function follow(source: StoreSource, args: WatchArgs, intervalMs: number, timeoutMs: number | null, io: CliIO): Promise<number> {
  const time = new RealClock();
  const deadline = timeoutMs === null ? null : time.now() + timeoutMs;
  const screen = io.stdout.isTTY ? redrawing(io, source.name) : changedLines(io);
  let state: StoredState | null = null;
  let shownLeader: string | undefined;
  for (;;) {
    const ended = await look();
    if (ended !== null) return ended;
    if (deadline !== null && time.now() >= deadline) {
      io.stderr.write(`fleet-rollout: watch: still not ended after ${safeText(args.timeout ?? '')}; exit ${WatchExit.TimedOut}\n`);
      return WatchExit.TimedOut;
    }
    await new Promise<void>((wake) => time.schedule(time.now() + intervalMs, wake));
  }

  /** Reads the store and shows it when it (or its leader) changed; returns the exit code once the deployment ended. */
  async function look(): Promise<number | null> {
    let read;
    let lease;
    try {
      read = await source.read();
      lease = await source.lease();
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY') return null; // the writer is checkpointing: next tick
      throw error;
    }
    const leader = lease === null ? null : { holder: lease.holder, epoch: lease.epoch };
    // A failover may write nothing for a while: a new leader alone is shown too.
    if (read === UNCHANGED && JSON.stringify(leader) === shownLeader) return null;
    if (read !== UNCHANGED) state = read;
    shownLeader = JSON.stringify(leader);
    const now = time.now();
    const lookup = state === null ? { found: false as const, jobs: [] } : watchView(state, args.job, now, leader);
    if (!lookup.found) {
      if (args.job !== null && lookup.jobs.length > 0) {
        throw InputError.single(source.name, `no deployment of job ${args.job}; jobs in the store: ${lookup.jobs.join(', ')}`);
      }
      screen.waiting(waitingLine(source.name, args.job));
      return null;
    }
    screen.show(lookup.view, now);
    const { state: outcome, id } = lookup.view.status;
    if (!TERMINAL.has(outcome)) return null;
    const code = OUTCOME_CODE[outcome]!;
    io.stdout.write(`${safeText(id)} ended ${outcome}; exit ${code}\n`);
    return code;
  }
}

interface Screen {
  waiting: (line: string) => void;
  show: (view: WatchView, at: number) => void;
}

/** A terminal: the block is drawn again over the previous one. */
function redrawing(io: CliIO, source: string): Screen {
  const colors = colorsFor(io.stdout, io.env);
  let drawn = 0;
  const draw = (lines: string[]): void => {
    const erase = drawn === 0 ? '' : `\x1b[${drawn}F\x1b[J`;
    io.stdout.write(`${erase}${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  return { waiting: (line) => draw([line]), show: (view, at) => draw(watchBlock(view, source, at, colors)) };
}

/** A pipe or a log: a time-stamped line each time the summary changes. */
function changedLines(io: CliIO): Screen {
  let last = '';
  const print = (line: string, at: number | null): void => {
    if (line === last) return;
    last = line;
    io.stdout.write(at === null ? `${line}\n` : `${clock(at)} ${line}\n`);
  };
  return { waiting: (line) => print(line, null), show: (view, at) => print(watchLine(view), at) };
}

function durationOption(flag: string, text: string): number {
  let ms: number;
  try {
    ms = parseDurationMs(text);
  } catch {
    throw new UsageError(`${flag} expects a duration such as 500ms, 2s or 10m, found "${text}"`);
  }
  if (ms <= 0) throw new UsageError(`${flag} must be longer than 0, found "${text}"`);
  return ms;
}
