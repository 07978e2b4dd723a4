/**
 * `--report FILE.html`: where the HTML report goes. Checked before the run,
 * so a path that cannot be written, or one that names an input of the
 * command (the scenario, a JobSpec it reads, the trace file), is bad input
 * reported at once (exit 2, naming the path) and nothing is overwritten.
 */
import { closeSync, openSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { InputError, RunError } from './errors.js';
import type { CliIO } from './io.js';

export interface ReportFile {
  write: (html: string) => void;
  /** The run broke before a report was written: remove the file if this command created it. */
  discard: () => void;
}

/** `inputs` are paths as the user wrote them (relative to the working directory); `-` and undefined are skipped. */
export function openReportFile(file: string, inputs: ReadonlyArray<string | undefined>, io: CliIO): ReportFile {
  const path = resolve(io.cwd, file);
  for (const input of inputs) {
    if (input === undefined || input === '-') continue;
    if (sameFile(path, resolve(io.cwd, input))) throw InputError.single(file, `the report would overwrite the input file ${input}: choose another --report path`);
  }
  const existed = statOrNull(path) !== null;
  try {
    closeSync(openSync(path, 'a')); // creates it or checks it is writable, without truncating
  } catch (error) {
    throw InputError.single(file, `cannot write the report: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let written = false;
  return {
    write: (html) => {
      try {
        writeFileSync(path, html);
        written = true;
      } catch (error) {
        throw new RunError(`${file}: cannot write the report: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    },
    discard: () => {
      if (!existed && !written) unlinkSync(path);
    },
  };
}

/** The same path, or two names of one file (a link, `./a` and `a`). */
function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  const sa = statOrNull(a);
  const sb = statOrNull(b);
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
