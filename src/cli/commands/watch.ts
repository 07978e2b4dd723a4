/**
 * `watch --store PATH [JOB]`: follows a real rollout from an engine's store,
 * read-only, until the job's latest deployment ends, and exits with its
 * outcome so CI can wait on it (codes in `WatchExit`, docs/cli.md). On a
 * terminal the view is redrawn in place; elsewhere one line is printed each
 * time it changes. The store is read again only when its writer committed.
 */
import { RealClock } from '../../engine/index.js';
import { parseDurationMs } from '../../spec/index.js';
import { InputError, reportError, UsageError } from '../errors.js';
import type { CliIO } from '../io.js';
import { colorsFor } from '../print/colors.js';
import { safeText } from '../print/safeText.js';
import { clock, waitingLine, watchBlock, watchLine } from '../print/watch.js';
import { openObserver, type StoreObserver } from '../watch/source.js';
import { TERMINAL, watchView, type WatchView } from '../watch/view.js';

/** 0 and 2 as for every command; the others say how the deployment ended. */
export const WatchExit = { Completed: 0, RunFailed: 1, BadInput: 2, Failed: 3, RolledBack: 4, Canceled: 5, TimedOut: 6 } as const;

const OUTCOME_CODE: Record<string, number> = { completed: WatchExit.Completed, failed: WatchExit.Failed, rolled_back: WatchExit.RolledBack, canceled: WatchExit.Canceled };

export interface WatchArgs {
  store: string;
  job: string | null;
  /** How often the store is polled (a cheap read of SQLite's data_version). */
  interval: string;
  /** Give up after this long (exit 6); null waits for the outcome however long it takes. */
  timeout: string | null;
}

export async function watchCommand(args: WatchArgs, io: CliIO): Promise<number> {
  try {
    const intervalMs = durationOption('--interval', args.interval);
    const timeoutMs = args.timeout === null ? null : durationOption('--timeout', args.timeout);
    const observer = openObserver(args.store, io.cwd);
    try {
      return await follow(observer, args, intervalMs, timeoutMs, io);
    } finally {
      observer.close();
    }
  } catch (error) {
    return reportError(error, io);
  }
}

function follow(observer: StoreObserver, args: WatchArgs, intervalMs: number, timeoutMs: number | null, io: CliIO): Promise<number> {
  const time = new RealClock();
  const deadline = timeoutMs === null ? null : time.now() + timeoutMs;
  const screen = io.stdout.isTTY ? redrawing(io, args.store) : changedLines(io);
  let seen: number | string | null = null;
  return new Promise<number>((resolve, reject) => {
    const tick = (): void => {
      try {
        const ended = look();
        if (ended !== null) return resolve(ended);
        if (deadline !== null && time.now() >= deadline) {
          io.stderr.write(`fleet-rollout: watch: still not ended after ${safeText(args.timeout ?? '')}; exit ${WatchExit.TimedOut}\n`);
          return resolve(WatchExit.TimedOut);
        }
        time.schedule(time.now() + intervalMs, tick);
      } catch (error) {
        reject(error);
      }
    };
    tick();
  });

  /** Reads the store when it changed; returns the exit code once the deployment ended. */
  function look(): number | null {
    let state;
    try {
      const version = observer.version();
      if (version === seen) return null;
      state = observer.load();
      seen = version;
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY') return null; // the writer is checkpointing: next tick
      throw error;
    }
    const now = time.now();
    const lookup = state === null ? { found: false as const, jobs: [] } : watchView(state, args.job, now);
    if (!lookup.found) {
      if (args.job !== null && lookup.jobs.length > 0) {
        throw InputError.single(args.store, `no deployment of job ${args.job}; jobs in the store: ${lookup.jobs.join(', ')}`);
      }
      screen.waiting(waitingLine(args.store, args.job));
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
