/**
 * How far a long simulation is, on standard error (standard output stays
 * clean for `--json` and `--trace -`). On a terminal a Monte Carlo series
 * shows a bar; otherwise, and for single runs, one line every
 * PROGRESS_INTERVAL_MS of wall time, the first after that long, so short
 * runs print nothing.
 */
import { SingleBar } from 'cli-progress';
import type { ProgressSink } from '../commands/simulate.js';
import type { CliOutput } from '../io.js';
import type { RunProgress } from '../../sim/run.js';
import { compact } from './simulate.js';

export const PROGRESS_INTERVAL_MS = 5_000;

/** `now` is wall-clock milliseconds (injected for tests). */
export function progressReporter(stream: CliOutput, enabled: boolean, now: () => number = () => performance.now()): ProgressSink {
  if (!enabled) return { runs: () => {}, run: () => {}, stop: () => {} };
  const start = now();
  let next = start + PROGRESS_INTERVAL_MS;
  let bar: SingleBar | null = null;
  const due = (): boolean => {
    const t = now();
    if (t < next) return false;
    next = t + PROGRESS_INTERVAL_MS;
    return true;
  };
  const elapsed = (): string => compact(Math.round((now() - start) / 1000));
  return {
    runs(done, total) {
      if (stream.isTTY) {
        bar ??= startBar(stream, total);
        bar.update(done);
        return;
      }
      if (!due() || done === total) return;
      const seconds = (now() - start) / 1000;
      const left = done === 0 ? '' : `, about ${compact(Math.round((seconds / done) * (total - done)))} left`;
      stream.write(`simulate: ${n(done)}/${n(total)} runs (${((100 * done) / total).toFixed(1)}%), ${elapsed()} elapsed${left}\n`);
    },
    run(progress: RunProgress) {
      if (!due()) return;
      const virtual = `virtual time ${compact(progress.now / 1000)} (horizon ${compact(progress.horizon / 1000)})`;
      stream.write(`simulate: ${n(progress.resolved)}/${n(progress.targeted)} nodes resolved, ${virtual}, ${elapsed()} elapsed\n`);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

function startBar(stream: CliOutput, total: number): SingleBar {
  const tty = { write: (text: string) => stream.write(text), isTTY: true, columns: 80 };
  const bar = new SingleBar({
    stream: tty as unknown as NodeJS.WritableStream,
    format: 'simulating {bar} {value}/{total} runs, {eta_formatted} left',
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0);
  return bar;
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}
