/**
 * Progress of a long command on standard error: a bar on a terminal
 * (cli-progress), otherwise a plain line every few seconds so a CI log shows
 * the command is alive. Standard output holds only the result.
 */
import { SingleBar } from 'cli-progress';
import type { CliIO } from './io.js';

export interface Progress {
  /** `done` runs so far, of at most `total` (the total may shrink as candidates drop out). */
  update(done: number, total: number, note: string): void;
  stop(): void;
}

const LINE_EVERY_MS = 5_000;

export function progressOn(io: CliIO, label: string): Progress {
  if (io.stderr.isTTY) {
    const stream = { write: (text: string) => io.stderr.write(text), isTTY: true, columns: 100 };
    const bar = new SingleBar({
      stream: stream as unknown as NodeJS.WritableStream,
      format: `${label} {bar} {value}/{total} runs {note} {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    });
    let started = false;
    return {
      update: (done, total, note) => {
        if (!started) {
          bar.start(total, done, { note });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { note });
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  const start = performance.now();
  let last = start;
  return {
    update: (done, total, note) => {
      const now = performance.now();
      if (now - last < LINE_EVERY_MS) return;
      last = now;
      io.stderr.write(`${label}: ${done}/${total} runs${note === '' ? '' : `, ${note}`}, ${Math.round((now - start) / 1000)} s\n`);
    },
    stop: () => {},
  };
}
